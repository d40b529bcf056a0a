"""Which sentences are worth a parse: the tagger and the parser only where an event can be.

The coder reads the dependency parse of a sentence only when one of its words could be a
trigger, and it codes an event only between actors. Named entities are needed on every
sentence (the entities table, the geoparser), but spaCy's tok2vec, tagger, parser,
attribute ruler and lemmatizer cost more than half of a full parse, and most of that is
spent on sentences that cannot yield an event. So `add_sieve` rebuilds a loaded pipeline:

1. sentence boundaries from the model's own `senter` (a small model of its own, about 1%
   of a full parse), plus a boundary at every line break;
2. the entity recogniser on the whole text (it has its own tok2vec);
3. `EventParse`: the tokens of the sentences that pass `could_hold_event` (a word that
   is, or may inflect, a trigger lemma, and an actor candidate: an entity that can be an
   actor, an agent word such as "police", a demonym, a country name, or a word whose
   actor the document supplies, such as "they" or "the two sides") are parsed by the
   model's tok2vec, tagger, parser, attribute ruler (pipeline.coding.attributes: the
   same result, cheaper) and lemmatizer, each run of such sentences as one small Doc,
   and the annotations are copied back;
4. the hyphenated-name merge (pipeline.coding.segment), as before.

A sentence that is not parsed keeps its boundaries with a flat tree: its first token (or
the last token of a name it opens) is the root, the tokens of a name hang from the name's
last token (`compound`), and every other token from the root (`dep`), so `ent.root` is
the name's last word, as a parse gives it. It has no tags and no lemmas: no rule can
match there. `sentence_filter: false` parses every sentence (docs/PERFORMANCE.md compares
the two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.coding.attributes import fast_attributes

EVENT_PARSE = "newsevents_event_parse"
PARSE_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")


@dataclass(frozen=True)
class Vocabulary:
    """What the coder can code: the first words of its trigger keys (lemmas, and surface
    forms), the words that can start an actor that is not an entity, and the entity
    labels that can be actors."""

    triggers: frozenset[str]
    actor_words: frozenset[str]
    actor_labels: frozenset[str]  # entity labels that can be actors


class Inflections:
    """The lemmas a word may have under any part of speech, from the model's own lemmatizer
    tables (its rules and exceptions), without a tag: a superset of the lemma the
    lemmatizer gives once the word is tagged. Cached per lower-cased word."""

    def __init__(self, lemmatizer: Any) -> None:
        lookups = lemmatizer.lookups
        self.rules = lookups.get_table("lemma_rules")
        self.exceptions = lookups.get_table("lemma_exc")
        self.poses = list(self.rules.keys())
        self.cache: dict[str, frozenset[str]] = {}

    def __call__(self, word: str) -> frozenset[str]:
        found = self.cache.get(word)
        if found is None:
            forms = {word}
            for pos in self.poses:
                for old, new in self.rules.get(pos, ()):
                    if word.endswith(old) and len(word) > len(old):
                        forms.add(word[: len(word) - len(old)] + new)
                forms.update(self.exceptions.get(pos, {}).get(word, ()))
            found = self.cache[word] = frozenset(forms)
        return found


def could_hold_event(
    sent: Any, vocabulary: Vocabulary, inflections: Callable[[str], frozenset[str]]
) -> bool:
    """A sentence with a word that is, or may inflect, a trigger, and an actor candidate."""
    trigger = actor = False
    triggers, actor_words, labels = (
        vocabulary.triggers, vocabulary.actor_words, vocabulary.actor_labels
    )  # fmt: skip
    for tok in sent:
        forms = inflections(tok.lower_)  # the word itself among them
        if not trigger and not triggers.isdisjoint(forms):
            trigger = True
        if not actor and (tok.ent_type_ in labels or not actor_words.isdisjoint(forms)):
            actor = True
        if trigger and actor:
            return True
    return False


class EventParse:
    """The spaCy component that parses only the sentences that could hold an event."""

    def __init__(self, nlp: Any, components: list[tuple[str, Any]], vocabulary: Vocabulary) -> None:
        from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, TAG

        self.vocab = nlp.vocab
        self.components = components
        self.vocabulary = vocabulary
        self.inflections = Inflections(dict(components)["lemmatizer"])
        self.attrs = [TAG, POS, MORPH, LEMMA, DEP, HEAD]
        self.root, self.dep, self.compound = (
            self.vocab.strings.add(s) for s in ("ROOT", "dep", "compound")
        )
        self.parsed_tokens = 0  # how many tokens were parsed, of how many seen
        self.seen_tokens = 0

    def __call__(self, doc: Any) -> Any:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Any], batch_size: int = 32) -> Iterator[Any]:
        from spacy.util import minibatch

        for batch in minibatch(docs, batch_size):
            yield from self._parse_batch(list(batch))

    def _runs(self, doc: Any) -> tuple[list[Any], list[tuple[int, int]]]:
        """The sentences of a doc, and the runs (start, end) of consecutive ones to parse."""
        sents = list(doc.sents)
        runs: list[tuple[int, int]] = []
        for sent in sents:
            if could_hold_event(sent, self.vocabulary, self.inflections):
                if runs and runs[-1][1] == sent.start:
                    runs[-1] = (runs[-1][0], sent.end)
                else:
                    runs.append((sent.start, sent.end))
        return sents, runs

    def _parse_batch(self, docs: list[Any]) -> Iterator[Any]:
        from spacy.tokens import Doc

        plans = []
        pieces = []
        for doc in docs:
            sents, runs = self._runs(doc)
            plans.append((sents, runs))
            if not runs:
                continue
            words = [t.text for t in doc]
            spaces = [bool(t.whitespace_) for t in doc]
            first: list[bool | int | None] = [None] * len(doc)
            for sent in sents:
                first[sent.start] = True
            for start, end in runs:
                pieces.append(Doc(self.vocab, words=words[start:end], spaces=spaces[start:end],
                                  sent_starts=first[start:end]))  # fmt: skip
        for _, component in self.components:
            pieces = list(component.pipe(pieces, batch_size=max(1, len(pieces))))
        parsed = iter(pieces)
        for doc, (sents, runs) in zip(docs, plans, strict=True):
            array = self._flat(doc, sents)
            for start, end in runs:
                piece = next(parsed)
                array[start:end] = piece.to_array(self.attrs).astype(np.int64)
                self.parsed_tokens += end - start
            self.seen_tokens += len(doc)
            doc.from_array(self.attrs, array.astype(np.uint64))
            yield doc

    def _flat(self, doc: Any, sents: list[Any]) -> Any:
        """The flat tree of unparsed sentences (see the module's docstring), as an array of
        self.attrs, relative heads in the last column."""
        array = np.zeros((len(doc), len(self.attrs)), dtype=np.int64)
        dep, head = len(self.attrs) - 2, len(self.attrs) - 1
        index = np.arange(len(doc))
        roots = {sent.start: sent.start for sent in sents}
        array[:, dep] = self.dep
        ents = list(doc.ents)
        for ent in ents:  # a name that opens its sentence is its root
            if ent.start in roots:
                roots[ent.start] = ent.end - 1
        for sent in sents:
            root = roots[sent.start]
            array[sent.start : sent.end, head] = root - index[sent.start : sent.end]
            array[root, dep] = self.root
        for ent in ents:
            last = ent.end - 1
            array[ent.start : last, head] = last - index[ent.start : last]
            array[ent.start : last, dep] = self.compound
        return array


_BUILT: dict[int, EventParse] = {}


def _register_factory() -> None:
    from spacy.language import Language

    if not Language.has_factory(EVENT_PARSE):

        @Language.factory(EVENT_PARSE, default_config={"key": 0})
        def make_event_parse(nlp: Any, name: str, key: int) -> EventParse:
            return _BUILT.pop(key)


def add_sieve(nlp: Any, vocabulary: Vocabulary, *, line_breaks: str, last: str) -> Any:
    """Rebuild a loaded pipeline as the module's docstring says: `senter`, then the
    `line_breaks` component, the entity recogniser, one EventParse holding the parse
    components, and `last` (which must run on parsed docs)."""
    missing = [n for n in (*PARSE_COMPONENTS, "senter", "ner") if n not in nlp.component_names]
    if missing:
        raise ValueError(
            f"the sentence filter needs a pipeline with senter, ner and "
            f"{', '.join(PARSE_COMPONENTS)}; this one lacks {', '.join(missing)} "
            "(set sentence_filter: false to parse every sentence)"
        )
    components = [(name, nlp.get_pipe(name)) for name in PARSE_COMPONENTS]
    components = [(n, fast_attributes(c) if n == "attribute_ruler" else c) for n, c in components]
    for name in (*PARSE_COMPONENTS, line_breaks):
        nlp.remove_pipe(name)
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    nlp.add_pipe(line_breaks, after="senter")
    parse = EventParse(nlp, components, vocabulary)
    _register_factory()
    _BUILT[id(parse)] = parse
    nlp.add_pipe(EVENT_PARSE, before=last, config={"key": id(parse)})
    return nlp
