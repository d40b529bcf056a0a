"""The trigger lexicon across all 20 CAMEO roots, on sentences written for this file.

Each positive sentence must yield the expected (source, code, target); a two-digit code
matches the root and "*" matches any actor. The negative sentences use the ambiguous
verbs of the lexicon in non-political senses, or report events that did not (or might)
happen: they must not yield a factual event of the wrong kind.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pipeline.coding import EventCoder, default_coder
from pipeline.records import Event

PUBLISHED = date(2025, 11, 2)
FACTUAL = {"asserted", "intended"}


@pytest.fixture(scope="module")
def coder() -> EventCoder:
    return default_coder()


def code(nlp: Any, coder: EventCoder, text: str) -> list[Event]:
    return coder.code_doc(nlp(text), article_id="lex", published=PUBLISHED)


def _fits(event: Event, source: str, cameo: str, target: str) -> bool:
    got_target = event.target.code if event.target else ""
    return (
        (source == "*" or event.source.code == source)
        and (event.root_code == cameo if len(cameo) == 2 else event.cameo_code == cameo)
        and (target == "*" or got_target == target)
    )


POSITIVE: list[tuple[str, tuple[str, str, str]]] = [
    # 01 make public statement
    ("Iran rejected the allegations of involvement in the attack.", ("IRN", "016", "*")),
    ("Germany expressed optimism about the talks with Russia.", ("DEU", "013", "*")),
    ("Japan offered condolences to Turkey after the earthquake.", ("JPN", "018", "TUR")),
    ("Hamas claimed responsibility for the bombing.", ("PSEREB", "015", "*")),
    ("India expressed solidarity with Bangladesh.", ("IND", "019", "BGD")),
    # 02 appeal
    ("Ukraine appealed for more air defence systems.", ("UKR", "0232", "*")),
    ("Kenya asked the IMF for a new loan.", ("KEN", "023", "IGOBUSIMF")),
    ("Egypt pressed Israel to allow aid into Gaza.", ("EGY", "0255", "ISR")),
    ("The UN called for the release of the hostages.", ("IGOUNO", "0253", "*")),
    ("South Korea requested military assistance from the United States.", ("KOR", "0232", "USA")),
    ("Lebanon sought financial help from France.", ("LBN", "023", "FRA")),
    ("The EU urged Serbia and Kosovo to resume dialogue.", ("IGOEUREEC", "026", "SRB")),
    # 03 express intent to cooperate
    ("Japan pledged $500 million in aid to Ukraine.", ("JPN", "033", "UKR")),
    ("Russia offered to mediate between Armenia and Azerbaijan.", ("RUS", "039", "ARM")),
    ("Iran signalled readiness to resume talks with the United States.", ("IRN", "030", "USA")),
    ("India agreed to release Pakistani fishermen.", ("IND", "0353", "*")),
    # 04 consult
    ("Erdogan spoke by phone with Putin.", ("TURGOV", "041", "RUSGOV")),
    ("Modi paid a visit to Japan.", ("INDGOV", "042", "JPN")),
    ("Qatar brokered talks between Israel and Hamas.", ("QAT", "045", "ISR")),
    ("Iran and the United States held a new round of negotiations in Oman.", ("IRN", "04", "USA")),
    ("Putin received the Indian prime minister in the Kremlin.", ("RUSGOV", "043", "INDGOV")),
    ("Iran and Oman held negotiations.", ("IRN", "046", "OMN")),
    # 05 diplomatic cooperation
    ("Macron congratulated Merz on his election victory.", ("FRAGOV", "051", "DEUGOV")),
    ("Spain recognized Palestine as a state.", ("ESP", "054", "PSE")),
    ("Japan apologized to South Korea.", ("JPN", "055", "KOR")),
    ("France and Germany signed a defence pact.", ("FRA", "057", "DEU")),
    ("The Kenyan president rallied support for Ukraine.", ("*", "053", "UKR")),
    # 06 material cooperation
    ("Britain shared intelligence with Ukraine.", ("GBR", "064", "UKR")),
    ("France trained Ukrainian soldiers.", ("FRA", "062", "UKRMIL")),
    ("Spain extradited the suspect to Argentina.", ("ESP", "063", "ARG")),
    ("Russia and China launched joint naval patrols.", ("RUS", "062", "CHN")),
    ("Hungary bought gas from Russia.", ("HUN", "061", "RUS")),
    # 07 provide aid
    ("The United States sent $500 million in military aid to Ukraine.", ("USA", "072", "UKR")),
    ("Jordan airdropped food to Gaza.", ("JOR", "073", "PSE")),
    ("The EU disbursed a loan to Egypt.", ("IGOEUREEC", "071", "EGY")),
    ("Greece sent rescue teams to Turkey.", ("GRC", "073", "TUR")),
    ("Germany provided humanitarian assistance to Sudan.", ("DEU", "073", "SDN")),
    ("Canada granted asylum to the Russian dissident.", ("CAN", "075", "RUSOPP")),
    ("Germany took in thousands of Syrian refugees.", ("DEU", "075", "*")),
    # 08 yield
    ("Washington lifted sanctions on Syria.", ("USA", "085", "SYR")),
    ("Russia and Ukraine exchanged prisoners.", ("RUS", "084", "UKR")),
    ("Iran allowed IAEA inspectors into the site.", ("IRN", "0862", "IGOUNOIAE")),
    ("Russian troops pulled back from Kyiv.", ("RUSMIL", "087", "*")),
    ("The Ukrainian garrison surrendered to Russian forces.", ("UKRMIL", "0874", "RUSMIL")),
    ("Israel allowed aid trucks into Gaza.", ("ISR", "0863", "PSE")),
    ("Sri Lanka lifted the curfew.", ("LKA", "0813", "*")),
    # 09 investigate
    ("The ICC is investigating war crimes in Ukraine.", ("IGOJUDICC", "094", "UKR")),
    ("The UN launched a probe into the strike.", ("IGOUNO", "090", "*")),
    ("The FBI looked into the bombing.", ("*", "090", "*")),
    # 10 demand
    ("Iran demanded an apology from Britain.", ("IRN", "100", "GBR")),
    ("China ordered Japan to withdraw its warships.", ("CHN", "1056", "JPN")),
    ("Turkey pressured Sweden to extradite the activists.", ("TUR", "100", "SWE")),
    ("Ukraine demanded the withdrawal of Russian troops.", ("UKR", "1056", "RUSMIL")),
    # 11 disapprove
    ("Russia summoned the Finnish ambassador.", ("RUS", "114", "FINGOV")),
    ("South Africa filed a lawsuit against Israel.", ("ZAF", "115", "ISR")),
    ("Poland hit out at Germany over the pipeline.", ("POL", "111", "DEU")),
    ("Hungary lashed out at the European Commission.", ("HUN", "111", "IGOEUREEC")),
    ("China accused Canada of espionage.", ("CHN", "1125", "CAN")),
    # 12 reject
    ("Iran ruled out talks with the United States.", ("IRN", "125", "USA")),
    ("Tehran refused to release the detained journalists.", ("IRN", "1243", "*")),
    ("Israel turned down the invitation from Egypt.", ("ISR", "125", "EGY")),
    ("Russia vetoed the resolution.", ("RUS", "129", "*")),
    # 13 threaten
    ("Trump threatened China with new tariffs.", ("USAGOV", "1312", "CHN")),
    ("North Korea threatened to attack South Korea.", ("PRK", "138", "KOR")),
    ("Iran vowed retaliation against Israel.", ("IRN", "138", "ISR")),
    ("Russia issued a warning to NATO.", ("RUS", "130", "IGOWSTNAT")),
    # 14 protest
    ("Protesters picketed the Israeli embassy.", ("*", "141", "ISRGOV")),
    ("Dock workers went on strike.", ("*", "143", "*")),
    ("Activists began a hunger strike.", ("*", "142", "*")),
    ("Students staged a protest outside the parliament.", ("*", "141", "*")),
    ("Protesters took to the streets in Belgrade.", ("*", "141", "*")),
    # 15 exhibit military posture
    ("Israel called up 300,000 reservists.", ("ISR", "154", "*")),
    ("China flew fighter jets near Taiwan.", ("CHN", "150", "TWN")),
    ("Japan scrambled jets.", ("JPN", "150", "*")),
    ("The government deployed riot police to the capital.", ("*", "153", "*")),
    ("Russia massed troops near the Ukrainian border.", ("RUS", "154", "UKR")),
    # 16 reduce relations
    ("Niger cut off diplomatic ties with France.", ("NER", "161", "FRA")),
    ("The United States suspended military aid to Egypt.", ("USA", "1622", "EGY")),
    ("China banned imports from Japan.", ("CHN", "163", "JPN")),
    ("Mali declared the French ambassador persona non grata.", ("MLI", "166", "*")),
    ("Russia suspended its participation in the New START treaty.", ("RUS", "160", "*")),
    ("The United States hit Iran with new sanctions.", ("USA", "163", "IRN")),
    # 17 coerce
    ("Police fired tear gas at protesters.", ("*", "175", "*")),
    ("The government shut down independent newspapers.", ("*", "1721", "*")),
    ("Israeli troops demolished Palestinian homes.", ("ISRMIL", "1712", "PSE")),
    ("Iran seized a British tanker.", ("IRN", "171", "*")),
    ("Belarus charged the journalist with espionage.", ("BLR", "173", "*")),
    ("Turkish police placed the mayor under house arrest.", ("*", "173", "*")),
    # 18 assault
    ("A suicide bomber blew himself up at a checkpoint.", ("*", "1831", "*")),
    ("Militants detonated a car bomb near the embassy.", ("*", "1832", "*")),
    ("Gunmen tried to assassinate the governor.", ("*", "185", "*")),
    ("Militants carried out a suicide bombing in Kabul.", ("*", "1831", "AFG")),
    ("Gunmen took dozens of villagers hostage.", ("*", "181", "*")),
    # 19 fight
    ("Israel bombed Beirut.", ("ISR", "195", "LBN")),
    ("Ukraine shot down 40 Russian drones.", ("UKR", "190", "RUSMIL")),
    ("Ukrainian forces fired artillery shells at Russian positions.", ("UKRMIL", "194", "RUS")),
    ("Russia waged war on Ukraine.", ("RUS", "190", "UKR")),
    ("Houthi rebels sank a cargo ship.", ("YEMREB", "190", "*")),
    ("Russian forces captured the town of Avdiivka.", ("RUSMIL", "192", "*")),
    ("The Israeli air force carried out airstrikes on Lebanon.", ("ISRMIL", "195", "LBN")),
    ("Russia attacked Ukraine with drones.", ("RUS", "1952", "UKR")),
    # 20 unconventional mass violence
    ("Syria used chemical weapons against civilians.", ("SYR", "2041", "*")),
    ("Myanmar's military expelled hundreds of thousands of Rohingya.", ("MMRMIL", "201", "*")),
    ("The regime gassed its own people.", ("*", "2041", "*")),
    ("Syrian forces attacked Douma with chlorine gas.", ("SYRMIL", "2041", "*")),
    ("The army massacred villagers.", ("*", "202", "*")),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE, ids=[t for t, _ in POSITIVE])
def test_lexicon_codes_the_event(
    nlp: Any, coder: EventCoder, text: str, expected: tuple[str, str, str]
) -> None:
    events = code(nlp, coder, text)
    got = [(e.source.code, e.cameo_code, e.target.code if e.target else "") for e in events]
    assert any(_fits(e, *expected) and e.modality in FACTUAL for e in events), got


def test_lexicon_covers_every_root() -> None:
    roots = {cameo[:2] for _, (_, cameo, _) in POSITIVE}
    assert roots == {f"{n:02d}" for n in range(1, 21)}


# (sentence, roots that must not appear as a factual event; empty: no factual event at all)
NEGATIVE: list[tuple[str, set[str]]] = [
    ("Prices hit a record high in March.", set()),
    ("The storm hit Florida on Monday.", set()),
    ("The minister opened the new bridge.", set()),
    ("The central bank raised interest rates.", set()),
    ("Apple launched a new phone.", set()),
    ("The team beat Brazil in the final.", set()),
    ("The report was released on Friday.", set()),
    ("The government released a statement.", set()),
    ("Investors dumped shares after the storm hit the coast.", set()),
    ("The film shot down rumours about the cast.", set()),
    ("Rain forced the teams to postpone the match.", set()),
    ("The minister fired his spokesman.", set()),
    ("The army will not attack the city.", set()),
    ("Russia could impose sanctions on Georgia.", set()),
    ("Israel did not bomb Beirut.", set()),
    ("If Iran attacks Israel, the US will respond.", {"19"}),
    ("North Korea might test a missile.", set()),
    ("The prime minister flew on a military aircraft to Paris.", {"15"}),
    ("Protesters tried to storm the stage.", {"18", "19"}),
    ("The president resigned himself to the defeat.", {"08"}),
    ("The government cut taxes.", {"16"}),
    ("Russia launched a missile attack on Kyiv.", {"15"}),
    ("The company struck a deal with its suppliers.", {"14", "19"}),
    ("Officials shot down the proposal.", {"19"}),
    ("Ukraine's president called for calm.", {"04"}),
    ("The army released a video of the strike.", {"08"}),
]


@pytest.mark.parametrize(("text", "banned"), NEGATIVE, ids=[t for t, _ in NEGATIVE])
def test_lexicon_leaves_non_events_alone(
    nlp: Any, coder: EventCoder, text: str, banned: set[str]
) -> None:
    factual = [e for e in code(nlp, coder, text) if e.modality in FACTUAL]
    wrong = [e for e in factual if not banned or e.root_code in banned]
    assert not wrong, [(e.source.code, e.cameo_code, e.trigger) for e in wrong]
