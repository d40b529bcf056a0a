"""The PETRARCH-2/Phoenix conversion (tools/convert_petrarch.py): the committed data is
what the converter writes, and the converted entries mean what the dictionaries say."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pipeline.coding import default_coder
from pipeline.coding.dictionary import ActorDictionary, default_actors_dir, tokens_of
from pipeline.coding.rules import generated_rules_path, load_rules

ROOT = Path(__file__).resolve().parent.parent
GENERATED = [
    ("actors", "phoenix_actors.tsv"),
    ("actors", "phoenix_sectors.tsv"),
    ("actors", "LICENSE.petrarch2"),
    ("coder", "petrarch_triggers.jsonl"),
    ("coder", "petrarch_discards.tsv"),
    ("coder", "LICENSE.petrarch2"),
]


@pytest.fixture(scope="module")
def converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "convert_petrarch", ROOT / "tools" / "convert_petrarch.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["convert_petrarch"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_committed_data_is_what_the_converter_writes(converter: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "actors").mkdir()
    (tmp_path / "coder").mkdir()
    counts = converter.convert(converter.SOURCE, tmp_path / "actors", tmp_path / "coder")
    assert counts["phoenix_actors.tsv"] > 30_000 and counts["petrarch_triggers.jsonl"] > 4_000
    for sub, name in GENERATED:
        built = (tmp_path / sub / name).read_bytes()
        committed = (ROOT / "pipeline" / "data" / sub / name).read_bytes()
        assert built == committed, f"{sub}/{name} is stale: run `make petrarch-data`"


def test_dates_and_two_digit_years(converter: ModuleType) -> None:
    assert converter.iso_date("930120") == "1993-01-20"
    assert converter.iso_date("070723") == "2007-07-23"
    assert converter.iso_date("19270101") == "1927-01-01"
    ranges = converter.parse_codes("[USAGOV 930120-010120] [USAELI >010120] [AFG]")
    assert [(r.code, r.start, r.end) for r in ranges] == [
        ("USAGOV", "1993-01-20", "2001-01-20"),
        ("USAELI", "2001-01-20", ""),
        ("AFG", "", ""),
    ]


def test_phoenix_codes_split_into_country_and_sector(converter: ModuleType) -> None:
    assert converter.split_code("USAGOVMIL") == ("USA", "GOV")
    assert converter.split_code("IGOEUREEC") == ("", "")
    assert converter.split_code("WEUREB") == ("", "REB")  # a region, not a country
    assert converter.split_code("PSEREBHMS") == ("PSE", "REB")


def test_a_pattern_becomes_a_rule_with_its_conditions(converter: ModuleType) -> None:
    block = converter.Block("ASK", "---", [("ask", "020"), ("request", "")])
    synsets = {"&CEASEFIRE": ["truce", "cease fire"]}
    rule = converter.pattern_rule(block, "* (FOR &CEASEFIRE)", "0256", synsets, 1)
    assert rule["lemma"] == ["ask", "request"] and rule["cameo"] == "0256"
    assert rule["prep_all"] == [{"prep": "for", "words": [["cease fire", "truce"]]}]
    assert converter.pattern_rule(block, "EARTHQUAKE *", "---", synsets, 2)["cameo"] is None
    visit = converter.pattern_rule(block, "* (TO)", "042:043", synsets, 3)
    assert (visit["cameo"], visit["reverse"], visit["target"][0]) == ("042", "043", "to")


def test_generated_rules_load_and_cover_the_verb_dictionary() -> None:
    rules = load_rules(generated_rules_path())
    lemmas = {lemma for r in rules for lemma in r.lemmas}
    for verb in ("telephone", "shell", "deport", "expel", "renew", "engage", "lift", "call off"):
        assert verb in lemmas, verb
    assert all(r.source == "petrarch" for r in rules)
    assert any(r.cameo is None for r in rules)  # no-event patterns are kept


@pytest.fixture(scope="module")
def actors() -> ActorDictionary:
    return ActorDictionary(default_actors_dir())


def _person(actors: ActorDictionary, text: str, when: date) -> tuple[str, str]:
    toks = tokens_of(text)
    hits = actors.match(toks, tokens_of(text, lower=False))
    entry = actors.person_entries([h.entry for h in hits if h.start == 0], when)
    assert entry is not None, text
    return entry.country, entry.sector


def test_dated_office_holders_back_to_the_1940s(actors: ActorDictionary) -> None:
    assert _person(actors, "President Clinton", date(1995, 6, 1)) == ("USA", "GOV")
    assert _person(actors, "President Clinton", date(2005, 6, 1)) == ("USA", "ELI")
    assert _person(actors, "President Bush", date(1991, 2, 1)) == ("USA", "GOV")
    assert _person(actors, "President Bush", date(2008, 2, 1)) == ("USA", "GOV")
    assert _person(actors, "the Reagan administration", date(1985, 2, 1)) == ("USA", "GOV")
    assert _person(actors, "Harry Truman", date(1948, 2, 1)) == ("USA", "GOV")
    # The hand-written table is newer and wins from its first term on.
    assert _person(actors, "Donald Trump", date(2019, 2, 1)) == ("USA", "GOV")
    assert _person(actors, "Donald Trump", date(2022, 2, 1)) == ("USA", "ELI")


def test_a_title_and_a_surname_find_the_office_holder_of_the_day(
    nlp: Any, actors: ActorDictionary
) -> None:
    thatcher = actors.office_holder("thatcher", date(1982, 4, 5))
    assert thatcher is not None and (thatcher.name, thatcher.sector) == ("Margaret Thatcher", "GOV")
    assert actors.office_holder("thatcher", date(1975, 1, 1)) is None  # no office then
    assert actors.office_holder("mitterrand", date(1989, 1, 1), "GBR") is None  # wrong country
    coder = default_coder()
    text = "Prime Minister Thatcher met President Mitterrand. The Soviet Union protested."
    events = coder.code_doc(nlp(text), article_id="t", published=date(1984, 5, 1))
    pairs = {(e.source.code, e.target.code if e.target else "") for e in events}
    assert ("GBRGOV", "FRAGOV") in pairs
    assert any(e.source.code == "SUN" for e in events)  # not a trade union (LAB)


@pytest.mark.parametrize(
    ("phrase", "code"),
    [
        ("the European Union", "IGOEUREEC"),
        ("European Commission", "IGOEUREEC"),
        ("NATO", "IGOWSTNAT"),
        ("al-Shabab", "SOMREB"),
        ("Boko Haram", "NGAREB"),
        ("Interpol", "IGOCOPITP"),
    ],
)
def test_organisations_carry_phoenix_codes(actors: ActorDictionary, phrase: str, code: str) -> None:
    hits = actors.match(tokens_of(phrase), tokens_of(phrase, lower=False))
    assert hits and hits[0].entry.code == code


@pytest.mark.parametrize(
    ("words", "sector"),
    [("protesters", "OPP"), ("activists", "OPP"), ("students", "EDU"), ("police", "COP"),
     ("troops", "MIL"), ("insurgents", "REB"), ("gunmen", "UAF")],
)  # fmt: skip
def test_agent_words_give_sectors(actors: ActorDictionary, words: str, sector: str) -> None:
    assert actors.sector_of(tokens_of(words)) == sector


def test_generated_data_carries_the_mit_notice() -> None:
    for sub in ("actors", "coder"):
        notice = (ROOT / "pipeline" / "data" / sub / "LICENSE.petrarch2").read_text()
        assert "MIT" in notice or "Permission is hereby granted" in notice
    first = generated_rules_path().read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# Generated by tools/convert_petrarch.py")
    json.loads(generated_rules_path().read_text().splitlines()[1])
