"""Assembly: from matched candidates to `Event` records, with the document as context.

For each sentence:
1. `combine`: a verb that governs another act decides what is coded, by the
   conventions (pipeline/data/coder/conventions.json): "refused to meet" is a rejection,
   "vowed to strike" a threat, "urged Iran to release" an appeal, "agreed to lift
   sanctions" an intent (with the act as a second reading), "claimed that Pakistan
   attacked" an accusation (with the attack as a second reading), "failed to reach" no
   event. Otherwise the governing verb wins over its complement ("threatened to attack").
2. `realise`: modality, place and date; source and target resolved to actors (pronouns,
   role-only actors, places as targets, agents given as instruments); coordinated actors
   expand; reciprocal and reverse rules add their pairs; the code table supplies names,
   PLOVER, QuadClass and Goldstein.
3. `dedupe`: one happening described twice in a sentence is coded once ("launched an air
   strike", "met ... to discuss", "shelled Aleppo, killing twelve").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipeline.coding.actors import ActorResolver
from pipeline.coding.codes import CodeInfo
from pipeline.coding.context import DocContext, build_context
from pipeline.coding.conventions import CONFLICT, COOPERATIVE, VIOLENT, Conventions
from pipeline.coding.dictionary import ActorDictionary, tokens_of
from pipeline.coding.lexicon import Lexicon
from pipeline.coding.match import Candidate, RuleIndex, find_targets, match_events
from pipeline.coding.modality import Circumstances
from pipeline.coding.parse import (
    SUBJ,
    children,
    conjuncts,
    coordinated,
    direct_objects,
    doc_text,
    prep_objects,
    reported_content,
    sent_ents,
    sent_of,
    subject,
)
from pipeline.coding.segment import Discards, heading_lines, in_spans
from pipeline.records import Actor, Event

_COMPLEMENTS = {"xcomp", "ccomp"}
_ORDERS = {"order", "instruct", "direct", "command"}


@dataclass
class Plan:
    """What one event mention becomes: its trigger, code, actor heads and reading."""

    cand: Candidate
    code: str
    sources: list[Any]
    targets: list[Any]
    clause: Any
    modality: str | None = None  # forced by a convention; None: read from the clause
    primary: bool = True
    combined: bool = False  # made by a convention from two candidates
    flags: tuple[str, ...] = ()
    note: str = ""  # the convention that made it: "refusal", "threat", ...

    @property
    def trigger(self) -> Any:
        return self.cand.trigger


@dataclass
class Governed:
    """An act in the complement of a governing verb ("refused [to meet]"), with what the
    governing verb's clause supplies: its subject and its own target."""

    cand: Candidate  # the act
    head: Any  # the governing verb
    parent: Candidate | None  # the governing verb's own candidate, if it matched a rule
    subjects: list[Any]
    own_targets: list[Any]

    def plan(self, code: str, *, targets: list[Any] | None = None,
             modality: str | None = None, primary: bool = True,
             note: str = "") -> Plan:  # fmt: skip
        """An event on the governing verb: its subject acts, on its own target or the
        act's."""
        base = self.parent or self.cand
        if targets is None:
            own = [t for t in self.own_targets if _actorish(t)]
            targets = (
                own
                or [t for t in self.cand.targets if _actorish(t)]
                or (self.own_targets or self.cand.targets)
            )
        return Plan(
            dataclasses.replace(base, trigger=self.head),
            code,
            self.subjects,
            targets,
            self.head,
            modality,
            primary,
            combined=True,
            note=f"{note}({self.cand.rule.id})" if note else "",
        )


@dataclass
class _Mention:
    event: Event
    trigger: Any
    primary: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _specific_intent(parent: Candidate | None) -> bool:
    """A governing verb whose own rule names the intent for this complement ("agreed
    to send" is 033 by the rule intent.agree_aid)."""
    return parent is not None and (parent.rule.cameo or "")[:2] == "03" and bool(parent.rule.xcomp)


def _actorish(tok: Any) -> bool:
    """Could this head be an actor: a named entity, a pronoun, or a plural or role noun."""
    return (
        bool(tok.ent_type_)
        or tok.pos_ in {"PRON", "PROPN"}
        or any(t.ent_type_ in {"GPE", "NORP", "ORG", "PERSON"} for t in tok.subtree)
    )


def head_lemma(tok: Any) -> str:
    """The lemma of a governing verb, with its particle: "rule out", "call off"."""
    lemma = tok.lemma_.lower()
    for c in tok.children:
        if c.dep_ == "prt":
            return f"{lemma} {c.lower_}"
    return lemma


def _empty_actor(tok: Any) -> Actor:
    """No source: "A car bomb killed six police officers" (the agent is unknown)."""
    at = tok.idx - sent_of(tok).start_char
    return Actor(text="", name="", code="", country="", sector="", start_char=at, end_char=at)


def _identified(actor: Actor | None) -> bool:
    """A country, an organisation or a named group: not empty, not role-only (---)."""
    return actor is not None and bool(actor.code) and not actor.code.startswith("---")


class Assembler:
    def __init__(
        self,
        index: RuleIndex,
        dictionary: ActorDictionary,
        lex: Lexicon,
        conventions: Conventions,
        codes: dict[str, CodeInfo],
        discards: Discards,
        version: str,
    ) -> None:
        self.index = index
        self.dictionary = dictionary
        self.lex = lex
        self.conv = conventions
        self.codes = codes
        self.discards = discards
        self.version = version
        self.resolver = ActorResolver(dictionary, lex)
        self.how = Circumstances(dictionary, lex, conventions)

    # -- the document -------------------------------------------------------------------

    def code_doc(self, doc: Any, *, article_id: str, published: date | None) -> list[Event]:
        text = doc_text(doc)
        if self.discards.skip_story(text):
            return []
        ctx = build_context(doc, self.dictionary)
        headings = heading_lines(text)
        events: list[Event] = []
        for idx, sent in enumerate(doc.sents):
            if not sent.text.strip():
                continue
            if headings and in_spans(sent.start_char, sent.end_char, headings):
                continue
            if self.discards.skip_sentence(sent.text) and not self._officials(sent):
                continue
            self._register(sent, idx, published, ctx)
            if not sent[0].tag:
                continue  # not parsed: the sentence filter saw no event in it
            found = self.code_sentence(
                sent, article_id=article_id, sentence_idx=idx, published=published, ctx=ctx
            )
            for event in found:
                events.append(dataclasses.replace(event, event_idx=len(events)))
        return events

    def _officials(self, sent: Any) -> bool:
        """A sentence where a government, army, court or legislature acts is coded even if
        it names a sport ("ministers would boycott the World Cup")."""
        if self.dictionary.sector_of(tokens_of(sent.text)) in {"GOV", "MIL", "LEG", "JUD", "COP"}:
            return True
        political = {
            "boycott", "ban", "sanction", "expel", "bar", "suspend", "invade", "bomb",
            "shell", "occupy", "annex", "hijack", "assassinate", "arrest", "detain",
        }  # fmt: skip
        return any(e.label_ in {"GPE", "NORP"} for e in sent_ents(sent)) and any(
            t.lemma_.lower() in political for t in sent
        )

    def _register(self, sent: Any, idx: int, published: date | None, ctx: DocContext) -> None:
        """The named actors of a sentence, for the pronouns of this and the next ones:
        people ("he", "she"), countries and bodies ("it"), coordinations ("they")."""
        seen: set[int] = set()
        for ent in sent_ents(sent):
            if ent.label_ not in {"PERSON", "GPE", "ORG", "NORP"} or ent.root.i in seen:
                continue
            heads = [h for h in conjuncts(ent.root) if h.ent_type_]
            seen.update(h.i for h in heads)
            actors = [self.resolver.resolve_actor(h, published, ctx.people) for h in heads]
            person = ent.label_ == "PERSON"
            plural = len(heads) > 1 or ent.root.tag_ in {"NNS", "NNPS"}
            ctx.remember(idx, [h.i for h in heads], actors, person=person, plural=plural)
        for subj in children(sent.root, SUBJ | {"nsubjpass"}):
            if subj.lower_ in self.lex.pronouns or subj.ent_type_:
                continue
            heads = conjuncts(subj)
            actors = [self.resolver.resolve_actor(h, published, ctx.people) for h in heads]
            plural = len(heads) > 1 or subj.tag_ in {"NNS", "NNPS"}
            ctx.remember(idx, [h.i for h in heads], actors, person=False, plural=plural)

    # -- one sentence -------------------------------------------------------------------

    def code_sentence(
        self,
        sent: Any,
        *,
        article_id: str,
        sentence_idx: int,
        published: date | None,
        ctx: DocContext,
    ) -> list[Event]:
        candidates = list(match_events(sent, self.index, self.lex, self.dictionary))
        mentions: list[_Mention] = []
        for plan in self.combine(candidates):
            mentions += self.realise(plan, sent, article_id, sentence_idx, published, ctx)
        return [m.event for m in self.dedupe(mentions)]

    # -- conventions --------------------------------------------------------------------

    def combine(self, candidates: list[Candidate]) -> list[Plan]:
        conv = self.conv
        by_tok = {c.trigger.i: c for c in candidates}
        dropped: set[int] = set()
        plans: list[Plan] = []
        for cand in candidates:
            tok = cand.trigger
            if cand.rule.cameo is None:
                continue
            act = self._act_token(cand)
            head = act.head
            if head is act:
                continue
            rel = act.dep_
            noun_object = cand.rule.pos == "NOUN" and act is tok and rel in {"dobj", "nsubjpass"}
            if rel not in _COMPLEMENTS and not noun_object:
                continue
            lemma = head_lemma(head)
            parent = by_tok.get(head.i)
            code = cand.rule.cameo
            root = code[:2]
            if parent is not None:
                subjects, own_targets = parent.sources, parent.targets
            else:
                subjects = subject(head, self.lex)[0]
                own_targets = find_targets(head, head, cand.rule, self.lex, self.dictionary)
            g = Governed(cand, head, parent, subjects, own_targets)
            if parent is not None and rel == "xcomp" and act.lemma_.lower() in parent.rule.xcomp:
                # The governing verb's rule is written for this complement ("ordered the
                # diplomats to leave" is an expulsion): it is the event.
                dropped.add(tok.i)
                if not parent.targets:
                    parent.targets = cand.targets
            elif lemma in conv.failure_verbs and rel == "xcomp":
                dropped |= {tok.i, head.i}
            elif lemma in conv.refusal_verbs and rel == "xcomp":
                dropped |= {tok.i, head.i}
                if root in COOPERATIVE:
                    new = conv.lookup(conv.refusal_codes, code) or "120"
                    plans.append(g.plan(new, modality="asserted", note="refusal"))
            elif (
                lemma in conv.cancel_verbs
                and (noun_object or rel == "xcomp")
                and (root in COOPERATIVE or root == "14")
            ):
                dropped |= {tok.i, head.i}
                cancelled = conv.lookup(conv.cancel_codes, code)
                if cancelled:
                    plans.append(g.plan(cancelled, targets=cand.targets or own_targets,
                                        modality="asserted", note="cancel"))  # fmt: skip
            elif lemma in conv.agree_verbs and rel == "xcomp":
                dropped |= {tok.i, head.i}
                if _specific_intent(parent):
                    # "agreed to send troops": the governing verb's own rule knows the intent.
                    plans.append(g.plan(str(parent.rule.cameo), modality="intended",  # type: ignore[union-attr]
                                        note="agree"))  # fmt: skip
                    if root in COOPERATIVE:
                        plans.append(g.plan(code, modality="intended", primary=False,
                                            note="agreed act"))  # fmt: skip
                elif root in COOPERATIVE:
                    intent = conv.intent(code, cand.rule.intent) or "030"
                    plans.append(g.plan(intent, modality="intended", note="agree"))
                    if intent != code:
                        plans.append(
                            g.plan(code, modality="intended", primary=False, note="agreed act")
                        )
                else:
                    plans.append(g.plan(code, modality="intended"))
            elif (
                lemma in conv.claim_verbs
                and rel == "ccomp"
                and act.tag_ == "VB"
                and not any(c.dep_ == "aux" for c in act.children)
            ):
                # "insisted that Israel withdraw": a demand (the subjunctive).
                dropped |= {tok.i, head.i}
                demanded = conv.lookup(conv.demand_codes, code) or "100"
                plans.append(
                    g.plan(demanded, targets=cand.sources, modality="asserted", note="demand")
                )
            elif lemma in conv.claim_verbs and rel == "ccomp" and root in CONFLICT:
                dropped |= {tok.i, head.i}
                accuse = conv.lookup(conv.accuse_codes, code) or "112"
                plans.append(
                    g.plan(accuse, targets=cand.sources, modality="asserted", note="claim")
                )
                plans.append(Plan(cand, code, cand.sources, cand.targets, tok, primary=False))
            elif (lemma in conv.demand_verbs | conv.appeal_verbs and rel in _COMPLEMENTS
                  and not (lemma == "tell" and rel != "xcomp")):  # fmt: skip
                addressee = self._addressee(head, tok, lemma)
                demand = lemma in conv.demand_verbs
                if lemma in _ORDERS and self._own_people(subjects, addressee):
                    # "ordered federal troops to clear the roads": an order to one's own
                    # people is the act, by whoever gave it.
                    dropped |= {tok.i, head.i}
                    plans.append(g.plan(code, targets=cand.targets, note="order"))
                elif addressee or demand:
                    dropped |= {tok.i, head.i}
                    table = conv.demand_codes if demand else conv.appeal_codes
                    new = conv.lookup(table, code) or ("100" if demand else "020")
                    plans.append(g.plan(new, targets=addressee or cand.sources,
                                        modality="asserted", note="appeal"))  # fmt: skip
                elif lemma in conv.commitment_verbs:
                    dropped |= {tok.i, head.i}
                    plans.append(self._commitment(g, code))
            elif rel == "xcomp" and (
                lemma in conv.commitment_verbs
                or (parent is not None and (parent.rule.cameo or "")[:2] == "03")
            ):
                dropped |= {tok.i, head.i}
                plans.append(self._commitment(g, code))
            elif parent is not None and rel == "xcomp" and parent is not cand:
                # "threatened to attack X": the governing verb is the event, and takes
                # the complement's target when it has none of its own.
                dropped.add(tok.i)
                if not parent.targets:
                    parent.targets = cand.targets
        for cand in candidates:
            # "violated the ceasefire by shelling Armenian positions": two acts, and the
            # first takes the second's target.
            tok = cand.trigger
            if tok.dep_ == "pcomp" and tok.head.lower_ == "by" and tok.head.head.i in by_tok:
                parent = by_tok[tok.head.head.i]
                if not parent.targets:
                    parent.targets = cand.targets
        # "expressed gratitude", "imposed sanctions": the noun is the event, not its verb.
        carriers = {
            c.clause.i
            for c in candidates
            if c.rule.light and c.clause is not None and c.clause is not c.trigger
        }
        for cand in candidates:
            if cand.trigger.i in dropped or cand.rule.cameo is None:
                continue
            if cand.trigger.i in carriers and not cand.rule.light:
                continue
            if reported_content(cand.trigger, self.lex):
                continue
            clause = cand.clause if cand.clause is not None else cand.trigger
            plans.append(Plan(cand, cand.rule.cameo, cand.sources, cand.targets, clause))
        return plans

    def _act_token(self, cand: Candidate) -> Any:
        """Where an act sits in its clause: a noun's light verb ("imposed [sanctions]"),
        an aspect verb ("to begin [peace talks]"), the first of coordinated verbs ("to
        step back and halt [fire]")."""
        act = cand.trigger
        if cand.rule.light and cand.clause is not None:
            act = cand.clause
        elif (
            cand.rule.pos == "NOUN"
            and act.dep_ in {"dobj", "nsubjpass"}
            and act.head.lemma_.lower() in self.conv.aspect_verbs
        ):
            act = act.head
        for _ in range(3):
            if act.dep_ != "conj" or act.head is act:
                break
            act = act.head
        return act

    def _commitment(self, g: Governed, code: str) -> Plan:
        """ "vowed to strike": a threat; "pledged to provide": an intent; else the act,
        intended."""
        root = code[:2]
        if root in CONFLICT:
            own = g.parent.rule.cameo if g.parent is not None else None
            threat = (
                own
                if own and own[:2] == "13" and own != "130"
                else self.conv.lookup(self.conv.threat_codes, code) or "138"
            )
            return g.plan(threat, modality="asserted", note="threat")
        if _specific_intent(g.parent):
            return g.plan(str(g.parent.rule.cameo), modality="intended", note="intent")  # type: ignore[union-attr]
        if root in COOPERATIVE:
            rule = g.cand.rule
            intent = self.conv.intent(code, rule.intent) or "030"
            return g.plan(intent, modality="intended", note="intent")
        return g.plan(code, modality="intended", note="intended")

    def _own_people(self, subjects: list[Any], addressee: list[Any]) -> bool:
        """Whether an order goes to the orderer's own people: troops, a ministry, police
        of no other country."""
        if not subjects or not addressee:
            return False
        own = {self.resolver.resolve_actor(s, None, {}).country for s in subjects}
        for head in addressee:
            actor = self.resolver.resolve_actor(head, None, {})
            role = actor.code or self.dictionary.sector_of(tokens_of(actor.text))
            if not role or (actor.country and actor.country not in own):
                return False
        return True

    def _addressee(self, head: Any, tok: Any, lemma: str) -> list[Any]:
        """Whom an appeal or demand is made to: "urged Iran to", "called on Iran to",
        "wants Australia to", "demanded that Turkey withdraw"."""
        found = [o for o in direct_objects(head) if o.i < tok.i]
        if lemma == "call":
            found = prep_objects(head, ["on", "upon"])
        if not found and tok.dep_ == "ccomp":
            found = children(tok, SUBJ)
        if not found:
            found = [o for o in children(tok, SUBJ) if o.i > head.i]
        return [f for f in found if f.lower_ not in self.lex.relative_pronouns]

    # -- one event mention --------------------------------------------------------------

    def realise(
        self,
        plan: Plan,
        sent: Any,
        article_id: str,
        sentence_idx: int,
        published: date | None,
        ctx: DocContext,
    ) -> list[_Mention]:
        cand, tok, rule = plan.cand, plan.trigger, plan.cand.rule
        clause = plan.clause
        read = self.how.modality(cand.trigger, clause if not plan.combined else tok)
        modality, confidence = plan.modality or read.name, read.confidence
        code = plan.code
        if plan.modality is None:
            if read.name == "negated" and read.refusal and code[:2] in COOPERATIVE:
                # "will not attend", "would not provide aid": a refusal is an event.
                code = self.conv.lookup(self.conv.refusal_codes, code) or "120"
                modality = "asserted"
            elif read.name == "intended" and code[:2] in COOPERATIVE:
                code = self.conv.intent(code, rule.intent) or code
        elif plan.modality == "asserted" and read.name in {"negated", "hypothetical"}:
            modality = read.name
        if code[:2] == "03" and modality == "asserted":
            modality = "intended"  # an intent to cooperate is about the future
        if code not in self.codes:
            return []
        place, where, place_country = self.how.place(cand.trigger, clause)
        when, date_source, precision = self.how.when(
            cand.trigger, clause, published, modality == "intended"
        )
        as_of = when if date_source == "text" and when else published
        src_heads = [c for h in plan.sources for c in coordinated(h)]
        tgt_heads = [c for h in plan.targets for c in coordinated(h)]
        # A coordinated phrase after the target counts only if it is an actor itself:
        # "recognised a Palestinian state, a move that drew a response from Israel".
        own_heads = {h.i for h in plan.targets}
        tgt_heads = [
            h
            for h in tgt_heads
            if h.i in own_heads
            or (_actorish(h) and (h.ent_type_ or self.dictionary.sector_of(tokens_of(h.text))))
        ]

        sources: list[tuple[Any, Actor]] = []
        for h in src_heads:
            for a in self.resolver.resolve_in_context(h, as_of, ctx, sentence_idx):
                sources.append((h, a))
        sources = [(h, a) for h, a in sources if self.resolver.is_actor_like(h, a)]
        instrument = None
        if code[:2] in VIOLENT and (not sources or cand.passive):
            instrument = self.resolver.instrument(cand.trigger, src_heads, as_of, ctx,
                                                  sentence_idx, self.conv)  # fmt: skip
            if instrument is not None:
                inst_code, inst_sources, _ = instrument
                if inst_sources and not sources:
                    sources = inst_sources
                if inst_code and (code.endswith("0") or len(code) == 2):
                    code = inst_code
        targets: list[tuple[Any, Actor]] = []
        for h in tgt_heads:
            other = self.resolver.counterpart(h, sources, as_of, ctx.people)
            if other:
                targets.append((h, other))
                continue
            for a in self.resolver.resolve_in_context(h, as_of, ctx, sentence_idx):
                if not a.code and h.i in own_heads:
                    a = self.resolver.inner_actor(h, a, as_of, ctx.people)
                if not a.code and h.i in own_heads:
                    a = self.resolver.place_actor(h, a)
                targets.append((h, a))
        actor_targets = [(h, a) for h, a in targets if self.resolver.is_actor_like(h, a)]
        if rule.object_actor and not actor_targets and not (rule.reciprocal and len(sources) > 1):
            return []
        if not actor_targets and rule.reciprocal and len(sources) > 1:
            targets = []  # "Armenia and Azerbaijan renewed negotiations": each other
        targets = actor_targets or targets[:1]
        # Diplomats who meet in Geneva are not Swiss: a meeting's place gives no role a
        # country. An attack's instrument may name the place ("shelling of Kharkiv").
        role_place = None if code[:2] in {"01", "02", "03", "04"} else place_country
        if instrument is not None and role_place is None and code[:2] in VIOLENT:
            role_place = instrument[2]
        sources = [
            (h, self.resolver.role_country(a, h, [], role_place, ctx, sentence_idx))
            for h, a in sources
        ]
        targets = [
            (h, self.resolver.role_country(a, h, sources, role_place, ctx, sentence_idx))
            for h, a in targets
        ]
        sources, targets = self._sentence_country(
            sent, sources, targets, place_country if code[:2] in {"01", "02", "03", "04"} else None
        )
        if not sources:
            # An attack with no named agent is coded when its target is identified and
            # its instrument is named ("a car bomb killed", "were killed in shelling").
            agentless = instrument is not None
            if code[:2] in VIOLENT and agentless and any(_identified(a) for _, a in targets):
                sources = [(tok, _empty_actor(tok))]
            else:
                return []

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
        reverse = rule.reverse if not plan.combined else None
        if reverse and modality != "intended" and reverse in self.codes:
            pairs += [(b, a) for a, b in list(pairs) if b is not None]

        third = code == "040" and place_country is not None
        if code[:2] == "10" and tok.lemma_.lower() in _ORDERS:
            # "ordered the foreign ministry to ...", "ordered units to ...": an order to
            # one's own people is not a demand on another actor.
            pairs = [(a, b) for a, b in pairs
                     if b is not None and b.country and b.country != a.country]  # fmt: skip
        out: list[_Mention] = []
        seen: set[tuple[str, str, str]] = set()
        n_forward = len(pairs) if not (reverse and modality != "intended") else len(pairs) // 2
        for n_pair, (source, target) in enumerate(pairs):
            if target is not None and source.code and source.code == target.code:
                if len(pairs) > 1:
                    continue
                target = None  # "Peru lifted the state of emergency in Lima": no other party
            own_code = code
            if (
                third
                and target is not None
                and source.country
                and target.country
                and (place_country not in {source.country, target.country})
            ):
                own_code = "044"  # a meeting in a third country
            info = self.codes[reverse if n_pair >= n_forward and reverse else own_code]
            # One event per pair of actors: "sanctions on Russia's banks ... against Moscow"
            # names Russia twice.
            key = (source.code or source.text,
                   (target.code or target.text) if target else "", info.code)  # fmt: skip
            if key in seen:
                continue
            seen.add(key)
            conf = confidence if target is None or target.code else confidence - 0.2
            if not source.code:
                conf -= 0.2
            flags = list(plan.flags)
            if not plan.primary:
                flags.append("second_reading")
            roles = bool(source.code) and target is not None and bool(target.code)
            if not (_identified(source) or _identified(target) or roles):
                # Neither actor is a country, a body or a group, and no two roles
                # interact ("A protester burned a car"): kept, flagged, not counted.
                flags.append("no_actor")
                conf = min(conf, 0.3)
            if when and published and precision == "year" and when.year < published.year:
                flags.append("background")
            out.append(
                _Mention(
                    Event(
                        article_id=article_id,
                        event_idx=0,
                        sentence_idx=sentence_idx,
                        sentence=sent.text.rstrip(),
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
                        is_primary=plan.primary,
                        flags=tuple(dict.fromkeys(flags)),
                        rule_id=plan.cand.rule.id + ("+" + plan.note if plan.note else ""),
                    ),
                    tok,
                    plan.primary,
                )
            )
        return out

    def _sentence_country(
        self,
        sent: Any,
        sources: list[tuple[Any, Actor]],
        targets: list[tuple[Any, Actor]],
        meeting_place: str | None = None,
    ) -> tuple[list[tuple[Any, Actor]], list[tuple[Any, Actor]]]:
        """A role-only actor still without a country takes the one country its sentence is
        about ("the federal government" in a sentence about the Nigeria Labour
        Congress), unless that country is the other side ("the government accused
        Iran")."""
        if not any(a.code.startswith("---") for _, a in [*sources, *targets]):
            return sources, targets
        countries = self._countries_of(sent) - {meeting_place}
        if len(countries) != 1:
            return sources, targets
        (country,) = countries

        def fill(
            side: list[tuple[Any, Actor]], other: list[tuple[Any, Actor]]
        ) -> list[tuple[Any, Actor]]:
            out = []
            for h, a in side:
                if not a.code.startswith("---"):
                    out.append((h, a))
                    continue
                state = a.sector in {"GOV", "MIL"}
                grassroots = a.sector in {"LAB", "OPP", "CVL", "EDU", "HLH", "AGR", "MED", "REF"}
                # "The government accused Iran": not Iran's government. "Insurgents
                # ambushed Chinese engineers": not Chinese insurgents. But "the union held
                # talks with the Spanish government": a Spanish union.
                clash = any(
                    o.country == country
                    and not (grassroots and o.sector in {"GOV", "MIL", "COP", "JUD", "LEG"})
                    for _, o in other
                )
                if clash or not (state or a.sector in self.lex.domestic_sectors):
                    out.append((h, a))
                else:
                    out.append(
                        (h, dataclasses.replace(a, code=country + a.sector, country=country))
                    )
            return out

        return fill(sources, targets), fill(targets, sources)

    def _countries_of(self, sent: Any) -> set[str]:
        out = set()
        for ent in sent_ents(sent):
            if ent.label_ not in {"GPE", "NORP", "ORG", "LOC", "FAC"}:
                continue
            out |= {c for c in self.dictionary.countries_in(ent.text) if c}
        return out

    # -- one happening, one event -------------------------------------------------------

    def dedupe(self, mentions: list[_Mention]) -> list[_Mention]:
        """Drop an event that restates another of the same sentence: the same source,
        target and root from a trigger linked to the other's in the parse (a verb and its
        object noun, a verb and its purpose clause), or the deaths that follow an attack
        ("shelled Aleppo, killing twelve")."""
        drop: set[int] = set()
        for i, a in enumerate(mentions):
            for j, b in enumerate(mentions):
                if i == j or j in drop or i in drop or a.primary != b.primary:
                    continue
                ea, eb = a.event, b.event
                if ea.source.code != eb.source.code:
                    continue
                if (a.trigger.i == b.trigger.i and i > j and ea.root_code == eb.root_code
                        and (ea.target.code if ea.target else "")
                        == (eb.target.code if eb.target else "")):  # fmt: skip
                    # One verb, two readings of its complement ("urged them to begin
                    # talks without preconditions"): one event.
                    drop.add(i)
                    continue
                linked = a.trigger.i == b.trigger.i or b.trigger in list(a.trigger.ancestors)[:3]
                if not linked:
                    continue
                ca, cb = ea.cameo_code.rstrip("0"), eb.cameo_code.rstrip("0")
                same = (
                    ea.root_code == eb.root_code
                    and (ca.startswith(cb) or cb.startswith(ca))
                    and (
                        (ea.target.code if ea.target else "")
                        == (eb.target.code if eb.target else "")
                        or ea.target is None
                        or eb.target is None
                    )
                )
                consequence = (
                    ea.root_code in VIOLENT
                    and eb.root_code in VIOLENT
                    and a.trigger.dep_ in {"advcl", "conj", "xcomp"}
                    and a.trigger.tag_ == "VBG"
                    and a.trigger.lemma_.lower() in self.conv.consequence_verbs
                )
                if consequence:
                    drop.add(i)
                elif same:
                    # Keep the more specific code; on a tie, the governing trigger.
                    drop.add(
                        i if len(ea.cameo_code.rstrip("0")) <= len(eb.cameo_code.rstrip("0")) else j
                    )
        return [m for n, m in enumerate(mentions) if n not in drop]
