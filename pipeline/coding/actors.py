"""Actor resolution: from the noun phrase of a source or target to an `Actor`, using the
actor dictionaries, the document's memory of people, and the gazetteer.

An actor that cannot be resolved keeps its text and gets an empty code: it is never
guessed.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from pipeline.coding.context import DocContext
from pipeline.coding.conventions import Conventions
from pipeline.coding.dictionary import ActorDictionary, Entry, tokens_of
from pipeline.coding.lexicon import Lexicon
from pipeline.coding.parse import (
    SUBJ,
    actor_tokens,
    children,
    conjuncts,
    doc_ents,
    doc_text,
    ent_at,
    prep_objects,
    quantity_head,
    sent_ents,
    sent_of,
)
from pipeline.geo.gazetteer import geoparsed, place_at
from pipeline.records import Actor

# Pronouns that stand for an actor named elsewhere.
_ACTOR_PRONOUNS = {"it", "they", "he", "she", "we"}
_OBJECT_PRONOUNS = {"him", "her", "them"}
_POSSESSIVES = {"its": "it", "their": "they", "his": "he", "her": "she", "our": "we"}
_PLACE_LABELS = {"GPE", "LOC", "FAC"}
# What names the country of a modifier ("South Korean destroyers"), and of a place ("in
# Lagos").
_NAMING_KINDS = {"demonym", "country", "capital"}
_WHERE_KINDS = {"country", "capital", "place"}
# "the two sides", "both countries", "the three nations": the last parties named.
_PARTY_COUNTS = {"both": 2, "two": 2, "three": 3, "four": 4}
_PAIR_NOUNS = {"side", "party", "man", "leader", "country", "nation", "government", "power",
               "neighbour", "neighbor", "rival", "camp", "delegation", "minister"}  # fmt: skip
# Words whose actor the document supplies ("he", "their army", "the two sides", "the
# country"): a sentence with one of them may hold an event (pipeline.coding.sieve).
ANAPHORS = frozenset(_ACTOR_PRONOUNS | _OBJECT_PRONOUNS | set(_POSSESSIVES) | _PAIR_NOUNS)


def _written_at(head: Any, actors: list[Actor]) -> list[Actor]:
    """Actors found elsewhere, as this mention writes them: "he", "the two sides"."""
    sent_start = sent_of(head).start_char
    start, end = head.idx - sent_start, head.idx + len(head.text) - sent_start
    return [dataclasses.replace(a, text=head.text, start_char=start, end_char=end) for a in actors]


def _phrase_up_to(head: Any) -> tuple[str, int, int]:
    """The words of a head's phrase up to the head ("its rival", "the country"), with
    their offsets in the sentence."""
    sent_start, first = sent_of(head).start_char, head.left_edge
    end = head.idx + len(head.text)
    return doc_text(head.doc)[first.idx : end], first.idx - sent_start, end - sent_start


class ActorResolver:
    def __init__(self, dictionary: ActorDictionary, lex: Lexicon) -> None:
        self.dictionary = dictionary
        self.lex = lex

    def historical(self, actor: Actor, when: date | None) -> Actor:
        """A country that had another code on the date: Serbia in 1999 is FR Yugoslavia
        (SCG), as Phoenix codes it; Moscow in 1985 is the Soviet centre (SUN), while the
        Russian republic keeps RUS (pipeline/data/actors/historical_countries.tsv)."""
        rows = self.dictionary.historical.get(actor.country)
        if when is None or not rows:
            return actor
        words = set(actor.text.lower().replace("'s", "").split())
        for code, start, end, names in rows:
            if start <= when <= end and (not names or names & words):
                return dataclasses.replace(
                    actor,
                    code=code + actor.code[len(actor.country) :],
                    country=code,
                    name=self.dictionary.country_names.get(code, actor.name),
                )
        return actor

    def resolve_actors(self, head: Any, when: date | None, memory: dict[str, Entry]) -> list[Actor]:
        """Usually one actor; "Russian and Ukrainian envoys" gives one per country."""
        base = self.resolve_actor(head, when, memory)
        coordinated = [
            a for a in head.children
            if a.dep_ in {"amod", "compound", "nmod"} and any(x.dep_ == "conj" for x in a.children)
        ]  # fmt: skip
        adjectives = [c for a in coordinated for c in conjuncts(a)]
        doc = head.doc
        if len(adjectives) < 2:
            # "the foreign ministers of Egypt, Jordan and Iraq": one actor per country.
            owners = [c for p in head.children if p.dep_ == "prep" and p.lower_ == "of"
                      for o in children(p, {"pobj"}) for c in conjuncts(o)]  # fmt: skip
            if len(owners) < 2 or head.ent_type_:
                return [base]
            return self._per_country(base, head, owners, of=True) or [base]
        # "U.S., Japanese and South Korean destroyers": the parser often hangs the first
        # of a list off the noun on its own, followed by a comma.
        first = min(a.i for a in adjectives)
        adjectives[:0] = [
            a for a in head.children
            if a.dep_ in {"amod", "compound", "nmod"} and a.i < first and a not in adjectives
            and a.i + 1 < len(doc) and doc[a.i + 1].text == ","
        ]  # fmt: skip
        return self._per_country(base, head, adjectives, of=False) or [base]

    def _per_country(self, base: Actor, head: Any, names: list[Any], *, of: bool) -> list[Actor]:
        """`base` once per country named by `names` (modifiers of `head`, or the objects
        of its "of"); nothing when one of them is not a country."""
        doc = head.doc
        out: list[Actor] = []
        sent_start = sent_of(head).start_char
        for adj in names:
            # "South Korean": the modifier with its own compound or adjective words.
            words = [c for c in adj.children if c.dep_ in {"compound", "amod"} and c.i < adj.i]
            left = words[0] if words else adj
            name = doc_text(doc)[left.idx : adj.idx + len(adj.text)]
            country = next(iter(self.dictionary.countries_in(name, _NAMING_KINDS)), "")
            if not country:
                return []
            first, last = (head, adj) if of else (left, head)
            out.append(
                dataclasses.replace(
                    base,
                    name=self.dictionary.country_names.get(country, name),
                    code=country + base.sector,
                    country=country,
                    text=f"{head.text} of {name}" if of else f"{name} {head.text}",
                    start_char=first.idx - sent_start,
                    end_char=last.idx + len(last.text) - sent_start,
                )
            )
        return out

    def resolve_actor(self, head: Any, when: date | None, memory: dict[str, Entry]) -> Actor:
        toks = actor_tokens(head)
        sent_start = sent_of(head).start_char
        text = doc_text(head.doc)[toks[0].idx : toks[-1].idx + len(toks[-1].text)]
        start, end = toks[0].idx - sent_start, toks[-1].idx + len(toks[-1].text) - sent_start
        words = tokens_of(text)
        matches = self.dictionary.match(words, tokens_of(text, lower=False))
        country = sector = code = name = ""
        person: Entry | None = None
        for m in matches:
            entry = m.entry
            if entry.kind == "person":
                if person is None:
                    person = self.dictionary.person_entries(
                        [x.entry for x in matches if x.start == m.start], when
                    )
                continue
            # The leftmost mention decides: "Ukraine's bid to join the EU" is Ukraine,
            # "the EU's envoy to Ukraine" is the EU.
            if entry.kind == "org" and not code and not country:
                code, name = entry.code, entry.name
                country = entry.country
            elif (
                entry.kind in {"country", "capital", "place", "demonym", "metonym"} and not country
            ):
                country, name = entry.country, name or entry.name
        person_names = [
            e.text
            for e in doc_ents(head.doc)
            if e.label_ == "PERSON" and toks[0].i <= e.start < e.end <= toks[-1].i + 1
        ]
        if person is not None:
            country = country or person.country
            sector = person.sector
            name = person.name
            if person.code and not person.country and not country:
                code = person.code  # an organisation's official: "IAEA chief Grossi"
        elif person_names:
            surname = tokens_of(person_names[-1])
            remembered = memory.get(" ".join(surname)) or next(
                (memory[part] for part in surname if part in memory), None
            )
            if remembered and not country and not code:
                country, sector, name = remembered.country, remembered.sector, remembered.name
                code = remembered.code
            elif not remembered and len(surname) == 1 and when is not None and not code:
                # "Prime Minister Thatcher", "French President Mitterrand": a title and a
                # surname that one office-holder of the day had.
                titled = self.dictionary.sector_of(tuple(w for w in words if w not in surname))
                held = self.dictionary.office_holder(surname[0], when, country) if titled else None
                if held is not None:
                    person = held
                    country, sector, name = held.country, held.sector, held.name
        if not sector and not code:
            # Not from a country's own name: "the Soviet Union" is no trade union.
            named = {i for m in matches if m.entry.kind == "country" for i in range(m.start, m.end)}
            sector = self.dictionary.sector_of(
                tuple(w for i, w in enumerate(words) if i not in named)
            )
        if sector and not country and not code and person is None:
            for place in prep_objects(head, ["in"]):
                ent = ent_at(place)
                phrase = ent.text if ent is not None else place.text
                country = ""
                if ent is not None and geoparsed(ent.doc):
                    # "Police in Athens" in a story from Georgia: the geoparser's Athens
                    found = place_at(ent.doc, ent.start_char, ent.end_char, ent.text)
                    country = found.country if found is not None else ""
                country = country or next(
                    iter(self.dictionary.countries_in(phrase, _WHERE_KINDS)), ""
                )
                if not country and ent is not None and ent.label_ == "GPE":
                    # "civilians in Douma": a city the gazetteer knows gives its country.
                    found = place_at(ent.doc, ent.start_char, ent.end_char, ent.text)
                    country = found.country if found and found.kind == "city" else ""
                if country:
                    break
        if sector and not country and not code:
            # "Minneapolis Mayor Jacob Frey", "the Cebu governor": a city in the phrase.
            for ent in sent_ents(sent_of(head)):
                if ent.label_ == "GPE" and toks[0].i <= ent.root.i <= toks[-1].i:
                    found = place_at(ent.doc, ent.start_char, ent.end_char, ent.text)
                    if found is not None and found.kind == "city":
                        country = found.country
                        break
        if person is None and person_names and not name:
            name = " ".join(tokens_of(person_names[-1])).title()
        if person_names and (country or code):
            entry = Entry("person", name or person_names[-1], country=country, sector=sector,
                          code=code)  # fmt: skip
            full = tokens_of(person_names[-1])
            if full:
                memory[" ".join(full)] = entry
                for part in full:  # "Hegseth", and "Wang" of "Wang Yi"
                    memory.setdefault(part, entry)
        if code:
            final = code
        elif country:
            final = country + sector
        else:
            final = ""
        if not name:
            name = self.dictionary.country_names.get(country, "") or text
        return Actor(
            text=text,
            name=name,
            code=final,
            country=country,
            sector=sector if final and not code else "",
            start_char=start,
            end_char=end,
        )

    def inner_actor(self, head: Any, actor: Actor, when: date | None,
                     memory: dict[str, Entry]) -> Actor:  # fmt: skip
        """An unresolved target phrase stands for the first actor named inside it:
        "restoring dialogue with North Korea", "abuses by Iranian security forces"."""
        for tok in head.subtree:
            if tok is head or tok.ent_type_ not in {"GPE", "NORP", "ORG", "PERSON"}:
                continue
            if tok.ent_iob_ != "B":
                continue
            inner = self.resolve_actor(ent_at(tok).root, when, memory)
            if inner.code:
                return inner
        return actor

    def counterpart(
        self, head: Any, sources: list[tuple[Any, Actor]], when: date | None,
        memory: dict[str, Entry],
    ) -> Actor | None:  # fmt: skip
        """ "accusing its rival": the other country named earlier in the same sentence."""
        if head.lemma_.lower() not in self.lex.counterparts or not any(
            c.dep_ == "poss" and c.lower_ in {"its", "their"} for c in head.children
        ):
            return None
        own = {a.country for _, a in sources}
        for ent in reversed([e for e in sent_ents(sent_of(head)) if e.end <= head.i]):
            if ent.label_ not in {"GPE", "NORP"}:
                continue
            actor = self.resolve_actor(ent.root, when, memory)
            if actor.country and actor.country not in own:
                text, start, end = _phrase_up_to(head)
                return dataclasses.replace(actor, text=text, start_char=start, end_char=end)
        return None

    def materiel(self, actor: Actor) -> bool:
        """A weapon or vehicle with no country ("a missile", "the drones"): not an actor."""
        words = tokens_of(actor.text)
        if actor.country or not set(words) & self.lex.materiel:
            return False
        return not self.dictionary.sector_of(tuple(w for w in words if w not in self.lex.materiel))

    def is_actor_like(self, head: Any, actor: Actor) -> bool:
        if actor.code and not actor.code.startswith("---"):
            return True
        if head.lower_ in self.lex.pronouns:
            return False
        if self.materiel(actor):
            return False
        if self.dictionary.sector_of(tokens_of(actor.text)):  # "gunmen", "opposition members"
            return True
        return any(t.ent_type_ in self.lex.actor_labels for t in actor_tokens(head))

    # -- the document as context ---------------------------------------------------------

    def resolve_in_context(
        self, head: Any, when: date | None, ctx: DocContext, sentence_idx: int
    ) -> list[Actor]:
        """Actors for a source or target head, with pronouns resolved: in reported speech
        to the reporter ("Egypt said it would", "Germany and France said they will"),
        else to the latest fitting actor of this or the two previous sentences."""
        head = self.quantity_head(head)
        word = head.lower_
        number = max((_PARTY_COUNTS.get(c.lower_, 0) for c in head.children), default=0)
        if (
            not number
            and head.lemma_.lower() in {"country", "nation"}
            and any(c.dep_ == "det" and c.lower_ in {"the", "this"} for c in head.children)
        ):
            found = [a for a in ctx.antecedent("it", sentence_idx, head.i) if a.country]
            if found:
                country = found[0].country
                text, start, end = _phrase_up_to(head)
                name = self.dictionary.country_names.get(country, country)
                return [Actor(text, name, country, country, "", start, end)]
        if head.lemma_.lower() in _PAIR_NOUNS and number:
            states = head.lemma_.lower() in {"country", "nation", "neighbour", "neighbor"}
            pair = ctx.antecedent("they", sentence_idx, head.i)
            if len(pair) != number or (states and not all(a.country for a in pair)):
                pair = ctx.last_parties(sentence_idx, head.i, number, countries=states)
            if len(pair) == number:
                return _written_at(head, pair)
        if word in _OBJECT_PRONOUNS and head.dep_ in {"dobj", "pobj", "dative"}:
            # "cut off all contact with him": not the clause's own subject.
            verb = head.head.head if head.dep_ == "pobj" else head.head
            subjects = frozenset(t.i for s in children(verb, SUBJ) for t in conjuncts(s))
            found = ctx.antecedent(word, sentence_idx, head.i, exclude=subjects)
            if found:
                return _written_at(head, found)
        if word in _ACTOR_PRONOUNS:
            found = self.reporter(head, when, ctx) or ctx.antecedent(word, sentence_idx, head.i)
            if found:
                return _written_at(head, found)
            return [self.resolve_actor(head, when, ctx.people)]
        actors = self.resolve_actors(head, when, ctx.people)
        return [self.historical(self.possessor(a, head, ctx, sentence_idx), when)
                for a in actors]  # fmt: skip

    def quantity_head(self, head: Any) -> Any:
        return quantity_head(head, self.lex)

    def reporter(self, pronoun: Any, when: date | None, ctx: DocContext) -> list[Actor]:
        """The subject of the clause a pronoun's clause is reported in."""
        if pronoun.dep_ not in SUBJ | {"nsubjpass"}:
            return []
        verb = pronoun.head
        for _ in range(3):
            if verb.dep_ not in {"ccomp", "xcomp", "advcl", "conj"} or verb.head is verb:
                return []
            verb = verb.head
            subj = children(verb, SUBJ)
            if not subj:
                continue
            if subj[0].lower_ in self.lex.pronouns:
                return []
            heads = conjuncts(subj[0])
            singular = len(heads) < 2 and subj[0].tag_ not in {"NNS", "NNPS"}
            if pronoun.lower_ == "they" and singular:
                return []
            actors = [self.resolve_actor(h, when, ctx.people) for h in heads]
            return [a for a in actors if a.code]
        return []

    def possessor(self, actor: Actor, head: Any, ctx: DocContext, sentence_idx: int) -> Actor:
        """ "its foreign ministry", "their army": a role whose owner is a pronoun."""
        if actor.code:
            return actor
        owner = next((c for c in head.children if c.dep_ == "poss" and
                      c.lower_ in _POSSESSIVES), None)  # fmt: skip
        if owner is None:
            return actor
        sector = self.dictionary.sector_of(tokens_of(actor.text))
        found = self.reporter_for_possessive(owner, ctx) or ctx.antecedent(
            _POSSESSIVES[owner.lower_], sentence_idx, owner.i
        )
        country = next((a.country for a in found if a.country), "")
        if not country or not sector:
            return actor
        return dataclasses.replace(actor, code=country + sector, country=country, sector=sector)

    def reporter_for_possessive(self, owner: Any, ctx: DocContext) -> list[Actor]:
        """ "Iran said its forces would ...": the possessor is the reporter."""
        verb = owner.head.head if owner.head.dep_ in SUBJ else None
        if verb is None or verb.dep_ != "ccomp":
            return []
        subj = children(verb.head, SUBJ)
        if not subj or subj[0].lower_ in self.lex.pronouns:
            return []
        actor = self.resolve_actor(subj[0], None, ctx.people)
        return [actor] if actor.code else []

    def place_actor(self, head: Any, actor: Actor) -> Actor:
        """A target named only by a place ("shelled Kharkiv") is the place's country."""
        if actor.code or actor.sector:
            return actor
        ent = ent_at(head)
        if ent is None:
            # "the southern city of Kherson", "the town of Douma"
            span = {t.i for t in actor_tokens(head)}
            ent = next((e for e in sent_ents(sent_of(head)) if e.root.i in span
                        and e.label_ in _PLACE_LABELS), None)  # fmt: skip
        if ent is None or ent.label_ not in _PLACE_LABELS:
            return actor
        found = place_at(ent.doc, ent.start_char, ent.end_char, ent.text)
        if found is None or not found.country:
            return actor
        return dataclasses.replace(actor, code=found.country, country=found.country,
                                   name=self.dictionary.country_names.get(found.country,
                                                                          actor.name))  # fmt: skip

    def role_country(
        self,
        actor: Actor,
        head: Any,
        sources: list[tuple[Any, Actor]],
        place_country: str | None,
        ctx: DocContext,
        sentence_idx: int,
    ) -> Actor:
        """A role-only actor ("police", "the army", "insurgents") takes the country of
        the event's place; a domestic role among the targets, else the source's country;
        else the document's (dateline, main country). With none, it is written ---ROLE."""
        if actor.code or head.lower_ in self.lex.pronouns or self.materiel(actor):
            return actor
        sector = actor.sector or self.dictionary.sector_of(tokens_of(actor.text))
        if not sector:
            return actor
        country = place_country or ""
        if not country and sources and sector in self.lex.domestic_sectors:
            countries = {a.country for _, a in sources if a.country}
            country = countries.pop() if len(countries) == 1 else ""
        if not country:
            others = {a.country for _, a in sources if a.country}
            country = ctx.recent_country(sentence_idx, head.i, others)
        country = country or ctx.country
        code = (country or "---") + sector
        return dataclasses.replace(actor, code=code, country=country, sector=sector)

    def instrument(
        self,
        trigger: Any,
        subjects: list[Any],
        when: date | None,
        ctx: DocContext,
        sentence_idx: int,
        conv: Conventions,
    ) -> tuple[str | None, list[tuple[Any, Actor]], str | None] | None:
        """An attack whose agent is given as a modifier of its instrument: "killed in
        Russian shelling", "killed by an Israeli air strike", "A car bomb killed ..."."""
        nouns = [o for p in trigger.children if p.dep_ in {"prep", "agent"}
                 and p.lower_ in {"in", "by", "during", "from", "after", "amid", "under"}
                 for o in children(p, {"pobj"})] + list(subjects)  # fmt: skip
        for noun in nouns:
            lemma = noun.lemma_.lower()
            keys = [f"{c.lower_} {lemma}" for c in noun.children
                    if c.dep_ in {"compound", "amod"}] + [lemma]  # fmt: skip
            key = next((k for k in keys if k in conv.instrument_codes), None)
            if key is None:
                continue
            agents: list[tuple[Any, Actor]] = []
            for c in noun.children:
                if c.dep_ in {"amod", "compound", "poss", "nmod"} and (
                    c.ent_type_ in {"GPE", "NORP", "ORG"} or c.lower_ in _POSSESSIVES
                ):
                    for a in self.resolve_in_context(c, when, ctx, sentence_idx):
                        if a.code and not a.code.startswith("---"):
                            agents.append((c, a))
            for p in prep_objects(noun, ["by", "from"]):
                for a in self.resolve_in_context(p, when, ctx, sentence_idx):
                    if a.code:
                        agents.append((p, a))
            place = None  # "shelling of Kharkiv", "air strikes on Gaza City"
            for p in prep_objects(noun, ["of", "on", "in"]):
                found = self.place_actor(p, Actor(p.text, p.text, "", "", "", 0, 0))
                if found.country:
                    place = found.country
                    break
            return conv.instrument_codes[key], agents, place
        return None
