"""The geoparser (pipeline/geo/geoparse.py) and event locations (pipeline/geo/locate.py),
with the real spaCy model and the shipped gazetteer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pipeline.coding import default_coder
from pipeline.coding.segment import prepare_text
from pipeline.geo.geoparse import Geoparser
from pipeline.records import PlaceMention
from pipeline.tag import analyse_doc


@pytest.fixture(scope="module")
def geo() -> Geoparser:
    return Geoparser()


def places(
    nlp: Any, geo: Geoparser, text: str, feed_country: str | None = None
) -> list[PlaceMention]:
    return geo.parse(nlp(prepare_text(text)), article_id="a", feed_country=feed_country)


def by_text(found: list[PlaceMention]) -> dict[str, PlaceMention]:
    out: dict[str, PlaceMention] = {}
    for p in found:
        out.setdefault(p.text, p)
    return out


def test_dateline_city_state_pair_settles_an_ambiguous_name(nlp: Any, geo: Geoparser) -> None:
    text = ("ATHENS, Ga. (AP) — A fire destroyed a warehouse near downtown Athens on Tuesday, "
            "Clarke County officials said. Firefighters from Watkinsville responded.")  # fmt: skip
    found = places(nlp, geo, text)
    p = by_text(found)
    assert p["ATHENS"].label == "DATELINE" and p["ATHENS"].country == "USA"
    assert p["ATHENS"].admin1 == "Georgia" and p["ATHENS"].method == "city_state"
    assert p["Ga."].feature_code == "ADM1" and p["Ga."].geonames_id == 4197000
    assert p["Athens"].geonames_id == p["ATHENS"].geonames_id == 4180386  # one sense
    assert p["Clarke County"].precision == "admin2"
    assert p["Watkinsville"].admin1 == "Georgia" and p["Watkinsville"].method != "unresolved"
    for m in found:  # offsets point into the text the parser saw
        assert text[m.start_char : m.end_char] == m.text


def test_without_context_a_name_is_its_best_known_place(nlp: Any, geo: Geoparser) -> None:
    p = by_text(places(nlp, geo, "Protesters gathered in Athens on Sunday."))
    assert p["Athens"].country == "GRC" and p["Athens"].method in {"population", "only"}


def test_inline_city_state_pair_and_the_county_beside_it(nlp: Any, geo: Geoparser) -> None:
    p = by_text(places(nlp, geo, "Police in Paris, Texas, arrested two men. The Lamar County "
                                 "sheriff said they were held overnight."))  # fmt: skip
    assert p["Paris"].country == "USA" and p["Paris"].admin1 == "Texas"
    assert p["Paris"].method == "city_state" and p["Texas"].precision == "admin1"
    assert p["Lamar County"].admin1 == "Texas"


def test_georgia_is_the_state_or_the_country_by_what_surrounds_it(nlp: Any, geo: Geoparser) -> None:
    us = by_text(places(nlp, geo, "Gov. Brian Kemp said Georgia would send National Guard "
                                  "troops to Atlanta and Savannah."))  # fmt: skip
    assert us["Georgia"].country == "USA" and us["Georgia"].feature_code == "ADM1"
    caucasus = by_text(places(nlp, geo, "Georgia's president said Russian troops in South "
                                        "Ossetia had moved the border near Tbilisi."))  # fmt: skip
    assert caucasus["Georgia"].country == "GEO" and caucasus["Georgia"].precision == "country"
    assert caucasus["Tbilisi"].feature_code == "PPLC"
    assert caucasus["South Ossetia"].precision == "region"


def test_kind_words_regions_and_places_the_model_mistags(nlp: Any, geo: Geoparser) -> None:
    p = by_text(places(nlp, geo, "KYIV, Ukraine (AP) — Russian troops shelled Kharkiv and the "
                                 "Donetsk region overnight, officials in Kyiv said."))  # fmt: skip
    assert p["Kharkiv"].country == "UKR" and p["Kharkiv"].precision == "city"  # tagged PERSON
    assert p["Donetsk"].feature_code == "ADM1"  # "the Donetsk region", not tagged at all
    assert p["Kyiv"].feature_code == "PPLC"  # tagged ORG
    s = by_text(places(nlp, geo, "Government forces bombed Eastern Ghouta and Idlib province, "
                                 "near Aleppo in northern Syria."))  # fmt: skip
    assert s["Eastern Ghouta"].precision == "region" and s["Eastern Ghouta"].country == "SYR"
    assert s["Idlib"].feature_code == "ADM1"  # "Idlib province"
    assert s["Aleppo"].feature_code in {"PPL", "PPLC"} and s["Aleppo"].country == "SYR"


def test_the_feed_country_breaks_a_tie(nlp: Any, geo: Geoparser) -> None:
    text = "The council met in Hamilton on Monday to discuss the budget."
    assert by_text(places(nlp, geo, text, feed_country="CAN"))["Hamilton"].country == "CAN"
    assert by_text(places(nlp, geo, text, feed_country="NZL"))["Hamilton"].country == "NZL"


def test_unresolvable_mentions_are_kept_with_their_reason(nlp: Any, geo: Geoparser) -> None:
    found = places(nlp, geo, "Crowds filled Syntagma Square in Athens, and traffic stopped "
                             "on the Qwertyville Bridge.")  # fmt: skip
    square = by_text(found)["Syntagma Square"]
    assert square.name is None and square.reason == "not_in_gazetteer"
    assert square.method == "unresolved" and square.latitude is None
    assert by_text(found)["Athens"].name == "Athens"


def test_a_transliteration_finds_the_place(nlp: Any, geo: Geoparser) -> None:
    p = by_text(places(nlp, geo, "HODEIDAH, Yemen (Reuters) - Saudi-led warplanes struck the "
                                 "port of Hodeidah on Saturday."))  # fmt: skip
    assert p["HODEIDAH"].country == "YEM" and p["HODEIDAH"].precision == "city"


def located(nlp: Any, text: str, published: date = date(2024, 5, 1)) -> list[Any]:
    doc = nlp(prepare_text(text))
    return analyse_doc(doc, article_id="a", published=published, coder=default_coder()).events


def test_the_target_place_is_where_an_attack_happened(nlp: Any) -> None:
    (event,) = located(nlp, "Russian troops shelled Kharkiv overnight, killing three civilians.")
    assert event.target is not None and event.target.code == "UKR"  # the place's country
    assert event.location == "Kharkiv" and event.location_source == "target"
    assert event.location_precision == "city" and 49.5 < (event.latitude or 0) < 50.5


def test_a_place_attached_to_the_trigger_comes_first(nlp: Any) -> None:
    events = located(nlp, "KYIV, Ukraine (AP) — Police arrested 12 protesters in Lviv on "
                          "Sunday, officials said.")  # fmt: skip
    arrest = next(e for e in events if e.root_code == "17")
    assert arrest.location == "Lviv" and arrest.location_source == "sentence"
    assert arrest.location_country == "UKR" and arrest.location_geonames_id == 702550


def test_the_dateline_then_the_article_when_the_sentence_names_no_place(nlp: Any) -> None:
    events = located(nlp, "NAIROBI, Kenya (AP) — The opposition leader accused the "
                          "government of rigging the vote, his spokesman said.")  # fmt: skip
    assert events and all(e.location == "Nairobi" and e.location_source == "dateline"
                          for e in events)  # fmt: skip
    country_only = located(nlp, "Iran's foreign minister criticised the European Union on "
                                "Monday. Iran has long opposed the sanctions. Iran said it "
                                "would respond.")  # fmt: skip
    for e in country_only:
        if e.location_source == "article":
            # a country-level location says so: never passed off as a city
            assert e.location_precision == "country" and e.location == "Iran"
    assert any(e.location_source == "article" for e in country_only)


def test_the_coder_reads_places_as_the_geoparser_does(nlp: Any) -> None:
    """ "Police in Athens" are Georgia's police in a story datelined Athens, Ga., and
    Greece's without a hint; the event's location agrees with the actor's country."""
    (us,) = located(nlp, "ATHENS, Ga. (AP) — Police in Athens arrested 12 protesters on "
                         "Tuesday after a march through downtown, officials said.")  # fmt: skip
    assert us.source.code == "USACOP" and us.location_country == "USA"
    (gr,) = located(nlp, "Police in Athens arrested 12 protesters on Tuesday after a march "
                         "through the city centre, officials said.")  # fmt: skip
    assert gr.source.code == "GRCCOP" and gr.location_country == "GRC"


def test_a_demonym_that_names_a_place_and_a_postal_code_dateline(nlp: Any, geo: Geoparser) -> None:
    text = ("Russian missiles struck the Ukrainian capital overnight, and explosions were "
            "heard in the Syrian capital too.")  # fmt: skip
    p = by_text(places(nlp, geo, text))
    assert p["Ukrainian capital"].name == "Kyiv" and p["Ukrainian capital"].method == "demonym"
    assert p["Syrian capital"].name == "Damascus"
    d = by_text(places(nlp, geo, "LONG BEACH, CA — Port officials said Tuesday that imports "
                                 "rose."))  # fmt: skip
    assert d["CA"].name == "California" and d["LONG BEACH"].admin1 == "California"
    assert d["LONG BEACH"].country == "USA"  # not Long Beach, Australia
