"""Score the geoparser and the event locations against a geoparsing gold file.

A gold line: {"id", "text", "published"?, "feed_country"?, "toponyms": [{"text",
"occurrence", "geonames_id", "name", "country" (ISO2), "lat", "lon", "kind"}]}, written by
annotators from docs/GEO.md's guide (tests/data/geo_gold.jsonl). `newsevents eval-geo`
prints these figures; tests/test_geo_quality.py holds the floors.

- Toponyms: how many gold toponyms a mention overlaps (found), how many of those resolve,
  and how many land within 161 km (100 miles, the usual geoparsing yardstick) of the gold
  point (a country toponym counts as right when it resolves to that country); the same
  for the sub-national ones (cities, divisions, facilities); and the share in the right
  country.
- Events: the share of coded events with a location, by precision and source; and for
  events located at a sub-national place that is a gold toponym, the share within 161 km.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.coding import EventCoder
from pipeline.geo.gazetteer import haversine_km, load_gazetteer
from pipeline.records import PlaceMention

KM = 161.0
SUBNATIONAL = frozenset({"city", "admin1", "admin2", "facility"})


@dataclass
class GoldToponym:
    start: int
    end: int
    lat: float
    lon: float
    kind: str
    country: str | None  # ISO3
    name: str


def gold_toponyms(item: dict[str, Any]) -> list[GoldToponym]:
    """The gold toponyms of an item, with character offsets (the n-th occurrence of the
    string, counting every appearance)."""
    text, out = item["text"], []
    gazetteer = load_gazetteer()
    for t in item["toponyms"]:
        at = -1
        for _ in range(int(t["occurrence"])):
            at = text.find(t["text"], at + 1)
            if at < 0:
                raise ValueError(f"{item['id']}: {t['text']!r} #{t['occurrence']} not in text")
        out.append(GoldToponym(at, at + len(t["text"]), float(t["lat"]), float(t["lon"]),
                               t["kind"], gazetteer.iso3(t.get("country")),
                               t.get("name") or t["text"]))  # fmt: skip
    return out


@dataclass
class GeoScores:
    articles: int = 0
    toponyms: int = 0
    found: int = 0  # a mention overlaps it
    resolved: int = 0  # ... and has coordinates
    within: int = 0  # ... within 161 km
    country_checked: int = 0
    country_right: int = 0
    sub_toponyms: int = 0
    sub_resolved: int = 0
    sub_within: int = 0
    events: int = 0
    located: int = 0
    precision: Counter[str] = field(default_factory=Counter)
    source: Counter[str] = field(default_factory=Counter)
    mentions: int = 0  # resolved place mentions
    spurious: int = 0  # ... that overlap no gold toponym
    event_sub: int = 0  # located at a sub-national gold toponym
    event_sub_within: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Resolved toponyms within 161 km of the gold point."""
        return self.within / self.resolved if self.resolved else 0.0

    @property
    def recall(self) -> float:
        """Gold toponyms found, resolved and within 161 km."""
        return self.within / self.toponyms if self.toponyms else 0.0

    @property
    def mention_precision(self) -> float:
        """Resolved mentions that are gold toponyms."""
        return 1 - self.spurious / self.mentions if self.mentions else 0.0

    @property
    def sub_accuracy(self) -> float:
        return self.sub_within / self.sub_resolved if self.sub_resolved else 0.0

    @property
    def country_accuracy(self) -> float:
        return self.country_right / self.country_checked if self.country_checked else 0.0

    @property
    def located_share(self) -> float:
        return self.located / self.events if self.events else 0.0

    @property
    def event_sub_accuracy(self) -> float:
        return self.event_sub_within / self.event_sub if self.event_sub else 0.0


def _match(gold: GoldToponym, places: Sequence[PlaceMention]) -> PlaceMention | None:
    best, overlap = None, 0
    for p in places:
        o = min(gold.end, p.end_char) - max(gold.start, p.start_char)
        if o > overlap:
            best, overlap = p, o
    return best


def score_item(item: dict[str, Any], places: Sequence[PlaceMention], events: Sequence[Any],
               scores: GeoScores) -> None:  # fmt: skip
    gold = gold_toponyms(item)
    scores.articles += 1
    for g in gold:
        scores.toponyms += 1
        sub = g.kind in SUBNATIONAL
        scores.sub_toponyms += sub
        p = _match(g, places)
        if p is None:
            scores.misses.append(f"{item['id']} {item['text'][g.start : g.end]!r}: not found")
            continue
        scores.found += 1
        if p.latitude is None or p.longitude is None:
            scores.misses.append(f"{item['id']} {p.text!r}: {p.reason}")
            continue
        scores.resolved += 1
        scores.sub_resolved += sub
        d = haversine_km(g.lat, g.lon, p.latitude, p.longitude)
        if g.kind == "country" and p.precision == "country" and g.country:
            # A country is right when it is the right country: its centre is a matter of
            # convention (ours is population-weighted, an annotator's is the map's).
            d = 0.0 if p.country == g.country else d
        if d <= KM:
            scores.within += 1
            scores.sub_within += sub
        else:
            scores.misses.append(f"{item['id']} {p.text!r}: {p.name} {p.country} "
                                 f"({p.method}) is {d:,.0f} km from {g.name}")  # fmt: skip
        if g.country and p.country:
            scores.country_checked += 1
            scores.country_right += g.country == p.country
    for p in places:
        if p.latitude is None:
            continue
        scores.mentions += 1
        if not any(g.start < p.end_char and g.end > p.start_char for g in gold):
            scores.spurious += 1
            scores.misses.append(f"{item['id']} {p.text!r}: spurious ({p.label}, {p.name})")
    by_idx = {p.place_idx: p for p in places}
    for e in events:
        scores.events += 1
        if e.latitude is None:
            continue
        scores.located += 1
        scores.precision[e.location_precision or "?"] += 1
        scores.source[e.location_source or "?"] += 1
        place = by_idx.get(e.location_place_idx)
        if place is None or e.location_precision not in {"city", "admin1", "admin2"}:
            continue
        at = next((g for g in gold if g.start < place.end_char and g.end > place.start_char), None)
        if at is None or at.kind not in SUBNATIONAL:
            continue
        scores.event_sub += 1
        scores.event_sub_within += haversine_km(at.lat, at.lon, e.latitude, e.longitude) <= KM


def read_gold(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def evaluate_geo(items: Sequence[dict[str, Any]], nlp: Any, coder: EventCoder) -> GeoScores:
    from pipeline.evaluate import analyse_items

    gazetteer = load_gazetteer()
    inputs = [
        {"id": i["id"], "text": i["text"], "date": i.get("published"),
         "feed_country": gazetteer.iso3(i.get("feed_country"))}
        for i in items
    ]  # fmt: skip
    scores = GeoScores()
    for item, analysis in zip(items, analyse_items(inputs, nlp, coder), strict=True):
        score_item(item, analysis.places, analysis.events, scores)
    return scores


def format_geo_scores(s: GeoScores) -> str:
    def pct(x: float) -> str:
        return f"{x:.3f}"

    lines = [
        f"articles {s.articles}, gold toponyms {s.toponyms} ({s.sub_toponyms} sub-national)",
        f"found {s.found} ({pct(s.found / s.toponyms if s.toponyms else 0)}), "
        f"resolved {s.resolved}",
        f"resolved mentions that are toponyms {pct(s.mention_precision)}  "
        f"({s.mentions - s.spurious}/{s.mentions})",
        f"accuracy@161km (resolved)      {pct(s.accuracy)}  ({s.within}/{s.resolved})",
        f"accuracy@161km (all toponyms)  {pct(s.recall)}",
        f"sub-national accuracy@161km    {pct(s.sub_accuracy)}  ({s.sub_within}/{s.sub_resolved})",
        f"country accuracy               {pct(s.country_accuracy)}  "
        f"({s.country_right}/{s.country_checked})",
        f"events located                 {pct(s.located_share)}  ({s.located}/{s.events})",
        "  by precision: " + ", ".join(f"{k} {n}" for k, n in s.precision.most_common()),
        "  by source:    " + ", ".join(f"{k} {n}" for k, n in s.source.most_common()),
        f"event sub-national @161km      {pct(s.event_sub_accuracy)}  "
        f"({s.event_sub_within}/{s.event_sub})",
    ]
    return "\n".join(lines)
