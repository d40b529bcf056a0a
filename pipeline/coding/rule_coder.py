"""The rule coder: trigger rules over spaCy's dependency parse, with actor dictionaries.

Components, each in its own module: rules (rule loading and conditions), match
(candidate matching), actors and dictionary (actor resolution), modality (how, where and
when), assemble (candidates to `Event` records). This module ties them together and
stamps the version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from pipeline.coding.actors import ANAPHORS
from pipeline.coding.assemble import Assembler
from pipeline.coding.base import CoderFiles, register
from pipeline.coding.codes import CodeInfo, default_codes_path, load_codes
from pipeline.coding.conventions import Conventions, default_conventions_path, load_conventions
from pipeline.coding.dictionary import PLACE_KINDS, ActorDictionary, load_actor_dictionary
from pipeline.coding.lexicon import Lexicon, default_lexicon_path, load_lexicon
from pipeline.coding.match import RuleIndex
from pipeline.coding.rules import Rule, default_rules_path, generated_rules_path, load_rules
from pipeline.coding.segment import Discards, default_discards_path, load_discards
from pipeline.coding.sieve import Vocabulary
from pipeline.geo.gazetteer import default_gazetteer_path
from pipeline.records import Event

# The coder's own version, raised when its code changes what it codes (0.5: the
# pipeline.coding package). Events record it plus a digest of every data file that
# affects coding, so any edit to the data changes the version stamped on new events.
CODER_VERSION = "rules-0.5"


class RuleCoder:
    name = "rules"

    def __init__(
        self,
        rules: list[Rule] | None = None,
        dictionary: ActorDictionary | None = None,
        codes: dict[str, CodeInfo] | None = None,
        lexicon: Lexicon | None = None,
        version: str = CODER_VERSION,
        conventions: Conventions | None = None,
        discards: Discards | None = None,
    ) -> None:
        self.rules = rules if rules is not None else load_rules()
        self.dictionary = dictionary or load_actor_dictionary()
        self.codes = codes or load_codes()
        self.lexicon = lexicon or load_lexicon()
        used = {c for r in self.rules for c in (r.cameo, r.reverse, r.intent) if c}
        unknown = sorted(used - set(self.codes))
        if unknown:
            raise ValueError(f"trigger rules use CAMEO codes missing from the table: {unknown}")
        self.index = RuleIndex(self.rules)
        self.conventions = conventions or load_conventions()
        self.assembler = Assembler(
            self.index,
            self.dictionary,
            self.lexicon,
            self.conventions,
            self.codes,
            discards or load_discards(),
            version,
        )

    @property
    def version(self) -> str:
        return self.assembler.version

    @version.setter
    def version(self, value: str) -> None:
        self.assembler.version = value

    def code_doc(self, doc: Any, *, article_id: str, published: date | None) -> list[Event]:
        return self.assembler.code_doc(doc, article_id=article_id, published=published)

    def vocabulary(self) -> Vocabulary:
        """What the sentence filter needs to know of this coder (built once)."""
        return self._vocabulary

    @cached_property
    def _vocabulary(self) -> Vocabulary:
        """The first words of every trigger key, and the words that can start an actor
        that is not a named entity: agents ("police", "rebels"), demonyms and country
        names, and the words whose actor the document supplies (pronouns, "the two
        sides", "its rival"), for the sentence filter (pipeline.coding.sieve)."""
        places = {key for key, entries in self.dictionary.phrases.items()
                  if any(e.kind in PLACE_KINDS for e in entries)}  # fmt: skip
        starts = {key[0] for key in (*self.dictionary.sectors, *places)}
        return Vocabulary(
            triggers=frozenset(self.index.heads),
            actor_words=frozenset(
                {w for w in starts if _content_word(w)} | ANAPHORS | self.lexicon.counterparts
            ),
            actor_labels=self.lexicon.actor_labels,
        )


def _content_word(word: str) -> bool:
    """Not a stop word, a number or a letter: "a" or "20th" start some dictionary phrases
    ("a-37b") but say nothing of an actor alone."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return len(word) > 1 and not word[0].isdigit() and word not in STOP_WORDS


def data_digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha1()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:8]


@cache
def load_rule_coder(
    actors_dir: str | None = None, rules_file: str | None = None, petrarch: bool = True
) -> RuleCoder:
    """A rule coder from the shipped data files, or from a user's copies of them."""
    rules_paths = [Path(rules_file) if rules_file else default_rules_path()]
    if petrarch:
        rules_paths.append(generated_rules_path())
    dictionary = load_actor_dictionary(actors_dir)
    coder = RuleCoder([r for p in rules_paths for r in load_rules(p)], dictionary)
    coder.version = f"{CODER_VERSION}+{data_digest(coder_data_files(rules_paths, dictionary))}"
    return coder


def coder_data_files(rules_paths: list[Path], dictionary: ActorDictionary) -> list[Path]:
    """Every data file that affects what the rule coder codes: its version digest covers
    them all, so any edit changes the version stamped on new events."""
    return [*rules_paths, default_lexicon_path(), default_codes_path(),
            default_conventions_path(), default_discards_path(), default_gazetteer_path(),
            *sorted(dictionary.directory.glob("*.tsv"))]  # fmt: skip


@register("rules")
def _rules(files: CoderFiles) -> RuleCoder:
    return load_rule_coder(
        files.actors_dir or None, files.triggers_file or None, files.petrarch_vocabulary
    )
