"""Dependency rules over hand-built parses: Doc(vocab, words, heads, deps), as spaCy's own
matcher tests do. What a rule means is pinned here independently of the model, so a
model upgrade that parses differently cannot silently change it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from spacy.lang.en import English
from spacy.tokens import Doc

from pipeline.coding import RuleCoder, default_coder
from pipeline.coding.match import match_events
from pipeline.coding.parse import coordinated, quantity_head, subject
from pipeline.coding.rules import light_verb

# word, lemma, POS, fine tag, head (absolute index), dependency, entity (IOB-label)
Row = tuple[str, str, str, str, int, str, str]


# A blank English vocabulary: lexical attributes (lower case, like_num), no model.
VOCAB = English().vocab


def build(rows: list[Row]) -> Doc:
    words = [r[0] for r in rows]
    return Doc(
        VOCAB,
        words=words,
        spaces=[True] * (len(words) - 1) + [False],
        lemmas=[r[1] for r in rows],
        pos=[r[2] for r in rows],
        tags=[r[3] for r in rows],
        heads=[r[4] for r in rows],
        deps=[r[5] for r in rows],
        ents=[r[6] for r in rows],
    )


@pytest.fixture(scope="module")
def coder() -> RuleCoder:
    return default_coder()


def triples(coder: RuleCoder, doc: Doc) -> set[tuple[str, str, str, str]]:
    events = coder.code_doc(doc, article_id="d", published=date(2025, 11, 2))
    return {
        (e.source.code, e.cameo_code, e.target.code if e.target else "", e.modality) for e in events
    }


ATTACK = [
    ("Russia", "Russia", "PROPN", "NNP", 1, "nsubj", "B-GPE"),
    ("attacked", "attack", "VERB", "VBD", 1, "ROOT", "O"),
    ("Ukraine", "Ukraine", "PROPN", "NNP", 1, "dobj", "B-GPE"),
    (".", ".", "PUNCT", ".", 1, "punct", "O"),
]
PASSIVE = [
    ("Ukraine", "Ukraine", "PROPN", "NNP", 2, "nsubjpass", "B-GPE"),
    ("was", "be", "AUX", "VBD", 2, "auxpass", "O"),
    ("attacked", "attack", "VERB", "VBN", 2, "ROOT", "O"),
    ("by", "by", "ADP", "IN", 2, "agent", "O"),
    ("Russia", "Russia", "PROPN", "NNP", 3, "pobj", "B-GPE"),
    (".", ".", "PUNCT", ".", 2, "punct", "O"),
]


def test_subject_and_object_of_an_active_verb(coder: RuleCoder) -> None:
    doc = build(ATTACK)
    (cand,) = match_events(doc[:], coder.index, coder.lexicon, coder.dictionary)
    assert ([t.text for t in cand.sources], [t.text for t in cand.targets]) == (
        ["Russia"], ["Ukraine"],
    )  # fmt: skip
    assert triples(coder, doc) == {("RUS", "190", "UKR", "asserted")}


def test_passive_subject_is_the_target_and_the_agent_the_source(coder: RuleCoder) -> None:
    doc = build(PASSIVE)
    (cand,) = match_events(doc[:], coder.index, coder.lexicon, coder.dictionary)
    assert cand.passive and [t.text for t in cand.sources] == ["Russia"]
    assert triples(coder, doc) == {("RUS", "190", "UKR", "asserted")}


def test_raising_verb_passes_its_passive_subject_on_as_the_actor(coder: RuleCoder) -> None:
    doc = build([
        ("Macron", "Macron", "PROPN", "NNP", 2, "nsubjpass", "B-PERSON"),
        ("is", "be", "AUX", "VBZ", 2, "auxpass", "O"),
        ("scheduled", "schedule", "VERB", "VBN", 2, "ROOT", "O"),
        ("to", "to", "PART", "TO", 4, "aux", "O"),
        ("visit", "visit", "VERB", "VB", 2, "xcomp", "O"),
        ("India", "India", "PROPN", "NNP", 4, "dobj", "B-GPE"),
        (".", ".", "PUNCT", ".", 2, "punct", "O"),
    ])  # fmt: skip
    subjects, passive = subject(doc[4], coder.lexicon)
    assert [t.text for t in subjects] == ["Macron"] and not passive
    assert triples(coder, doc) == {("FRAGOV", "036", "IND", "intended")}


def test_a_verb_left_without_subject_by_a_misparsed_participle(coder: RuleCoder) -> None:
    # "Iraq said that warplanes patrolling the zone had bombed Basra", as the small model
    # parses it: the participle is the clause, and "bombed" has no subject of its own.
    doc = build([
        ("Iraq", "Iraq", "PROPN", "NNP", 1, "nsubj", "B-GPE"),
        ("said", "say", "VERB", "VBD", 1, "ROOT", "O"),
        ("that", "that", "SCONJ", "IN", 5, "mark", "O"),
        ("British", "british", "ADJ", "JJ", 4, "amod", "B-NORP"),
        ("warplanes", "warplane", "NOUN", "NNS", 5, "nsubj", "O"),
        ("patrolling", "patrol", "VERB", "VBG", 1, "ccomp", "O"),
        ("the", "the", "DET", "DT", 7, "det", "O"),
        ("zone", "zone", "NOUN", "NN", 5, "dobj", "O"),
        ("had", "have", "AUX", "VBD", 9, "aux", "O"),
        ("bombed", "bomb", "VERB", "VBN", 1, "ccomp", "O"),
        ("Basra", "Basra", "PROPN", "NNP", 9, "dobj", "B-GPE"),
        (".", ".", "PUNCT", ".", 1, "punct", "O"),
    ])  # fmt: skip
    subjects, passive = subject(doc[9], coder.lexicon)
    assert [t.text for t in subjects] == ["warplanes"] and not passive
    assert ("GBRMIL", "195", "IRQ") in {t[:3] for t in triples(coder, doc)}


def _governed(verb: str, lemma: str, tag: str, act: str, act_lemma: str) -> Doc:
    return build([
        ("Iran", "Iran", "PROPN", "NNP", 1, "nsubj", "B-GPE"),
        (verb, lemma, "VERB", tag, 1, "ROOT", "O"),
        ("to", "to", "PART", "TO", 3, "aux", "O"),
        (act, act_lemma, "VERB", "VB", 1, "xcomp", "O"),
        ("Israel", "Israel", "PROPN", "NNP", 3, "dobj", "B-GPE"),
        (".", ".", "PUNCT", ".", 1, "punct", "O"),
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("verb", "lemma", "act", "act_lemma", "expected"),
    [
        # refusing cooperation is a rejection
        ("refused", "refuse", "meet", "meet", ("IRN", "125", "ISR", "asserted")),
        # a commitment to a conflict act is a threat
        ("vowed", "vow", "attack", "attack", ("IRN", "138", "ISR", "asserted")),
        # a commitment to cooperate is an intent
        ("pledged", "pledge", "meet", "meet", ("IRN", "036", "ISR", "intended")),
    ],
)
def test_a_governing_verb_decides_by_the_conventions(
    coder: RuleCoder, verb: str, lemma: str, act: str, act_lemma: str,
    expected: tuple[str, str, str, str],
) -> None:  # fmt: skip
    assert expected in triples(coder, _governed(verb, lemma, "VBD", act, act_lemma))


def test_a_failed_act_is_no_event(coder: RuleCoder) -> None:
    assert not triples(coder, _governed("failed", "fail", "VBD", "attack", "attack"))


def test_light_verb_through_a_measure_noun() -> None:
    doc = build([
        ("They", "they", "PRON", "PRP", 1, "nsubj", "O"),
        ("held", "hold", "VERB", "VBD", 1, "ROOT", "O"),
        ("hours", "hour", "NOUN", "NNS", 1, "dobj", "O"),
        ("of", "of", "ADP", "IN", 2, "prep", "O"),
        ("talks", "talk", "NOUN", "NNS", 3, "pobj", "O"),
    ])  # fmt: skip
    verb = light_verb(doc[4])
    assert verb is not None and verb.i == 1
    assert light_verb(doc[0]) is None


def test_quantity_heads_lead_to_the_actor_noun(coder: RuleCoder) -> None:
    doc = build([
        ("tens", "ten", "NUM", "CD", 0, "ROOT", "O"),
        ("of", "of", "ADP", "IN", 0, "prep", "O"),
        ("thousands", "thousand", "NUM", "CD", 1, "pobj", "O"),
        ("of", "of", "ADP", "IN", 2, "prep", "O"),
        ("civilians", "civilian", "NOUN", "NNS", 3, "pobj", "O"),
    ])  # fmt: skip
    assert quantity_head(doc[0], coder.lexicon).i == 4


def test_apposed_countries_are_coordinated() -> None:
    doc = build([
        ("UK", "UK", "PROPN", "NNP", 5, "nsubj", "B-GPE"),
        (",", ",", "PUNCT", ",", 0, "punct", "O"),
        ("France", "France", "PROPN", "NNP", 0, "appos", "B-GPE"),
        ("and", "and", "CCONJ", "CC", 2, "cc", "O"),
        ("Germany", "Germany", "PROPN", "NNP", 2, "conj", "B-GPE"),
        ("met", "meet", "VERB", "VBD", 5, "ROOT", "O"),
    ])  # fmt: skip
    assert [t.text for t in coordinated(doc[0])] == ["UK", "France", "Germany"]


def test_converted_pattern_needs_its_words(coder: RuleCoder) -> None:
    # "renewed negotiations": PETRARCH's RESTART pattern "* &NEGOTIATION [046:046]", a
    # negotiation between the two parties; the same verb with other words codes nothing.
    def renewed(obj: str, lemma: str) -> Doc:
        return build([
            ("Armenia", "Armenia", "PROPN", "NNP", 1, "nsubj", "B-GPE"),
            ("renewed", "renew", "VERB", "VBD", 1, "ROOT", "O"),
            (obj, lemma, "NOUN", "NNS", 1, "dobj", "O"),
            ("with", "with", "ADP", "IN", 1, "prep", "O"),
            ("Azerbaijan", "Azerbaijan", "PROPN", "NNP", 3, "pobj", "B-GPE"),
        ])  # fmt: skip

    cands = list(match_events(renewed("negotiations", "negotiation")[:], coder.index,
                              coder.lexicon, coder.dictionary))  # fmt: skip
    assert [(c.rule.cameo, c.rule.source) for c in cands] == [("046", "petrarch")]
    assert ("ARM", "046", "AZE", "asserted") in triples(
        coder, renewed("negotiations", "negotiation")
    )
    assert not triples(coder, renewed("subscriptions", "subscription"))


def test_dates_are_not_a_rules_preposition(coder: RuleCoder) -> None:
    # consult.phone forbids "on" ("called on X to ..."), but not "on Monday".
    doc = build([
        ("Chile", "Chile", "PROPN", "NNP", 1, "nsubj", "B-GPE"),
        ("telephoned", "telephone", "VERB", "VBD", 1, "ROOT", "O"),
        ("Argentina", "Argentina", "PROPN", "NNP", 1, "dobj", "B-GPE"),
        ("on", "on", "ADP", "IN", 1, "prep", "O"),
        ("Monday", "Monday", "PROPN", "NNP", 3, "pobj", "B-DATE"),
    ])  # fmt: skip
    assert ("CHL", "041", "ARG", "asserted") in triples(coder, doc)


def test_the_model_parse_is_not_needed(nlp: Any, coder: RuleCoder) -> None:
    """The same sentence through the model gives what the hand-built parse gives."""
    assert triples(coder, build(ATTACK)) == triples(coder, nlp("Russia attacked Ukraine."))
