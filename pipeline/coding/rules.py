"""Trigger rules: a verb or noun lemma plus conditions on its object, complement or
preposition, mapped to a CAMEO code.

Data: pipeline/data/coder/triggers.jsonl (written by hand). docs/EVENT_CODING.md lists
every condition a rule can carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.coding.lexicon import Lexicon
from pipeline.coding.parse import (
    children,
    direct_objects,
    lemmas,
    object_count,
    prep_objects,
    sent_of,
)


@dataclass(frozen=True)
class Group:
    """Alternatives: one of the words, or all the words of one of the phrases."""

    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...] = ()

    def met_by(self, found: set[str]) -> bool:
        return bool(self.words & found) or any(all(w in found for w in p) for p in self.phrases)


@dataclass(frozen=True)
class Rule:
    id: str
    lemmas: frozenset[str]
    pos: str
    cameo: str | None  # None: a no-event rule ("earthquake killed", "faced criticism")
    target: tuple[str, ...] = ()
    intent: str | None = None
    reciprocal: bool = False
    object: frozenset[str] = frozenset()
    object_not: frozenset[str] = frozenset()
    xcomp: frozenset[str] = frozenset()
    requires_prep: frozenset[str] = frozenset()
    forbid_prep: frozenset[str] = frozenset()
    light: frozenset[str] = frozenset()
    between: bool = False
    subject_sector: frozenset[str] | None = None
    requires_word: frozenset[str] = frozenset()
    object_actor: bool = False  # the target must be an actor (entity or dictionary match)
    head_noun: bool = False  # a noun trigger whose clause gives the source ("a visit to X")
    requires_ccomp: bool = False  # a that-clause must follow ("denied that ...")
    ccomp_future: bool | None = None  # ... in the future (True) or not (False)
    xcomp_any: bool = False  # any to-infinitive complement ("told X to stop")
    xcomp_not: frozenset[str] = frozenset()
    object_min_count: int = 0  # "killed hundreds of civilians": the object counts at least this
    reverse: str | None = None  # also code target -> source with this code ("hosted")
    # Extra prepositions whose objects the `object`/`object_not` test also reads, for
    # verbs whose content sits in a prepositional phrase: "appealed for weapons",
    # "called for the release of ...".
    object_preps: tuple[str, ...] = ()
    # Phrase conditions (the PETRARCH-2 patterns are converted to these). Each group
    # holds alternatives (a multi-word alternative needs all its words); every group of
    # a condition must be met.
    object_all: tuple[Group, ...] = ()  # words of the object phrase
    prep_all: tuple[tuple[str, tuple[Group, ...]], ...] = ()  # (prep, words of its object)
    pre_all: tuple[Group, ...] = ()  # words before the verb: subject, aux, adverbs
    adverb: frozenset[str] = frozenset()  # particles or adverbs of the verb ("set out")
    source: str = "hand"  # hand | petrarch: which file the rule came from
    forbid_dep: frozenset[str] = frozenset()  # child relations that rule it out ("called X Y")
    head_preps: frozenset[str] = frozenset()  # a head_noun trigger must be the object of one

    @cached_property
    def specificity(self) -> int:
        return (
            len(self.object_all)
            + len(self.prep_all)
            + sum(len(w) for _, w in self.prep_all)
            + len(self.pre_all)
            + len(self.adverb)
            + sum(
                bool(x)
                for x in (
                    self.object,
                    self.xcomp,
                    self.requires_prep,
                    self.light,
                    self.between,
                    self.requires_ccomp,
                    self.xcomp_any,
                    self.object_min_count,
                )
            )
            + bool(self.requires_word)
            + bool(self.subject_sector)
        )


def _frozen(row: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(str(v).lower() for v in row.get(key, []) or [])


def _groups(value: Any) -> tuple[Group, ...]:
    out = []
    for group in value or []:
        alts = [str(w).lower().split() for w in group]
        out.append(
            Group(frozenset(a[0] for a in alts if len(a) == 1),
                  tuple(tuple(a) for a in alts if len(a) > 1))
        )  # fmt: skip
    return tuple(out)


def default_rules_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "coder" / "triggers.jsonl"))


def generated_rules_path() -> Path:
    """Rules converted from the PETRARCH-2 verb dictionary (tools/convert_petrarch.py)."""
    return Path(str(resources.files("pipeline") / "data" / "coder" / "petrarch_triggers.jsonl"))


def load_rules(path: Path | None = None) -> list[Rule]:
    path = path or default_rules_path()
    rules: list[Rule] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
            rules.append(
                Rule(
                    id=row["id"],
                    lemmas=_frozen(row, "lemma"),
                    pos=row.get("pos", "VERB"),
                    cameo=None if row["cameo"] is None else str(row["cameo"]),
                    target=tuple(row.get("target", [])),
                    intent=row.get("intent"),
                    reciprocal=bool(row.get("reciprocal", False)),
                    object=_frozen(row, "object"),
                    object_not=_frozen(row, "object_not") | _frozen(row, "forbid_object"),
                    xcomp=_frozen(row, "xcomp"),
                    requires_prep=_frozen(row, "requires_prep"),
                    forbid_prep=_frozen(row, "forbid_prep"),
                    light=_frozen(row, "light"),
                    between=bool(row.get("between", False)),
                    subject_sector=(
                        frozenset(row["subject_sector"]) if "subject_sector" in row else None
                    ),
                    requires_word=_frozen(row, "requires_word"),
                    object_actor=bool(row.get("object_kind")),
                    head_noun=bool(row.get("head_noun", False)),
                    reverse=row.get("reverse"),
                    requires_ccomp=bool(row.get("requires_ccomp", False)),
                    ccomp_future=row.get("ccomp_future"),
                    xcomp_any=bool(row.get("xcomp_any", False)),
                    xcomp_not=_frozen(row, "xcomp_not"),
                    object_min_count=int(row.get("object_min_count", 0)),
                    object_preps=tuple(str(v).lower() for v in row.get("object_preps", [])),
                    object_all=_groups(row.get("object_all")),
                    prep_all=tuple(
                        (str(p["prep"]).lower(), _groups(p.get("words")))
                        for p in row.get("prep_all", [])
                    ),
                    pre_all=_groups(row.get("pre_all")),
                    adverb=_frozen(row, "adverb"),
                    source=str(row.get("source", "hand")),
                    forbid_dep=_frozen(row, "forbid_dep"),
                    head_preps=_frozen(row, "head_preps"),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad trigger rule: {exc}") from exc
    return rules


_MEASURES = {
    "hour", "day", "week", "round", "series", "wave", "spate", "number", "couple",
    "string", "flurry", "volley", "barrage", "salvo", "night", "month", "year",
}  # fmt: skip


def light_verb(tok: Any) -> Any:
    """The verb that carries a noun trigger: "imposed [sanctions]", "held four hours of
    [talks]", "launched a wave of [air strikes]". None if there is none."""
    node = tok
    if (
        node.dep_ == "pobj"
        and node.head.lower_ == "of"
        and node.head.head.lemma_.lower() in _MEASURES
    ):
        node = node.head.head
    if node.dep_ in {"dobj", "nsubjpass"}:
        return node.head
    return None


def rule_matches(
    rule: Rule, tok: Any, lex: Lexicon, views: dict[int, TokenView] | None = None
) -> tuple[bool, Any]:
    """Check a rule's conditions on a trigger token. Returns (ok, clause head). `views`
    caches what the phrase conditions read, per clause, across the rules of one token."""
    clause = tok
    if rule.pos == "ADJ":
        if tok.pos_ != "ADJ":
            return False, tok
    elif rule.pos == "NOUN":
        if tok.pos_ not in {"NOUN", "PROPN"}:
            return False, tok
        if rule.head_noun:
            if tok.dep_ not in {"pobj", "dobj"}:
                return False, tok
            if rule.head_preps and not (tok.dep_ == "pobj" and tok.head.lower_ in rule.head_preps):
                return False, tok
        elif rule.light:
            verb = light_verb(tok)
            if verb is None or verb.lemma_.lower() not in rule.light:
                return False, tok
            clause = verb
        elif rule.between:
            if not prep_objects(tok, ["between"]):
                return False, tok
        else:
            return False, tok
    elif tok.pos_ not in {"VERB", "AUX"} and not (tok.pos_ == "NOUN" and tok.tag_ == "VBG"):
        return False, tok
    if rule.forbid_dep and any(c.dep_ in rule.forbid_dep for c in tok.children):
        return False, tok
    if rule.object or rule.object_not:
        objs = (
            direct_objects(tok)
            + children(tok, {"nsubjpass", "dative"})
            + prep_objects(tok, ["to", "with", "on", *rule.object_preps])
            # "let inspectors return": the subject of the complement is what is let in
            + [s for c in children(tok, {"ccomp"}) for s in children(c, {"nsubj"})]
        )
        words: set[str] = set()
        for o in objs:
            words |= lemmas(o.subtree)
        if rule.object and not (words & rule.object):
            return False, tok
        if rule.object_not and (words & rule.object_not):
            return False, tok
    if rule.object_min_count and object_count(tok, lex) < rule.object_min_count:
        return False, tok
    if rule.xcomp or rule.xcomp_any:
        comps = children(tok, {"xcomp"})
        if rule.xcomp and not any(c.lemma_.lower() in rule.xcomp for c in comps):
            return False, tok
        if not comps or any(c.lemma_.lower() in rule.xcomp_not for c in comps):
            return False, tok
    if rule.requires_ccomp:
        clauses = children(tok, {"ccomp"})
        if not clauses:
            return False, tok
        if rule.ccomp_future is not None:
            future = any(
                a.lower_ in lex.future_aux | {"would"} for c in clauses for a in c.children
                if a.dep_ == "aux"
            )  # fmt: skip
            if future != rule.ccomp_future:
                return False, tok
    if rule.requires_prep or rule.forbid_prep:
        # Prepositions of the clause, not counting dates and times ("on Monday").
        preps = {c.lower_ for c in clause.children if c.dep_ == "prep" and not _dated(c)}
        if rule.pos == "NOUN":
            preps |= {c.lower_ for c in tok.children if c.dep_ == "prep" and not _dated(c)}
        if rule.requires_prep and not (preps & rule.requires_prep):
            return False, tok
        if rule.forbid_prep and (preps & rule.forbid_prep):
            return False, tok
    if rule.requires_word and not (lemmas(sent_of(tok)) & rule.requires_word):
        return False, tok
    if rule.object_all or rule.prep_all or rule.pre_all or rule.adverb:
        views = {} if views is None else views
        view = views.get(clause.i)
        if view is None:
            view = views[clause.i] = TokenView(tok, clause)
        if not phrase_match(rule, view):
            return False, tok
    return True, clause


def _dated(prep: Any) -> bool:
    return any(o.ent_type_ in {"DATE", "TIME"} for o in prep.children if o.dep_ == "pobj")


_CLAUSES = {"relcl", "acl", "advcl", "ccomp", "xcomp", "punct", "cc", "appos", "parataxis"}


def phrase_words(head: Any) -> set[str]:
    """Lemmas and lower forms of a noun phrase, without its clauses."""
    out: set[str] = set()
    stack = [head]
    while stack:
        t = stack.pop()
        out.add(t.lemma_.lower())
        out.add(t.lower_)
        stack.extend(c for c in t.children if c.dep_ not in _CLAUSES)
    return out


class TokenView:
    """What the phrase conditions read at a trigger, computed once and on demand."""

    def __init__(self, tok: Any, clause: Any) -> None:
        self.tok = tok
        self.clause = clause

    @cached_property
    def objects(self) -> list[Any]:
        return direct_objects(self.tok) + children(
            self.tok, {"nsubjpass", "dative", "acomp", "npadvmod"}
        )

    @cached_property
    def object_words(self) -> set[str]:
        words: set[str] = set()
        for o in self.objects:
            words |= phrase_words(o)
        return words

    @cached_property
    def preps(self) -> list[tuple[str, set[str]]]:
        """(preposition, words of its object) near the verb: on the verb, on its
        objects, and one level down ("series of attacks", "on state of alert")."""
        out: list[tuple[str, set[str]]] = []
        heads = [self.tok, *self.objects]
        if self.clause is not self.tok:
            heads.append(self.clause)
        seen = set()
        for depth in range(2):
            nxt = []
            for h in heads:
                for p in h.children:
                    if p.dep_ not in {"prep", "agent", "dative"} or p.i in seen:
                        continue
                    seen.add(p.i)
                    words: set[str] = set()
                    for o in children(p, {"pobj", "pcomp"}):
                        words |= phrase_words(o)
                        nxt.append(o)
                    out.append((p.lower_, words))
            heads = nxt if depth == 0 else []
        return out

    @cached_property
    def pre_words(self) -> set[str]:
        words: set[str] = set()
        for c in self.clause.children:
            if c.i < self.clause.i and c.dep_ in {"nsubj", "nsubjpass", "aux", "advmod",
                                                  "neg", "npadvmod"}:  # fmt: skip
                words |= phrase_words(c)
        return words

    @cached_property
    def adverbs(self) -> set[str]:
        return {
            c.lower_
            for c in self.tok.children
            if c.dep_ in {"prt", "advmod", "acomp", "prep", "compound:prt"}
        }


def phrase_match(rule: Rule, view: TokenView) -> bool:
    if rule.adverb and not rule.adverb <= view.adverbs:
        return False
    if rule.object_all and not all(g.met_by(view.object_words) for g in rule.object_all):
        return False
    if rule.pre_all and not all(g.met_by(view.pre_words) for g in rule.pre_all):
        return False
    for prep, groups in rule.prep_all:
        if not any(
            word == prep and all(g.met_by(found) for g in groups) for word, found in view.preps
        ):
            return False
    return True


def phrase_possible(rule: Rule, view: TokenView) -> bool:
    """A quick necessary test of a verb rule's phrase conditions at its own token."""
    if rule.object_all and not rule.object_all[0].met_by(view.object_words):
        return False
    if rule.prep_all:
        prep = rule.prep_all[0][0]
        return any(word == prep for word, _ in view.preps)
    return True
