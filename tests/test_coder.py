"""The event coder on single sentences, with the real spaCy parse.

These pin the behaviour the pipeline's events table relies on: actors resolved to
CAMEO-style codes (or left empty, never guessed), the code tables applied, modality,
dates and provenance.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pipeline.coding import CODER_VERSION, EventCoder, default_coder
from pipeline.coding.codes import load_codes
from pipeline.coding.rules import load_rules
from pipeline.records import Event

PUBLISHED = date(2025, 11, 2)  # a Sunday


@pytest.fixture(scope="module")
def coder() -> EventCoder:
    return default_coder()


def code(nlp: Any, coder: EventCoder, text: str) -> list[Event]:
    return coder.code_doc(nlp(text), article_id="a", published=PUBLISHED)


def triples(events: list[Event]) -> set[tuple[str, str, str]]:
    return {(e.source.code, e.cameo_code, e.target.code if e.target else "") for e in events}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russia attacked Ukraine.", ("RUS", "190", "UKR")),
        ("Ukraine was attacked by Russia.", ("RUS", "190", "UKR")),  # passive
        ("Beijing accused Washington of meddling.", ("CHN", "112", "USA")),  # metonymy
        ("The Kremlin condemned NATO.", ("RUSGOV", "111", "IGOWSTNAT")),
        ("The United States imposed sanctions on Iran.", ("USA", "163", "IRN")),  # noun
        ("Russian forces attacked Ukraine.", ("RUSMIL", "190", "UKR")),  # demonym + sector
        ("The African Union suspended Niger.", ("IGOAFU", "160", "NER")),  # a member suspended
        (
            "Japanese Foreign Minister Takeshi Ono met with his South Korean counterpart.",
            ("JPNGOV", "040", "KOR"),  # title, prepositional target
        ),
    ],
)
def test_who_did_what_to_whom(nlp: Any, coder: EventCoder, text: str, expected: Any) -> None:
    assert expected in triples(code(nlp, coder, text))


def test_coordinated_actors_give_both_directions(nlp: Any, coder: EventCoder) -> None:
    got = triples(code(nlp, coder, "France and Germany signed an agreement."))
    assert {("FRA", "057", "DEU"), ("DEU", "057", "FRA")} <= got


def test_several_events_in_one_sentence(nlp: Any, coder: EventCoder) -> None:
    got = triples(code(nlp, coder, "The EU imposed new sanctions on Russia and praised Ukraine."))
    assert {("IGOEUREEC", "163", "RUS"), ("IGOEUREEC", "051", "UKR")} <= got


def test_negation_is_not_a_meeting(nlp: Any, coder: EventCoder) -> None:
    events = code(nlp, coder, "Iran did not meet the IAEA inspectors.")
    assert events and all(e.modality == "negated" for e in events)


def test_future_visit_is_intent_to_meet(nlp: Any, coder: EventCoder) -> None:
    events = code(nlp, coder, "Macron will visit India.")
    assert [(e.source.code, e.cameo_code, e.modality) for e in events] == [
        ("FRAGOV", "036", "intended")
    ]
    assert events[0].target is not None and events[0].target.code == "IND"


def test_surname_inherits_role_from_earlier_mention(nlp: Any, coder: EventCoder) -> None:
    text = (
        "Indian Prime Minister Narendra Modi met Xi Jinping in Beijing. "
        "Modi later criticized Pakistan."
    )
    got = triples(code(nlp, coder, text))
    assert ("INDGOV", "040", "CHNGOV") in got
    assert ("INDGOV", "111", "PAK") in got


def test_reported_pronoun_takes_the_reporter(nlp: Any, coder: EventCoder) -> None:
    text = "President Trump announced that he would visit China in April."
    events = code(nlp, coder, text)
    assert ("USAGOV", "036", "CHN") in triples(events)
    visit = next(e for e in events if e.cameo_code == "036")
    assert visit.event_date == date(2026, 4, 1) and visit.date_precision == "month"


def test_office_holder_after_term_is_a_former_office_holder(nlp: Any, coder: EventCoder) -> None:
    during = code(nlp, coder, "Biden met Xi in November 2023.")
    assert ("USAGOV", "040", "CHNGOV") in triples(during)
    after = code(nlp, coder, "Biden criticized China.")  # published 2025: no longer president
    assert ("USAELI", "111", "CHN") in triples(after)  # a former office-holder, as Phoenix codes


def test_capitalised_acronyms_only(nlp: Any, coder: EventCoder) -> None:
    assert not any(
        e.source.code == "IGOUNOHLHWHO" for e in code(nlp, coder, "The leaders who met agreed.")
    )


def test_unresolved_actor_keeps_text_and_empty_code(nlp: Any, coder: EventCoder) -> None:
    events = code(nlp, coder, "Russia accused a man called Zorkin of lying.")
    assert events and events[0].source.code == "RUS"
    assert events[0].target is not None
    assert events[0].target.code == "" and events[0].target.text == "a man"


def test_role_only_actor_is_written_with_dashes(nlp: Any, coder: EventCoder) -> None:
    events = code(nlp, coder, "Insurgents ambushed a convoy of Chinese engineers.")
    assert events and events[0].source.code == "---REB" and events[0].source.country == ""
    assert events[0].target is not None and events[0].target.code.startswith("CHN")


def test_event_dates_and_places(nlp: Any, coder: EventCoder) -> None:
    events = code(nlp, coder, "President Trump and Xi met in South Korea on October 30.")
    meeting = next(e for e in events if e.source.code == "USAGOV")
    assert meeting.event_date == date(2025, 10, 30) and meeting.date_source == "text"
    assert meeting.location == "South Korea" and meeting.location_country == "KOR"
    plain = code(nlp, coder, "Russia attacked Ukraine.")[0]
    assert plain.event_date == PUBLISHED and plain.date_source == "published"


def test_code_table_fields_and_provenance(nlp: Any, coder: EventCoder) -> None:
    text = "Officials said so. Beijing accused Washington of meddling."
    event = next(e for e in code(nlp, coder, text) if e.cameo_code == "112")
    assert (event.root_code, event.root_name, event.plover) == ("11", "Disapprove", "ACCUSE")
    assert (event.quad_class, event.goldstein) == (3, -2.0)
    assert event.sentence_idx == 1 and event.sentence.startswith("Beijing")
    assert event.sentence[event.trigger_start : event.trigger_end] == "accused"
    assert event.sentence[event.source.start_char : event.source.end_char] == "Beijing"
    assert event.target is not None
    assert event.sentence[event.target.start_char : event.target.end_char] == "Washington"
    assert event.coder_version.startswith(CODER_VERSION + "+")


def test_rules_and_code_tables_are_consistent() -> None:
    codes, rules = load_codes(), load_rules()
    assert len(codes) >= 300 and {c.root for c in codes.values()} == {
        f"{n:02d}" for n in range(1, 21)
    }
    assert {r.cameo for r in rules} <= set(codes)
    assert len({r.id for r in rules}) == len(rules)


def test_event_place_gets_coordinates_from_the_gazetteer(nlp: Any, coder: EventCoder) -> None:
    event = code(nlp, coder, "Russia and Ukraine held talks in Istanbul.")[0]
    assert (event.location, event.location_country) == ("Istanbul", "TUR")
    assert event.latitude is not None and event.longitude is not None
    assert abs(event.latitude - 41.01) < 0.1 and abs(event.longitude - 28.95) < 0.1
    country_level = next(e for e in code(nlp, coder, "Hegseth met Dong in Malaysia.") if e.location)
    assert country_level.location_country == "MYS"
    assert country_level.latitude is not None and 0 < country_level.latitude < 8


def test_unknown_place_keeps_its_name_without_coordinates(nlp: Any, coder: EventCoder) -> None:
    event = code(nlp, coder, "China accused the Philippines of provocations at Scarborough Shoal.")
    located = [e for e in event if e.location]
    assert all(e.latitude is None for e in located if e.location_country is None)


def test_users_extend_actors_and_triggers_without_code(
    nlp: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from pipeline.coding import CoderFiles, load_coder
    from pipeline.coding.rules import default_rules_path
    from pipeline.config import load_settings
    from pipeline.run import coder_for
    from pipeline.tag import nlp_for

    actors = tmp_path / "actors"
    shutil.copytree(default_coder().dictionary.directory, actors)
    with (actors / "organisations.tsv").open("a", encoding="utf-8") as handle:
        handle.write("IGOZZZ\tNorthern Fisheries Compact\tthe Compact|NFC\t\n")
    rules = tmp_path / "triggers.jsonl"
    rules.write_text(
        default_rules_path().read_text(encoding="utf-8")
        + '{"id": "reject.stonewall", "lemma": ["stonewall"], "pos": "VERB", "cameo": "120", '
        '"target": ["dobj"]}\n',
        encoding="utf-8",
    )
    text = "The Northern Fisheries Compact stonewalled Norway."
    assert not code(nlp, default_coder(), text)
    monkeypatch.setenv("NEWS_ACTORS_DIR", str(actors))
    monkeypatch.setenv("NEWS_TRIGGERS", str(rules))
    settings = load_settings(None)
    custom = coder_for(settings)
    assert custom is load_coder("rules", CoderFiles(str(actors), str(rules)))
    # The pipeline for this coder: its sentence filter knows the new trigger.
    assert triples(code(nlp_for(settings, custom), custom, text)) == {("IGOZZZ", "120", "NOR")}
    assert custom.version != default_coder().version  # new data, new version stamp


def test_word_tables_reject_missing_and_unknown_keys(tmp_path: Any) -> None:
    import json

    from pipeline.coding.conventions import default_conventions_path, load_conventions

    data = json.loads(default_conventions_path().read_text(encoding="utf-8"))
    assert load_conventions(None).agree_verbs  # the shipped file loads
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({**data, "agre_verbs": ["concur"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown conventions file keys \\['agre_verbs'\\]"):
        load_conventions(str(typo))
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({k: v for k, v in data.items() if k != "agree_verbs"}))
    with pytest.raises(ValueError, match="missing key 'agree_verbs'"):
        load_conventions(str(missing))


def test_version_digest_covers_every_data_file_that_affects_coding() -> None:
    from pipeline.coding.rule_coder import coder_data_files
    from pipeline.coding.rules import default_rules_path, generated_rules_path

    coder = default_coder()
    names = {p.name for p in coder_data_files([default_rules_path(), generated_rules_path()],
                                               coder.dictionary)}  # fmt: skip
    assert {"triggers.jsonl", "petrarch_triggers.jsonl", "lexicon.json", "conventions.json",
            "cameo_codes.tsv", "gazetteer.tsv.gz", "petrarch_discards.tsv", "countries.tsv",
            "phoenix_actors.tsv", "office_holders.tsv"} <= names  # fmt: skip
