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

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.coding.dictionary import ActorDictionary, Entry
from pipeline.coding.parse import doc_ents, doc_text
from pipeline.coding.segment import dateline
from pipeline.geo.gazetteer import load_gazetteer
from pipeline.records import Actor

_PLURAL_PRONOUNS = {"they", "them", "their"}
_PERSON_PRONOUNS = {"he", "she", "him", "her", "his"}


@dataclass
class Mention:
    sentence_idx: int
    position: int  # token index of the mention's head in the document
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
        """The country role-only actors belong to unless the sentence says otherwise:
        the one the article is mainly about, else the dateline's."""
        return self.main_country or self.dateline_country

    def remember(self, sentence_idx: int, positions: list[int], actors: list[Actor], *,
                 person: bool, plural: bool) -> None:  # fmt: skip
        """Actors mentioned together (one coordination), for the pronouns that follow."""
        pairs = [(p, a) for p, a in zip(positions, actors, strict=True)
                 if a.code and not a.code.startswith("---")]  # fmt: skip
        if not pairs:
            return
        self._groups += 1
        for position, actor in pairs:
            if any(m.position == position and m.actor.code == actor.code for m in self.mentions):
                continue
            self.mentions.append(Mention(sentence_idx, position, actor, person,
                                         plural or len(pairs) > 1, self._groups))  # fmt: skip
        self.mentions.sort(key=lambda m: m.position)
        del self.mentions[:-80]

    def recent_country(self, sentence_idx: int, position: int, exclude: set[str]) -> str:
        """The country named last before `position`, in this or the previous sentence,
        other than `exclude`: "The Lebanese government ... Prime Minister Fuad Saniora"."""
        for mention in reversed(self.mentions):
            if mention.position >= position:
                continue
            if sentence_idx - mention.sentence_idx > 1:
                break
            country = mention.actor.country
            if country and country not in exclude:
                return country
        return ""

    def last_parties(self, sentence_idx: int, position: int, n: int = 2,
                     countries: bool = False) -> list[Actor]:  # fmt: skip
        """The `n` parties named last: "the two sides", "both countries", "the three
        nations" (with `countries`, only states count)."""
        found: list[Actor] = []
        for mention in reversed(self.mentions):
            if mention.position >= position:
                continue
            if countries and (not mention.actor.country or mention.actor.code.startswith("IGO")):
                continue
            if sentence_idx - mention.sentence_idx > 2:
                break
            # Two parties, not one country twice ("Cambodia ... the Cambodian army").
            key = mention.actor.country or mention.actor.code
            if all((a.country or a.code) != key for a in found):
                found.append(mention.actor)
            if len(found) == n:
                return found[::-1]
        return []

    def antecedent(self, pronoun: str, sentence_idx: int, position: int,
                   exclude: frozenset[int] = frozenset()) -> list[Actor]:  # fmt: skip
        """The actors a pronoun stands for: the latest mention of the right kind before
        it, in this or the two sentences before, other than the mentions at `exclude`
        (an object pronoun is not its own clause's subject). "they" takes a whole
        coordination ("Germany and France ... they")."""
        word = pronoun.lower()
        for mention in reversed(self.mentions):
            if mention.position >= position or mention.position in exclude:
                continue
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
    found = dateline(text)
    if found is None:
        return ""
    for part in (found.region, found.place):
        if not part:
            continue
        name = part.strip().title()
        country = next((c for c in dictionary.countries_in(name) if c), "")
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
    for ent in doc_ents(doc):
        if ent.label_ not in {"GPE", "NORP"}:
            continue
        country = next((c for c in dictionary.countries_in(ent.text) if c), "")
        if country:
            counts[country] += 1
    if not counts or sum(1 for _ in doc.sents) < 2:
        return ""
    country, n = counts.most_common(1)[0]
    return country if n >= 2 and n * 2 >= sum(counts.values()) else ""


def build_context(doc: Any, dictionary: ActorDictionary) -> DocContext:
    return DocContext(
        dateline_country=dateline_country(doc_text(doc), dictionary),
        main_country=main_country(doc, dictionary),
    )
