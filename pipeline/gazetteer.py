"""Offline gazetteer: a place name to its country and coordinates.

Data: pipeline/data/gazetteer/places.tsv.gz (GeoNames, CC BY 4.0; see the README there).
A name that several places share resolves to the most populous, unless a country is
given; countries resolve to the population-weighted centre of their cities.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Place:
    name: str
    country: str  # ISO 3166 alpha-3
    latitude: float
    longitude: float
    kind: str  # city | country


class Gazetteer:
    def __init__(self, path: Path) -> None:
        self.by_name: dict[str, list[tuple[int, Place]]] = {}
        self.countries: dict[str, Place] = {}
        with gzip.open(path, "rb") as raw:
            reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"), delimiter="\t")
            for row in reader:
                place = Place(
                    row["name"], row["country"], float(row["latitude"]),
                    float(row["longitude"]), row["kind"],
                )  # fmt: skip
                if place.kind == "country":
                    self.countries[place.country] = place
                self.by_name.setdefault(row["name"].lower(), []).append(
                    (int(row["population"]), place)
                )
        for places in self.by_name.values():
            places.sort(key=lambda p: (p[1].kind != "country", -p[0]))

    def locate(self, name: str, country: str | None = None) -> Place | None:
        """The place called `name` (in `country`, when given)."""
        key = " ".join(name.split()).lower().removeprefix("the ")
        candidates = self.by_name.get(key, [])
        for _, place in candidates:
            if country is None or place.country == country:
                return place
        if country and not candidates:
            return None
        return candidates[0][1] if candidates and country is None else None

    def country(self, iso3: str) -> Place | None:
        return self.countries.get(iso3)


def default_gazetteer_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "gazetteer" / "places.tsv.gz"))


@cache
def load_gazetteer() -> Gazetteer:
    return Gazetteer(default_gazetteer_path())
