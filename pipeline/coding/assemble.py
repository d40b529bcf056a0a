"""Assembly: from matched candidates to `Event` records.

For each candidate: the governing verb wins over its complement ("threatened to attack"),
modality and intent codes are applied, source and target are resolved to actors,
coordinated actors expand, reciprocal and reverse rules add their pairs, and the code
table supplies names, PLOVER, QuadClass and Goldstein.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipeline.coding.actors import ActorResolver
from pipeline.coding.codes import CodeInfo
from pipeline.coding.dictionary import ActorDictionary, Entry
from pipeline.coding.lexicon import Lexicon
from pipeline.coding.match import RuleIndex, match_events
from pipeline.coding.modality import Circumstances
from pipeline.coding.parse import conjuncts, reported_content
from pipeline.records import Actor, Event


class Assembler:
    def __init__(
        self,
        index: RuleIndex,
        dictionary: ActorDictionary,
        lex: Lexicon,
        codes: dict[str, CodeInfo],
        version: str,
    ) -> None:
        self.index = index
        self.dictionary = dictionary
        self.lex = lex
        self.codes = codes
        self.version = version
        self.resolver = ActorResolver(dictionary, lex)
        self.how = Circumstances(dictionary, lex)

    def code_sentence(
        self,
        sent: Any,
        *,
        article_id: str,
        sentence_idx: int,
        published: date | None,
        memory: dict[str, Entry],
        first_idx: int = 0,
    ) -> list[Event]:
        events: list[Event] = []
        seen: set[tuple[str, str, str, int]] = set()
        candidates = list(match_events(sent, self.index, self.lex, self.dictionary))
        by_trigger = {c.trigger.i: c for c in candidates}
        # "threatened to attack X", "agreed to establish": the governing verb is the event,
        # and takes the complement's target when it has none of its own.
        overrides: dict[int, str] = {}
        for cand in candidates:
            parent = by_trigger.get(cand.trigger.head.i)
            if cand.trigger.dep_ != "xcomp" or parent is None or parent is cand:
                continue
            if not parent.targets:
                parent.targets = cand.targets
            # Vowing or promising to attack is a threat, not an intent to cooperate.
            if (parent.rule.cameo or "")[:2] == "03" and (cand.rule.cameo or "")[:2] in {
                "17",
                "18",
                "19",
                "20",
            }:
                overrides[parent.trigger.i] = "138"
        for cand in candidates:
            tok, rule = cand.trigger, cand.rule
            if tok.dep_ == "xcomp" and tok.head.i in by_trigger:
                continue
            if reported_content(tok, self.lex):
                continue
            clause = tok.head if rule.light and tok.dep_ in {"dobj", "nsubjpass"} else tok
            modality, confidence = self.how.modality(tok, clause)
            code = overrides.get(tok.i, rule.cameo or "")
            if modality == "intended" and tok.i not in overrides:
                # Announced cooperation is an intent to cooperate (03x); announced
                # conflict keeps its own code.
                code = rule.intent or self.lex.intent_codes.get(code[:2], code)
            info = self.codes[code]
            place, where, place_country = self.how.place(tok, clause)
            when, date_source, precision = self.how.when(
                tok, clause, published, modality == "intended"
            )
            src_heads = [c for h in cand.sources for c in conjuncts(h)]
            tgt_heads = [c for h in cand.targets for c in conjuncts(h)]
            as_of = when if date_source == "text" and when else published
            sources = [
                (h, a) for h in src_heads for a in self.resolver.resolve_actors(h, as_of, memory)
            ]
            sources = [(h, a) for h, a in sources if self.resolver.is_actor_like(h, a)]
            if not sources:
                continue
            targets = []
            for h in tgt_heads:
                other = self.resolver.counterpart(h, sources, as_of, memory)
                targets += (
                    [(h, other)]
                    if other
                    else [(h, a) for a in self.resolver.resolve_actors(h, as_of, memory)]
                )
            targets = [(h, a if a.code else self.resolver.inner_actor(h, a, as_of, memory))
                       for h, a in targets]  # fmt: skip
            actor_targets = [(h, a) for h, a in targets if self.resolver.is_actor_like(h, a)]
            if rule.object_actor and not actor_targets:
                continue
            targets = actor_targets or targets[:1]
            targets = [(h, self.resolver.domestic(a, sources, place_country)) for h, a in targets]
            pairs: list[tuple[Actor, Actor | None]] = []
            each_other = any(h.lower_ in {"other", "another"} for h in tgt_heads)
            if each_other:
                targets = []
            if cand.pair or ((rule.reciprocal or each_other) and not targets and len(sources) > 1):
                for _, a in sources:
                    for _, b in sources:
                        if a is not b:
                            pairs.append((a, b))
            elif targets:
                pairs = [(a, b) for _, a in sources for _, b in targets]
            else:
                pairs = [(a, None) for _, a in sources]
            if rule.reverse and modality != "intended":
                pairs += [(b, a) for a, b in list(pairs) if b is not None]
            for n_pair, (source, target) in enumerate(pairs):
                if target is not None and source.code and source.code == target.code:
                    continue
                if rule.reverse and n_pair >= len(pairs) // 2 and modality != "intended":
                    info = self.codes[rule.reverse]
                else:
                    info = self.codes[code]
                key = (source.text, target.text if target else "", info.code, tok.i)
                if key in seen:
                    continue
                seen.add(key)
                conf = confidence if target is None or target.code else confidence - 0.2
                if not source.code:
                    conf -= 0.2
                events.append(
                    Event(
                        article_id=article_id,
                        event_idx=first_idx + len(events),
                        sentence_idx=sentence_idx,
                        sentence=sent.text,
                        source=source,
                        target=target,
                        trigger=tok.text,
                        trigger_start=tok.idx - sent.start_char,
                        trigger_end=tok.idx + len(tok.text) - sent.start_char,
                        cameo_code=info.code,
                        root_code=info.root,
                        root_name=info.root_name,
                        plover=info.plover,
                        quad_class=info.quad_class,
                        goldstein=info.goldstein,
                        modality=modality,
                        confidence=round(max(conf, 0.05), 2),
                        event_date=when,
                        date_source=date_source,
                        date_precision=precision,
                        location=place,
                        location_country=place_country,
                        latitude=where.latitude if where else None,
                        longitude=where.longitude if where else None,
                        coder_version=self.version,
                    )
                )
        return events
