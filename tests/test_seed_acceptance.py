"""Acceptance: the seed article a user handed us, coded end to end with the real model.

At least 10 of the 14 events an analyst expects must be found, and no event may carry a
wrong country: actors are resolved correctly or left empty.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipeline.coding import default_coder
from pipeline.records import Event

SEED = (Path(__file__).parent / "data" / "seed_article.txt").read_text(encoding="utf-8")

# (number, words of its sentence, source country, target country, allowed roots,
#  both directions allowed, extra check)
EXPECTED: list[tuple[int, str, str, str, set[str], bool, Any]] = [
    (1, "military-to-military channels", "USA", "CHN", {"03", "05"}, True, None),
    (2, "historic", "USA", "CHN", {"04"}, True, None),  # Trump-Xi "historic" meeting
    (3, "phone call", "USA", "CHN", {"04"}, True, None),  # Hegseth-Dong phone call
    (4, "sidelines", "USA", "CHN", {"04"}, True, lambda e: e.location_country == "MYS"),
    (5, "sever", "CHN", "USA", {"16"}, False, None),
    (6, "Pelosi visited", "USA", "TWN", {"04"}, False, None),
    (7, "accusing its rival", "CHN", "USA", {"11"}, False, None),
    (
        8,
        "November 2023",
        "USA",
        "CHN",
        {"04"},
        True,
        lambda e: e.event_date and e.event_date.year == 2023 and e.event_date.month == 11,
    ),
    (
        9,
        "resume high-level",
        "USA",
        "CHN",
        {"03", "05"},
        True,
        None,
    ),  # agreed to resume communications
    (10, "October 30", "USA", "CHN", {"04"}, True, lambda e: e.event_date == date(2025, 10, 30)),
    (11, "easing tariffs", "USA", "CHN", {"08"}, False, None),
    (12, "rare earth", "CHN", "USA", {"03", "05", "06"}, False, None),
    (13, "would visit China", "USA", "CHN", {"03"}, False, lambda e: e.cameo_code == "036"),
    (14, "urged the United States", "CHN", "USA", {"02", "10"}, False, None),
]
ALLOWED_COUNTRIES = {"USA", "CHN", "TWN", "MYS", "KOR", ""}


@pytest.fixture(scope="module")
def seed_events(nlp_mode: Any) -> list[Event]:
    """With the sentence filter, and with every sentence parsed."""
    doc = nlp_mode(SEED)
    return default_coder().code_doc(doc, article_id="seed", published=date(2025, 11, 2))


def _matches(
    event: Event, clue: str, src: str, tgt: str, roots: set[str], both: bool, check: Any
) -> bool:
    if clue not in event.sentence:
        return False
    if event.modality not in {"asserted", "intended"} or event.root_code not in roots:
        return False
    pair = (event.source.country, event.target.country if event.target else "")
    if pair != (src, tgt) and not (both and pair == (tgt, src)):
        return False
    return check is None or bool(check(event))


def test_at_least_ten_of_fourteen_expected_events(seed_events: list[Event]) -> None:
    found = [n for n, *spec in EXPECTED if any(_matches(e, *spec) for e in seed_events)]
    missing = sorted({n for n, *_ in EXPECTED} - set(found))
    assert len(found) >= 10, f"found {found}, missing {missing}"


def test_no_event_carries_a_wrong_country(seed_events: list[Event]) -> None:
    for event in seed_events:
        countries = {event.source.country, event.target.country if event.target else ""}
        assert countries <= ALLOWED_COUNTRIES, (event.sentence, countries)


def test_seed_events_are_fully_filled(seed_events: list[Event]) -> None:
    for event in seed_events:
        assert event.cameo_code and event.root_code and event.root_name
        assert event.event_date is not None and event.date_source in {"text", "published"}
        assert event.sentence[event.trigger_start : event.trigger_end] == event.trigger
        assert event.coder_version
