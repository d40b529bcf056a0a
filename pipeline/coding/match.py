"""Candidate matching: which tokens of a sentence trigger which rule, with the parse
positions of their source and target.

`RuleIndex` holds the rules by lemma; `match_events` reads one sentence and yields
`Candidate`s. Turning candidates into events (actors, modality, codes) is
`pipeline.coding.assemble`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.coding.dictionary import ActorDictionary, tokens_of
from pipeline.coding.lexicon import Lexicon
from pipeline.coding.parse import (
    SUBJ,
    actor_tokens,
    children,
    conjuncts,
    deep_prep_objects,
    direct_objects,
    prep_objects,
    quantity_head,
    subject,
)
from pipeline.coding.rules import Rule, TokenView, phrase_possible, rule_matches


@dataclass
class Candidate:
    rule: Rule
    trigger: Any
    sources: list[Any]
    targets: list[Any]
    passive: bool
    pair: bool = False  # "meeting between A and B": sources are both parties
    clause: Any = None  # the verb whose clause the trigger is in (a noun's light verb)


class RuleIndex:
    """Trigger rules by lemma ("lemma particle" for phrasal verbs), in three tiers: the
    hand-written rules, the generated patterns (PETRARCH-2 phrase patterns), the
    generated bare verbs. A token is coded by the most specific matching rule of the
    first tier that has one, so a hand-written rule always wins over a generated one;
    and a word that has hand-written rules never takes a generated bare meaning."""

    def __init__(self, rules: Sequence[Rule], hand_owns: bool = True) -> None:
        self.rules = list(rules)
        self.hand_owns = hand_owns
        # hand-written; generated with conditions (patterns); generated bare verbs
        self.tiers: tuple[dict[str, list[Rule]], ...] = ({}, {}, {})
        for rule in self.rules:
            tier = self.tiers[0 if rule.source == "hand" else 2 if rule.specificity == 0 else 1]
            for lemma in rule.lemmas:
                tier.setdefault(lemma, []).append(rule)
        for tier in self.tiers:  # most specific first, stable: earlier rules win ties
            for key in tier:
                tier[key].sort(key=_by_specificity)
        # First words of every key ("call" of "call off"): a token whose lemma is none
        # of them has no rule at all, and is skipped at once.
        self.heads = {key.split()[0] for tier in self.tiers for key in tier}

    def candidates_for(self, tok: Any) -> list[list[Rule]]:
        lemma = tok.lemma_.lower()
        if lemma not in self.heads and tok.lower_ not in self.heads:
            return []
        particles = [f"{lemma} {p.lower_}" for p in tok.children if p.dep_ == "prt"]
        preps = [f"{lemma} {p.lower_}" for p in tok.children if p.dep_ == "prep"]
        # A phrasal verb ("shoot down", "call off") is its own word, in whichever tier.
        phrasal = [[r for key in particles for r in tier.get(key, [])] for tier in self.tiers]
        if any(phrasal):
            return [sorted(rules, key=_by_specificity) for rules in phrasal if rules]
        out = []
        hand = False
        for n, tier in enumerate(self.tiers):
            rules = tier.get(lemma) or tier.get(tok.lower_) or []
            extra = [r for key in preps for r in tier.get(key, [])]
            if extra:
                rules = sorted(rules + extra, key=_by_specificity)
            if n == 0:
                hand = bool(rules)
            if n == 2 and hand and self.hand_owns:
                break  # a word the hand-written rules know takes no generated bare meaning
            if rules:
                out.append(rules)
        return out


def _by_specificity(rule: Rule) -> int:
    return -rule.specificity


def best_rule(
    tok: Any, tiers: Sequence[Sequence[Rule]], lex: Lexicon, actors: ActorDictionary
) -> tuple[Rule, Any] | None:
    """The most specific rule whose conditions hold at `tok`, with its clause head, from
    the first tier that has one."""
    views: dict[int, TokenView] = {tok.i: TokenView(tok, tok)}
    own = views[tok.i]
    for rules in tiers:
        # Most specific first; among equals, the earlier rule in the file.
        for rule in rules:
            if rule.pos == "VERB":
                # The cheap test first: most converted patterns fail on their words.
                if rule.object_all:
                    first = rule.object_all[0]
                    if not (first.words & own.object_words) and not (
                        first.phrases and first.met_by(own.object_words)
                    ):
                        continue
                elif rule.prep_all and not phrase_possible(rule, own):
                    continue
            ok, clause = rule_matches(rule, tok, lex, views)
            if not ok:
                continue
            if rule.subject_sector is not None:
                heads = subject(clause, lex)[0]
                sectors = {
                    actors.sector_of(tokens_of(" ".join(t.text for t in actor_tokens(h))))
                    for h in heads
                }
                if not sectors & rule.subject_sector:
                    continue
            return rule, clause
    return None


def find_targets(
    tok: Any, clause: Any, rule: Rule, lex: Lexicon, actors: ActorDictionary | None = None
) -> list[Any]:
    """Target heads from the rule's slots, in order: the first slot that holds one wins.
    Then the object of a purpose clause ("fired tear gas to disperse protesters")."""
    found = _slot_targets(tok, clause, rule, lex, actors)
    if found or not rule.target:
        return found
    # "demanded that the IRA make clear ...", "urged that Iran halt": the subject of the
    # that-clause is whom the demand is made to.
    subjects = [s for c in children(tok, {"ccomp"}) for s in children(c, SUBJ) if s.i > tok.i]
    subjects = [s for s in subjects if s.lower_ not in lex.wh_words and _actorish(s)]
    if subjects and (rule.cameo or "")[:2] in {"02", "10", "11", "12", "13"}:
        return subjects
    # "began a hunger strike to press the prison service": the clause of a noun trigger.
    verb = clause if clause is not tok else tok.head if tok.dep_ == "dobj" else None
    comps = children(tok, {"advcl", "xcomp"})
    if verb is not None and tok.pos_ in {"NOUN", "PROPN"}:
        comps += [c for c in children(verb, {"advcl", "xcomp"}) if c.i > tok.i]
    for comp in comps:
        if not any(c.dep_ == "aux" and c.lower_ == "to" for c in comp.children):
            continue
        # "fired tear gas to disperse protesters", "threatened to cut off gas supplies to
        # Iraq": an actor in the complement.
        objs = [quantity_head(o, lex) for o in direct_objects(comp)]
        objs += prep_objects(comp, ["to", "against", "on", "with"])
        objs += [p for o in direct_objects(comp) for p in prep_objects(o, ["to", "against"])]
        objs = [o for o in objs if o.ent_type_ not in lex.not_target_labels and _actorish(o)]
        if objs:
            return objs
    return []


def _actorish(tok: Any) -> bool:
    """A named entity, a proper noun, a plural noun or a pronoun: maybe an actor."""
    return (
        tok.ent_type_ in {"GPE", "NORP", "ORG", "PERSON"}
        or tok.pos_ in {"PROPN", "PRON"}
        or tok.tag_ in {"NNS", "NNPS"}
        or any(t.ent_type_ in {"GPE", "NORP", "ORG", "PERSON"} for t in tok.subtree)
    )


def _slot_targets(
    tok: Any, clause: Any, rule: Rule, lex: Lexicon, actors: ActorDictionary | None
) -> list[Any]:
    """The first slot that holds an actor wins; a slot that holds only a thing ("renewed
    [negotiations] with Azerbaijan") is the answer only if no later slot holds an actor."""
    fallback: list[Any] = []
    for slot in rule.target:
        if slot == "dobj":
            found = direct_objects(tok)
            if not found:
                # "blamed Serb forces besieging the city": parsed as a clause
                found = [s for c in children(tok, {"ccomp"}) for s in children(c, SUBJ)
                         if s.i > tok.i]  # fmt: skip
        elif slot == "dative":
            found = children(tok, {"dative"})
        elif slot == "poss":
            found = [p for o in direct_objects(tok) for p in children(o, {"poss"})]
        else:
            found = prep_objects(tok, [slot])
            if not found and clause is not tok:
                found = prep_objects(clause, [slot])
            if not found:
                for o in direct_objects(tok):
                    found = prep_objects(o, [slot])
                    if found:
                        break
        found = [quantity_head(f, lex) for f in found]
        found = [f for f in found if f.ent_type_ not in lex.not_target_labels
                 and f.lower_ not in lex.wh_words]  # fmt: skip
        if not found:
            continue
        if actors is None or any(_names_actor(f, actors) for f in found):
            return found
        fallback = fallback or found
    deep = deep_prep_objects(tok, [t for t in rule.target if t not in {"dobj", "dative", "poss"}])
    return deep or fallback


def _names_actor(tok: Any, actors: ActorDictionary) -> bool:
    """A named entity, a pronoun, or a role ("protesters", "the army")."""
    if tok.ent_type_ or tok.pos_ == "PRON":
        return True
    phrase = " ".join(t.text for t in actor_tokens(tok))
    if actors.sector_of(tokens_of(phrase)):
        return True
    return any(t.ent_type_ in {"GPE", "NORP", "ORG", "PERSON"} for t in tok.subtree)


def match_events(
    sent: Any, index: RuleIndex, lex: Lexicon, actors: ActorDictionary
) -> Iterator[Candidate]:
    for tok in sent:
        tiers = index.candidates_for(tok)
        if not tiers:
            continue
        best = best_rule(tok, tiers, lex, actors)
        if best is None or best[0].cameo is None:
            continue  # no rule, or a no-event rule ("an earthquake killed ...")
        rule, clause = best
        if rule.between:
            parties = prep_objects(tok, ["between"])
            heads = [c for p in parties for c in conjuncts(p)]
            yield Candidate(rule, tok, heads, [], False, pair=True, clause=clause)
            continue
        if tok.dep_ == "acl" and tok.tag_ == "VBN" and clause is tok:
            # "20 suspects demanded by New Delhi": a passive participle on its target.
            agents = prep_objects(tok, ["by"])
            if agents:
                yield Candidate(rule, tok, agents, [tok.head], True, clause=clause)
            continue
        subjects, passive = subject(clause, lex)
        targets: list[Any] = []
        if passive:
            # "X was attacked by Y": the passive subject is the target.
            targets = subjects
            subjects = prep_objects(clause, ["by"]) or [
                o for p in clause.children if p.dep_ == "prep"
                for pobj in children(p, {"pobj"})
                for o in prep_objects(pobj, ["by"])
            ]  # fmt: skip
        else:
            targets = find_targets(tok, clause, rule, lex, actors)
        yield Candidate(rule, tok, subjects, targets, passive, clause=clause)
