"""The document as context: what earlier sentences and the article as a whole tell the
coder about a mention.

- the dateline ("KYIV, Ukraine (AP) —") and the country the article is mainly about,
  which give role-only actors ("the government", "police", "the army") their country;
- people already named ("US Defense Secretary Pete Hegseth ... Hegseth"), remembered by
  surname;
- the actors recently mentioned, which pronouns ("it", "they", "he", "she") stand for.

A `DocContext` is built once per document (`build_context`) and updated sentence by
sentence as the coder goes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.coding.dictionary import ActorDictionary, Entry, tokens_of
from pipeline.gazetteer import load_gazetteer
from pipeline.records import Actor

# "KYIV, Ukraine (AP) —", "BEIRUT (Reuters) -", "LAGOS, Nigeria —", "MUMBAI:"
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][A-Z'.\- ]{1,40}?)"
    r"(?:,\s*(?P<region>[A-Z][A-Za-z.'\- ]{1,40}?))?"
    r"(?:,?\s*\([A-Za-z.\- ]{1,20}\))?"
    r"(?:,?\s*(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?))?"
    r"\s*(?:[-—–:]{1,2})\s+"
)
_COUNTRY_KINDS = {"country", "capital", "place", "demonym", "metonym"}
_PLURAL_PRONOUNS = {"they", "them", "their"}
_PERSON_PRONOUNS = {"he", "she", "him", "her", "his"}


@dataclass
class Mention:
    sentence_idx: int
    actor: Actor
    person: bool  # a named person or a titled individual
    plural: bool  # coordinated actors or a plural noun ("the rebels")
    group: int  # mentions of one coordination share a group number


@dataclass
class DocContext:
    """What the coder knows about the document so far."""

    dateline_country: str = ""
    main_country: str = ""
    people: dict[str, Entry] = field(default_factory=dict)
    mentions: list[Mention] = field(default_factory=list)
    _groups: int = 0

    @property
    def country(self) -> str:
        """The country role-only actors belong to unless the sentence says otherwise."""
        return self.dateline_country or self.main_country

    def remember(self, sentence_idx: int, actors: list[Actor], *, person: bool,
                 plural: bool) -> None:  # fmt: skip
        resolved = [a for a in actors if a.code and not a.code.startswith("---")]
        if not resolved:
            return
        self._groups += 1
        for actor in resolved:
            self.mentions.append(
                Mention(sentence_idx, actor, person, plural or len(resolved) > 1, self._groups)
            )
        del self.mentions[:-60]

    def antecedent(self, pronoun: str, sentence_idx: int) -> list[Actor]:
        """The actors a pronoun stands for: the latest mention of the right kind in this
        or the two sentences before. "they" takes a whole coordination ("Germany and
        France ... they")."""
        word = pronoun.lower()
        for mention in reversed(self.mentions):
            if sentence_idx - mention.sentence_idx > 2:
                break
            if word in _PERSON_PRONOUNS:
                if mention.person:
                    return [mention.actor]
                continue
            if word in _PLURAL_PRONOUNS:
                if mention.plural:
                    return [m.actor for m in self.mentions if m.group == mention.group]
                continue
            if not mention.person and not mention.plural:  # "it", "its"
                return [mention.actor]
        return []


def dateline_country(text: str, dictionary: ActorDictionary) -> str:
    """The country of a dateline at the start of the text, or ""."""
    first = text.lstrip().split("\n", 1)
    for line in first[:2]:
        m = _DATELINE.match(line)
        if not m:
            continue
        for part in (m.group("region"), m.group("place")):
            if not part:
                continue
            name = part.strip().title()
            hits = dictionary.match(tokens_of(name), tokens_of(name, lower=False))
            country = next((h.entry.country for h in hits if h.entry.kind in _COUNTRY_KINDS
                            and h.entry.country), "")  # fmt: skip
            if country:
                return country
            place = load_gazetteer().locate(name)
            if place is not None:
                return place.country
    return ""


def main_country(doc: Any, dictionary: ActorDictionary) -> str:
    """The country an article is mainly about: the one named in at least half of the
    country mentions, at least twice, in a text of two sentences or more."""
    counts: Counter[str] = Counter()
    for ent in doc.ents:
        if ent.label_ not in {"GPE", "NORP"}:
            continue
        hits = dictionary.match(tokens_of(ent.text), tokens_of(ent.text, lower=False))
        country = next((h.entry.country for h in hits if h.entry.kind in _COUNTRY_KINDS
                        and h.entry.country), "")  # fmt: skip
        if country:
            counts[country] += 1
    if not counts or sum(1 for _ in doc.sents) < 2:
        return ""
    country, n = counts.most_common(1)[0]
    return country if n >= 2 and n * 2 >= sum(counts.values()) else ""


def build_context(doc: Any, dictionary: ActorDictionary) -> DocContext:
    return DocContext(
        dateline_country=dateline_country(doc.text, dictionary),
        main_country=main_country(doc, dictionary),
    )
