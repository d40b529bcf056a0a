"""Event locations: the most specific place the text supports for each event.

In order (docs/GEO.md):
1. the place attached to the trigger ("in", "at", "near", "outside"), as the coder read
   it: source `sentence`;
2. the target, when it is a place ("shelled Kharkiv", "bombed Idlib"): source `target`.
   For threats, force, assaults and fighting (CAMEO roots 15, 17-20) any place target
   counts; for other events a named country or capital as target is the government
   ("sanctions on Moscow"), not where it happened, so only other places count;
3. another place in the same sentence that is not an actor, the most specific first:
   source `sentence`;
4. the dateline's place (`dateline`), else the article's main place (`article`): the
   place it names most, at least twice, else the country it names most.

`location_precision` says what the point stands for (city, admin2, admin1, region,
country): a country-level location is a country's centre, never a city.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from pipeline.records import Event, PlaceMention

_FORCE_ROOTS = frozenset({"15", "17", "18", "19", "20"})
_SPECIFIC = {"city": 0, "admin2": 1, "admin1": 2, "region": 3, "country": 4}


def _resolved(p: PlaceMention) -> bool:
    return p.name is not None and p.latitude is not None


def main_place(places: Sequence[PlaceMention]) -> tuple[PlaceMention | None, str]:
    """The article's own place: the dateline's, else the one it names most."""
    resolved = [p for p in places if _resolved(p)]
    dateline = [p for p in resolved if p.label == "DATELINE"]
    if dateline:
        return min(dateline, key=lambda p: _SPECIFIC.get(p.precision or "", 9)), "dateline"
    local = Counter(p.name for p in resolved if p.precision != "country")
    if local:
        name, n = local.most_common(1)[0]
        if n >= 2:
            return next(p for p in resolved if p.name == name), "article"
    countries = Counter(p.name for p in resolved if p.precision == "country")
    if countries:
        name, _ = countries.most_common(1)[0]
        return next(p for p in resolved if p.name == name), "article"
    return None, ""


def _overlaps(p: PlaceMention, start: int, end: int) -> bool:
    return p.start_char < end and p.end_char > start


def _set(event: Event, place: PlaceMention | None, source: str | None) -> Event:
    if place is None:
        return dataclasses.replace(
            event, location=None, location_country=None, latitude=None, longitude=None,
            location_precision=None, location_source=None, location_geonames_id=None,
            location_place_idx=None,
        )  # fmt: skip
    return dataclasses.replace(
        event, location=place.name, location_country=place.country,
        latitude=place.latitude, longitude=place.longitude,
        location_precision=place.precision, location_source=source,
        location_geonames_id=place.geonames_id, location_place_idx=place.place_idx,
    )  # fmt: skip


def locate_events(events: Sequence[Event], places: Sequence[PlaceMention], doc: Any) -> list[Event]:
    """The events with their location columns filled from the article's place mentions."""
    if not events:
        return []
    starts = [s.start_char for s in doc.sents]
    in_sentence: dict[int, list[PlaceMention]] = defaultdict(list)
    for p in places:
        if _resolved(p):
            in_sentence[p.sentence_idx].append(p)
    fallback, fallback_source = main_place(places)
    out = []
    for event in events:
        base = starts[event.sentence_idx] if event.sentence_idx < len(starts) else 0
        here = in_sentence.get(event.sentence_idx, [])
        actor_spans = [
            (base + a.start_char, base + a.end_char)
            for a in (event.source, event.target)
            if a is not None and a.end_char > a.start_char
        ]
        place, source = None, None
        # 1. attached to the trigger
        if event.location:
            wanted = event.location.strip()
            place = next((p for p in here if p.text == wanted or p.text in wanted), None)
            source = "sentence" if place else None
        # 2. the target is a place
        target = event.target
        if place is None and target is not None and target.end_char > target.start_char:
            ts, te = base + target.start_char, base + target.end_char
            hits = [p for p in here if _overlaps(p, ts, te)]
            if event.root_code not in _FORCE_ROOTS:
                hits = [p for p in hits if p.precision != "country" and p.feature_code != "PPLC"]
            if hits:
                place = min(hits, key=lambda p: _SPECIFIC.get(p.precision or "", 9))
                source = "target"
        # 3. another place in the sentence, not an actor
        if place is None:
            free = [p for p in here if not any(_overlaps(p, s, e) for s, e in actor_spans)]
            trigger = base + event.trigger_start
            if free:
                place = min(free, key=lambda p: (_SPECIFIC.get(p.precision or "", 9),
                                                 abs(p.start_char - trigger)))  # fmt: skip
                source = "sentence"
        # 4. the dateline, or the article's main place
        if place is None and fallback is not None:
            place, source = fallback, fallback_source
        out.append(_set(event, place, source))
    return out
