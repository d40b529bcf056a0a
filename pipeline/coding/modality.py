"""How, where and when: an event's modality, its place and its date.

Modality comes from negation, future and modal auxiliaries and intent verbs; the place
from a GPE/LOC/FAC attached by "in" or "at" (through the gazetteer); the date from a DATE
entity in the trigger's clause (through `pipeline.timex`), or from a named past war or
crisis ("during the Kosovo war": 1999, year precision).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.coding.conventions import Conventions
from pipeline.coding.dictionary import ActorDictionary, tokens_of
from pipeline.coding.lexicon import Lexicon
from pipeline.coding.parse import children, ent_at, prep_objects, sent_ents, sent_of
from pipeline.geo.gazetteer import Entry, geoparsed, load_gazetteer, place_at
from pipeline.timex import resolve_date


@dataclass(frozen=True)
class Modality:
    name: str  # asserted | intended | negated | hypothetical
    confidence: float
    refusal: bool = False  # "will not", "would not", "won't": a refusal, not a negation


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_WARS = {"war", "wars", "conflict", "crisis", "intifada", "invasion", "genocide", "uprising",
         "revolution", "occupation", "campaign"}  # fmt: skip


class Circumstances:
    def __init__(self, dictionary: ActorDictionary, lex: Lexicon, conv: Conventions) -> None:
        self.dictionary = dictionary
        self.lex = lex
        self.conv = conv

    def modality(self, tok: Any, clause: Any) -> Modality:
        heads = {tok, clause}
        # "had no intention of attacking": a "no" on a governing noun negates the clause.
        heads |= {a for a in list(tok.ancestors)[:3] if a.pos_ == "NOUN"}
        children = [c for h in heads for c in h.children]
        aux = {c.lower_ for c in children if c.dep_ in {"aux", "auxpass"}}
        if any(c.dep_ == "neg" for c in children) or any(
            c.dep_ == "det" and c.lower_ in {"no"} for c in children
        ):
            refusal = bool(aux & (self.lex.future_aux | {"would"}))
            return Modality("negated", 0.8, refusal=refusal)
        if aux & self.lex.future_aux:
            return Modality("intended", 0.8)
        governor = clause.head.lemma_.lower() if clause.dep_ == "xcomp" else ""
        if governor in self.lex.intent_verbs or governor in self.conv.scheduled_verbs:
            return Modality("intended", 0.75)
        if "would" in aux and clause.head.lemma_.lower() in self.lex.reporting_verbs:
            return Modality("intended", 0.7)
        if aux & self.lex.hypothetical_aux:
            return Modality("hypothetical", 0.5)
        if any(c.dep_ == "mark" and c.lower_ in {"if", "unless"} for c in children):
            return Modality("hypothetical", 0.5)
        return Modality("asserted", 0.9)

    def place(self, tok: Any, clause: Any) -> tuple[str | None, Entry | None, str | None]:
        """The place named for the event: its text, gazetteer entry and country."""
        heads = [tok, clause]
        # "met ... on the sidelines of the summit in Malaysia": look one or two
        # prepositional phrases down as well.
        for head in (tok, clause):
            for prep in head.children:
                if prep.dep_ == "prep":
                    for pobj in children(prep, {"pobj"}):
                        heads.append(pobj)
                        heads.extend(
                            o for p2 in pobj.children if p2.dep_ == "prep"
                            for o in children(p2, {"pobj"})
                        )  # fmt: skip
        for head in heads:
            for pobj in prep_objects(head, self.lex.place_preps):
                ent = ent_at(pobj)
                if ent is None or ent.label_ not in {"GPE", "LOC", "FAC"}:
                    continue
                text = ent.text
                hits = self.dictionary.match(tokens_of(text), tokens_of(text, lower=False))
                kinds = {h.entry.kind: h.entry.country for h in hits}
                gazetteer = load_gazetteer()
                if "country" in kinds:
                    return text, gazetteer.country(kinds["country"]), kinds["country"]
                if geoparsed(ent.doc):
                    # the geoparser's reading: "in Athens" in a story from Georgia
                    found = place_at(ent.doc, ent.start_char, ent.end_char, text)
                    if found is not None and found.country:
                        return text, found, found.country
                hint = kinds.get("capital") or kinds.get("place")
                found = gazetteer.locate(text, hint)
                return text, found, hint or (found.country if found else None)
        return None, None, None

    def past_event(self, tok: Any, clause: Any) -> int | None:
        """The year of a named past war or crisis the clause dates itself by: "during the
        Kosovo war", "in the 1967 war", "since the Gulf War"."""
        for head in {tok, clause}:
            for prep in head.children:
                if prep.dep_ != "prep" or prep.lower_ not in {"in", "during", "after", "since",
                                                              "before", "throughout"}:  # fmt: skip
                    continue
                for pobj in children(prep, {"pobj"}):
                    if pobj.lemma_.lower() not in _WARS:
                        continue
                    phrase = " ".join(t.lower_ for t in pobj.subtree if t.dep_ != "det")
                    for name, year in self.conv.past_events.items():
                        if name in phrase:
                            return year
                    m = _YEAR.search(phrase)
                    if m:
                        return int(m.group(1))
        return None

    def when(
        self, tok: Any, clause: Any, published: date | None, future: bool
    ) -> tuple[date | None, str, str]:
        if published is None:
            return None, "none", ""
        year = self.past_event(tok, clause)
        if year is not None and year <= published.year:
            return date(year, 1, 1), "text", "year"
        ids = {t.i for h in {tok, clause} for t in h.subtree}
        for ent in sent_ents(sent_of(tok)):
            if ent.label_ != "DATE" or ent.root.i not in ids:
                continue
            # Dates inside another clause (a relative clause, say) belong to that clause.
            if any(
                a.dep_ in {"relcl", "ccomp"} and a.i in ids and a not in {tok, clause}
                for a in ent.root.ancestors
            ):
                continue
            resolved = resolve_date(ent.text, published, future=future)
            if resolved:
                return resolved[0], "text", resolved[1]
        return published, "published", "day"
