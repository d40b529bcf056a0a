"""The article as context: datelines, the country an article is about, pronouns, "the two
sides", people remembered by surname; and `newsevents code` giving a multi-sentence line
the same context as a pipeline article."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pipeline.coding import RuleCoder, default_coder
from pipeline.coding.context import dateline_country
from pipeline.coding.segment import dateline, prepare_text
from pipeline.evaluate import code_items, counts_as_event
from pipeline.records import Article, Event
from pipeline.tag import tag_articles

PUBLISHED = date(2025, 11, 2)


@pytest.fixture(scope="module")
def coder() -> RuleCoder:
    return default_coder()


def code(nlp: Any, coder: RuleCoder, text: str) -> list[Event]:
    return coder.code_doc(nlp(prepare_text(text)), article_id="c", published=PUBLISHED)


def counted(events: list[Event]) -> set[tuple[str, str, str]]:
    return {(e.source.code, e.cameo_code, e.target.code if e.target else "")
            for e in events if counts_as_event(e)}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "place", "country"),
    [
        ("KYIV, Ukraine (AP) — Russian drones struck the capital.", "KYIV", "UKR"),
        ("BEIRUT (Reuters) - Israel struck southern Lebanon.", "BEIRUT", "LBN"),
        ("MUMBAI: The chief minister met the delegation.", "MUMBAI", "IND"),
        ("Headline of the story\nLAGOS, Nigeria — Police fired tear gas.", "LAGOS", "NGA"),
    ],
)
def test_datelines_are_found_and_give_a_country(
    coder: RuleCoder, text: str, place: str, country: str
) -> None:
    found = dateline(text)
    assert found is not None and found.place == place
    assert dateline_country(text, coder.dictionary) == country
    prepared = prepare_text(text)
    assert len(prepared) == len(text) and "\n" in prepared[found.start : found.end]
    # The coder reads the prepared text: the dateline is still found there.
    assert dateline_country(prepared, coder.dictionary) == country


@pytest.mark.parametrize(
    "text", ["NATO: allies agree on a new plan.", "Russia attacked Ukraine - again.",
             "U.S. troops - many of them - left."],
)  # fmt: skip
def test_not_every_capitalised_opening_is_a_dateline(text: str) -> None:
    assert dateline(text) is None


def test_the_dateline_is_never_part_of_an_actor(nlp: Any, coder: RuleCoder) -> None:
    events = code(nlp, coder, "BANGKOK (AP) — Thailand's army shelled Cambodian positions.")
    assert events and all("BANGKOK" not in e.source.text for e in events)
    assert {(s, c[:2], t[:3]) for s, c, t in counted(events)} == {("THAMIL", "19", "KHM")}


def test_role_only_actors_take_the_dateline_country(nlp: Any, coder: RuleCoder) -> None:
    events = code(
        nlp, coder, "LAGOS, Nigeria (AP) — Police arrested dozens of protesters on Monday."
    )
    assert ("NGACOP", "173", "NGAOPP") in counted(events)


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("Junior doctors in England will strike next month after Health Secretary Steve "
         "Barclay refused to reopen negotiations.", "GBRGOV"),
        ("Opposition members in India's parliament walked out after Speaker Om Birla "
         "refused to allow a debate.", "INDLEG"),
    ],
)  # fmt: skip
def test_titles_of_local_office_holders_take_the_country_named_before(
    nlp: Any, coder: RuleCoder, text: str, source: str
) -> None:
    refused = [e for e in code(nlp, coder, text) if e.trigger == "refused"]
    assert refused and refused[0].source.code == source and counts_as_event(refused[0])


def test_pronouns_across_sentences(nlp: Any, coder: RuleCoder) -> None:
    events = code(
        nlp, coder,
        "Iranian Foreign Minister Abbas Araghchi arrived in Moscow on Monday. "
        "He met Russian President Vladimir Putin at the Kremlin.",
    )  # fmt: skip
    met = [e for e in events if e.cameo_code.startswith("04") and e.source.text == "He"]
    assert met and (met[0].source.code, met[0].target and met[0].target.country) == (
        "IRNGOV", "RUS",
    )  # fmt: skip


def test_object_pronouns_take_an_antecedent_other_than_the_subject(
    nlp: Any, coder: RuleCoder
) -> None:
    events = code(
        nlp, coder,
        "Israel's security cabinet declared Palestinian President Yasser Arafat irrelevant "
        "on Thursday and cut off all contact with him.",
    )  # fmt: skip
    assert ("ISRGOV", "161", "PSEGOV") in counted(events)
    events = code(
        nlp, coder,
        "Chinese President Xi Jinping arrived in Paris on Sunday. "
        "French President Emmanuel Macron welcomed him at the Elysee Palace.",
    )  # fmt: skip
    welcomed = [e for e in events if e.trigger == "welcomed"]
    assert welcomed and welcomed[0].target and welcomed[0].target.code == "CHNGOV"


_EGY_JOR_IRQ = {(a, b) for a in ("EGY", "JOR", "IRQ") for b in ("EGY", "JOR", "IRQ") if a != b}


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Armenia and Azerbaijan held talks in Geneva on Monday. "
         "The two sides agreed to meet again next month.", None, {("ARM", "AZE"), ("AZE", "ARM")}),
        # Two parties, not the last country named twice.
        ("Thailand accused Cambodia of laying new mines on Sunday. "
         "The Cambodian army denied the charge, and both sides agreed to meet again.", 3,
         {("THA", "KHM"), ("KHM", "THA")}),
        ("Egypt, Jordan and Iraq held talks in Cairo on Monday. "
         "The three countries agreed to meet again in March.", None, _EGY_JOR_IRQ),
    ],
)  # fmt: skip
def test_the_two_sides_are_the_last_two_parties(
    nlp: Any, coder: RuleCoder, text: str, width: int | None, expected: set[tuple[str, str]]
) -> None:
    """Compared on whole codes, or on their first `width` letters (the countries)."""
    again = {(s[:width], t[:width]) for s, c, t in counted(code(nlp, coder, text)) if c == "036"}
    assert again == expected


def test_surname_remembered_through_the_article(nlp: Any, coder: RuleCoder) -> None:
    events = code(
        nlp, coder,
        "US Defense Secretary Pete Hegseth arrived in Manila on Tuesday.\n"
        "Hegseth later met Philippine officials.",
    )  # fmt: skip
    assert ("USAMIL", "040", "PHLGOV") in counted(events)


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Moscow condemned the United States on Tuesday.", date(1985, 3, 1), ("SUN", "111", "USA")),
        ("Moscow condemned the United States on Tuesday.", date(2015, 3, 1), ("RUS", "111", "USA")),
        # The Russian republic under Yeltsin was its own actor before the Union dissolved.
        (
            "Russian President Boris Yeltsin denounced Soviet hardliners.",
            date(1991, 8, 20),
            ("RUSGOV", "111", "SUN"),
        ),
        ("Serbia rejected the ultimatum from NATO.", date(1999, 3, 20), ("SCG", "12", "IGOWSTNAT")),
        ("Serbia rejected the ultimatum from NATO.", date(2012, 3, 20), ("SRB", "12", "IGOWSTNAT")),
    ],
)
def test_countries_are_coded_as_they_were_on_the_date(
    nlp: Any, coder: RuleCoder, text: str, published: date, expected: tuple[str, str, str]
) -> None:
    events = coder.code_doc(nlp(prepare_text(text)), article_id="h", published=published)
    got = {(e.source.code, e.cameo_code[: len(expected[1])], e.target.code if e.target else "")
           for e in events if counts_as_event(e)}  # fmt: skip
    assert expected in got


def test_a_multi_sentence_line_is_coded_like_a_pipeline_article(nlp: Any, coder: RuleCoder) -> None:
    body = (
        "LAGOS, Nigeria (AP) — Police arrested dozens of protesters on Monday.\n"
        "They had blocked roads in the city.\n"
        "The government accused opposition leaders of inciting violence."
    )
    (coded,) = code_items([{"id": "a", "text": body, "date": "2025-11-02"}], nlp, coder)
    article = Article(
        article_id="a", url="http://127.0.0.1/a", final_url="http://127.0.0.1/a", feed="f",
        title=None, body=body, author=None,
        published_at=datetime(2025, 11, 2, 9, tzinfo=UTC), date_source="page",
        site_name=None, language="en", status="ok", status_detail=None,
        word_count=len(body.split()), content_hash="h",
        fetched_at=datetime(2025, 11, 2, 10, tzinfo=UTC),
    )  # fmt: skip
    tagged = tag_articles([article], nlp, coder).events
    assert [(e.source.code, e.cameo_code, e.target and e.target.code) for e in coded] == [
        (e.source.code, e.cameo_code, e.target and e.target.code) for e in tagged
    ]
    assert ("NGAGOV", "112", "NGAOPP") in counted(coded)  # the government, in Nigeria
