"""The geopolitical event coder: who did what to whom, where and when, from a spaCy parse.

Rules are data. Trigger rules (pipeline/data/coder/triggers.jsonl) map a verb or noun
lemma, plus optional conditions on its object, complement or preposition, to a CAMEO code.
Actors come from `pipeline.actors`; codes, names, PLOVER categories, QuadClass and
Goldstein values come from the shipped code table (pipeline/data/codes/cameo_codes.tsv).

For each trigger token the coder reads the dependency parse:
  source  nsubj (or the agent of a passive), inherited through xcomp/advcl/conj/pcomp
  target  dobj, a preposition named by the rule ("met with", "sanctions on"), or the
          passive subject ("X was attacked by Y")
  both    expanded over conjuncts; reciprocal rules with coordinated subjects and no
          target ("the US and China agreed") give both directions
  where   a place attached with in/at; when: a date expression attached to the trigger
  how     modality from negation, future and modal auxiliaries, and intent verbs

`match_events` finds candidates in a Doc; `code_doc` turns them into `Event` records.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.actors import ActorDictionary, Entry, load_actor_dictionary, tokens_of
from pipeline.gazetteer import Place, load_gazetteer
from pipeline.records import Actor, Event
from pipeline.timex import resolve_date

# The coder's own version. Events record it plus a digest of the rule and dictionary
# files, so any edit to the data changes the version stamped on new events.
CODER_VERSION = "rules-0.4"

_SUBJ = {"nsubj"}
_PASS_SUBJ = {"nsubjpass"}
_INHERIT = {"xcomp", "advcl", "conj", "pcomp", "prep", "acl", "ccomp", "relcl", "acomp"}
_INTENT_CODES = {"04": "036", "05": "032", "06": "031", "07": "033", "08": "035"}
_NOT_TARGETS = {"DATE", "TIME", "CARDINAL", "PERCENT", "MONEY", "QUANTITY", "ORDINAL"}
_ACTOR_DROP = {"relcl", "acl", "advcl", "conj", "cc", "punct", "ccomp", "xcomp", "prep"}
_ACTOR_PREPS = {"of", "for", "from"}
_FUTURE_AUX = {"will", "shall", "'ll", "wo"}
_HYPO_AUX = {"could", "might", "may", "should", "would"}
_INTENT_VERBS = {"plan", "intend", "expect", "hope", "aim", "want", "seek", "prepare", "vow"}
_REPORTING = {
    "announce",
    "say",
    "tell",
    "state",
    "add",
    "confirm",
    "report",
    "claim",
    "declare",
    "insist",
    "note",
    "write",
    "warn",
    "argue",
    "explain",
}
_ACTOR_LABELS = {"GPE", "NORP", "ORG", "PERSON", "LOC", "FAC"}
_PRONOUNS = {"he", "she", "it", "they", "we", "i", "you", "him", "her", "them", "us"}
_PERSONAL = {"he", "she"}
# Roles that are domestic by default: a target with only such a role takes the country
# of the event's place, else the source's.
_DOMESTIC = {
    "CVL",
    "OPP",
    "JUD",
    "LEG",
    "MED",
    "EDU",
    "LAB",
    "REF",
    "REL",
    "AGR",
    "HLH",
    "PTY",
    "COP",
    "REB",
}
_COUNTERPARTS = {"rival", "adversary", "neighbour", "neighbor", "foe", "enemy", "ally", "partner"}
_RELATIVE = {"who", "which", "that", "whom"}


@dataclass(frozen=True)
class Rule:
    id: str
    lemmas: frozenset[str]
    pos: str
    cameo: str
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

    @property
    def specificity(self) -> int:
        return (
            sum(
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


@dataclass(frozen=True)
class CodeInfo:
    code: str
    root: str
    name: str
    root_name: str
    plover: str
    quad_class: int
    goldstein: float


def _frozen(row: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(str(v).lower() for v in row.get(key, []) or [])


def default_rules_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "coder" / "triggers.jsonl"))


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
                    cameo=str(row["cameo"]),
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
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad trigger rule: {exc}") from exc
    return rules


def load_codes(path: Path | None = None) -> dict[str, CodeInfo]:
    path = path or Path(str(resources.files("pipeline") / "data" / "codes" / "cameo_codes.tsv"))
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    roots = {r["cameo_code"]: r["description"] for r in rows if len(r["cameo_code"]) == 2}
    out: dict[str, CodeInfo] = {}
    for r in rows:
        root = r["root_code"]
        out[r["cameo_code"]] = CodeInfo(
            code=r["cameo_code"],
            root=root,
            name=r["description"],
            root_name=roots.get(root, "").capitalize(),
            plover=r["plover_2021"],
            quad_class=int(r["quad_class"]),
            goldstein=float(r["goldstein"]),
        )
    return out


# --- reading the parse -------------------------------------------------------------------


def _children(tok: Any, deps: set[str]) -> list[Any]:
    return [c for c in tok.children if c.dep_ in deps]


def _conjuncts(tok: Any) -> list[Any]:
    """The token and the tokens coordinated with it ("the US and China")."""
    out = [tok]
    for c in tok.children:
        if c.dep_ == "conj":
            out.extend(_conjuncts(c))
    return out


def _actor_tokens(head: Any) -> list[Any]:
    """The noun phrase of an actor head: modifiers, compounds, appositives, possessives and
    "of"/"for" phrases, without clauses or coordinated siblings."""
    keep: list[Any] = []

    def walk(t: Any) -> None:
        keep.append(t)
        for c in t.children:
            if c.dep_ in _ACTOR_DROP and not (c.dep_ == "prep" and c.lower_ in _ACTOR_PREPS):
                continue
            walk(c)

    walk(head)
    return sorted(keep, key=lambda t: t.i)


def _prep_objects(tok: Any, preps: Iterable[str]) -> list[Any]:
    wanted = set(preps)
    out: list[Any] = []
    for prep in tok.children:
        # The small model often labels a "to" phrase as a dative ("issued a warning to
        # NATO", "offered condolences to Turkey"); it is a prepositional target all the same.
        if prep.dep_ in {"prep", "agent", "dative"} and prep.lower_ in wanted:
            out.extend(_children(prep, {"pobj", "pcomp"}))
    return out


def _deep_prep_objects(tok: Any, preps: Sequence[str], depth: int = 3) -> list[Any]:
    """A prepositional target further down: "sever what little ties it had with X"."""
    if not preps:
        return []
    frontier = [c for c in tok.children if c.dep_ in {"dobj", "ccomp", "relcl", "acl"}]
    for _ in range(depth):
        nxt: list[Any] = []
        for t in frontier:
            found = _prep_objects(t, preps)
            if found:
                return found
            nxt.extend(c for c in t.children if c.dep_ in {"dobj", "ccomp", "relcl", "acl"})
        frontier = nxt
    return []


def _subject(tok: Any, depth: int = 0) -> tuple[list[Any], bool]:
    """Subject heads of a trigger and whether the clause is passive. Participles and
    complements inherit the subject of the clause they hang from; a relative pronoun
    ("the leaders, who met") stands for its antecedent; a personal pronoun in reported
    speech ("Trump announced that he would visit") stands for the reporter."""
    for deps, passive in ((_SUBJ, False), (_PASS_SUBJ, True)):
        subj = _children(tok, deps)
        if not subj:
            continue
        if subj[0].lower_ in _RELATIVE and tok.dep_ == "relcl":
            return [tok.head], passive
        if (
            subj[0].lower_ in _PERSONAL
            and tok.dep_ == "ccomp"
            and tok.head.lemma_.lower() in _REPORTING
        ):
            reporter = _children(tok.head, _SUBJ)
            if reporter and reporter[0].lower_ not in _PRONOUNS:
                return reporter, passive
        return subj, passive
    if depth < 4 and tok.dep_ in _INHERIT and tok.head is not tok:
        if tok.dep_ == "relcl":
            return [tok.head], False
        if tok.head.dep_ in _SUBJ:  # a modifier hanging off the subject itself
            return [tok.head], False
        return _subject(tok.head, depth + 1)
    # "took steps ..., including easing tariffs": climb from a noun to its verb.
    if depth < 4 and tok.dep_ in {"dobj", "pobj"} and tok.head is not tok:
        return _subject(tok.head, depth + 1)
    return [], False


def _lemmas(tokens: Iterable[Any]) -> set[str]:
    return {t.lemma_.lower() for t in tokens} | {t.lower_ for t in tokens}


def _dobj(tok: Any) -> list[Any]:
    objs = _children(tok, {"dobj", "attr", "oprd"})
    if not objs:
        # Free relatives parse as a clause: "sever [what little ties it had]".
        for comp in _children(tok, {"ccomp"}):
            objs.extend(o for o in _children(comp, {"dobj"}) if o.i < comp.i)
    # Phrasal and light-verb objects: "cut off ties", "take steps"
    for prt in _children(tok, {"prt"}):
        objs.extend(_children(prt, {"pobj"}))
    return objs


@dataclass
class Candidate:
    rule: Rule
    trigger: Any
    sources: list[Any]
    targets: list[Any]
    passive: bool
    pair: bool = False  # "meeting between A and B": sources are both parties


_MAGNITUDES = {
    "dozens": 24,
    "scores": 40,
    "hundreds": 200,
    "thousands": 2000,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "millions": 2_000_000,
}
_CONTENT_OF = {"accuse", "blame", "deny", "dismiss", "reject", "charge", "suspect", "allege"}


def _object_count(tok: Any) -> int:
    """How many the object counts: "at least 200 villagers", "hundreds of thousands"."""
    best = 0
    for obj in _dobj(tok):
        value = 0
        for t in obj.subtree:
            word = t.lower_.replace(",", "")
            if word.isdigit():
                value = max(value, int(word))
            elif word in _MAGNITUDES:
                value = value * _MAGNITUDES[word] if value else _MAGNITUDES[word]
        best = max(best, value)
    return best


def _reported_content(tok: Any) -> bool:
    """The content of an accusation or a denial is not itself an event: "accused Kyiv of
    attacking the plant", "denied that its army had shelled civilians"."""
    node = tok
    for _ in range(3):
        if node.dep_ not in {"pcomp", "ccomp", "pobj", "prep", "xcomp"} or node.head is node:
            return False
        node = node.head
        if node.lemma_.lower() in _CONTENT_OF:
            return True
    return False


def _rule_matches(rule: Rule, tok: Any) -> tuple[bool, Any]:
    """Check a rule's conditions on a trigger token. Returns (ok, clause head)."""
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
        elif rule.light:
            if tok.dep_ not in {"dobj", "nsubjpass"} or tok.head.lemma_.lower() not in rule.light:
                return False, tok
            clause = tok.head
        elif rule.between:
            if not _prep_objects(tok, ["between"]):
                return False, tok
        else:
            return False, tok
    elif tok.pos_ not in {"VERB", "AUX"} and not (tok.pos_ == "NOUN" and tok.tag_ == "VBG"):
        return False, tok
    if rule.object or rule.object_not:
        objs = (
            _dobj(tok)
            + _children(tok, {"nsubjpass", "dative"})
            + _prep_objects(tok, ["to", "with", "on", *rule.object_preps])
        )
        words: set[str] = set()
        for o in objs:
            words |= _lemmas(o.subtree)
        if rule.object and not (words & rule.object):
            return False, tok
        if rule.object_not and (words & rule.object_not):
            return False, tok
    if rule.object_min_count and _object_count(tok) < rule.object_min_count:
        return False, tok
    if rule.xcomp or rule.xcomp_any:
        comps = _children(tok, {"xcomp"})
        if rule.xcomp and not any(c.lemma_.lower() in rule.xcomp for c in comps):
            return False, tok
        if not comps or any(c.lemma_.lower() in rule.xcomp_not for c in comps):
            return False, tok
    if rule.requires_ccomp:
        clauses = _children(tok, {"ccomp"})
        if not clauses:
            return False, tok
        if rule.ccomp_future is not None:
            future = any(
                a.lower_ in _FUTURE_AUX | {"would"} for c in clauses for a in c.children
                if a.dep_ == "aux"
            )  # fmt: skip
            if future != rule.ccomp_future:
                return False, tok
    preps = {c.lower_ for c in clause.children if c.dep_ == "prep"}
    if rule.pos == "NOUN":
        preps |= {c.lower_ for c in tok.children if c.dep_ == "prep"}
    if rule.requires_prep and not (preps & rule.requires_prep):
        return False, tok
    if rule.forbid_prep and (preps & rule.forbid_prep):
        return False, tok
    if rule.requires_word and not (_lemmas(tok.sent) & rule.requires_word):
        return False, tok
    return True, clause


class EventCoder:
    """Rules, actor dictionary and code tables, loaded once and reused for every doc."""

    def __init__(
        self,
        rules: list[Rule] | None = None,
        actors: ActorDictionary | None = None,
        codes: dict[str, CodeInfo] | None = None,
    ) -> None:
        self.rules = rules if rules is not None else load_rules()
        self.actors = actors or load_actor_dictionary()
        self.version = CODER_VERSION
        self.codes = codes or load_codes()
        self.by_lemma: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for lemma in rule.lemmas:
                self.by_lemma.setdefault(lemma, []).append(rule)
        unknown = sorted({r.cameo for r in self.rules} - set(self.codes))
        if unknown:
            raise ValueError(f"trigger rules use CAMEO codes missing from the table: {unknown}")

    # -- matching ----------------------------------------------------------------------

    def match_events(self, sent: Any) -> Iterator[Candidate]:
        for tok in sent:
            lemma = tok.lemma_.lower()
            phrasal = [f"{lemma} {p.lower_}" for p in tok.children if p.dep_ == "prt"]
            rules = [r for key in phrasal for r in self.by_lemma.get(key, [])]
            rules = rules or self.by_lemma.get(lemma) or self.by_lemma.get(tok.lower_) or []
            if not rules:
                continue
            best: tuple[Rule, Any] | None = None
            for rule in rules:
                ok, clause = _rule_matches(rule, tok)
                if not ok or (best is not None and rule.specificity <= best[0].specificity):
                    continue
                if rule.subject_sector is not None:
                    heads = _subject(clause)[0]
                    sectors = {
                        self.actors.sector_of(tokens_of(" ".join(t.text for t in _actor_tokens(h))))
                        for h in heads
                    }
                    if not sectors & rule.subject_sector:
                        continue
                best = (rule, clause)
            if best is None:
                continue
            rule, clause = best
            if rule.between:
                parties = _prep_objects(tok, ["between"])
                heads = [c for p in parties for c in _conjuncts(p)]
                yield Candidate(rule, tok, heads, [], False, pair=True)
                continue
            subjects, passive = _subject(clause)
            targets: list[Any] = []
            if passive:
                # "X was attacked by Y": the passive subject is the target.
                targets = subjects
                subjects = _prep_objects(clause, ["by"]) or [
                    o for p in clause.children if p.dep_ == "prep"
                    for pobj in _children(p, {"pobj"})
                    for o in _prep_objects(pobj, ["by"])
                ]  # fmt: skip
            else:
                for slot in rule.target:
                    if slot == "dobj":
                        found = _dobj(tok)
                    elif slot == "dative":
                        found = _children(tok, {"dative"})
                    elif slot == "poss":
                        found = [p for o in _dobj(tok) for p in _children(o, {"poss"})]
                    else:
                        found = _prep_objects(tok, [slot])
                        if not found and clause is not tok:
                            found = _prep_objects(clause, [slot])
                        if not found:
                            for o in _dobj(tok):
                                found = _prep_objects(o, [slot])
                                if found:
                                    break
                    found = [f for f in found if f.ent_type_ not in _NOT_TARGETS]
                    if found:
                        targets = found
                        break
                if not targets:
                    targets = _deep_prep_objects(tok, [t for t in rule.target if t not in
                                                       {"dobj", "dative", "poss"}])  # fmt: skip
            yield Candidate(rule, tok, subjects, targets, passive)

    # -- actors -------------------------------------------------------------------------

    def resolve_actors(self, head: Any, when: date | None, memory: dict[str, Entry]) -> list[Actor]:
        """Usually one actor; "Russian and Ukrainian envoys" gives one per country."""
        base = self.resolve_actor(head, when, memory)
        coordinated = [
            a for a in head.children
            if a.dep_ == "amod" and any(x.dep_ == "conj" for x in a.children)
        ]  # fmt: skip
        adjectives = [c for a in coordinated for c in _conjuncts(a)]
        if len(adjectives) < 2:
            return [base]
        out: list[Actor] = []
        sent_start = head.sent.start_char
        for adj in adjectives:
            hits = self.actors.match(tokens_of(adj.text), tokens_of(adj.text, lower=False))
            country = next((h.entry.country for h in hits if h.entry.kind == "demonym"), "")
            if not country:
                return [base]
            out.append(
                dataclasses.replace(
                    base,
                    name=self.actors.country_names.get(country, adj.text),
                    code=country + base.sector,
                    country=country,
                    text=f"{adj.text} {head.text}",
                    start_char=adj.idx - sent_start,
                    end_char=head.idx + len(head.text) - sent_start,
                )
            )
        return out

    def resolve_actor(self, head: Any, when: date | None, memory: dict[str, Entry]) -> Actor:
        toks = _actor_tokens(head)
        sent_start = head.sent.start_char
        text = head.doc.text[toks[0].idx : toks[-1].idx + len(toks[-1].text)]
        start, end = toks[0].idx - sent_start, toks[-1].idx + len(toks[-1].text) - sent_start
        words = tokens_of(text)
        matches = self.actors.match(words, tokens_of(text, lower=False))
        country = sector = code = name = ""
        person: Entry | None = None
        for m in matches:
            entry = m.entry
            if entry.kind == "person":
                if person is None:
                    person = self.actors.person_entries(
                        [x.entry for x in matches if x.start == m.start], when
                    )
                continue
            # The leftmost mention decides: "Ukraine's bid to join the EU" is Ukraine,
            # "the EU's envoy to Ukraine" is the EU.
            if entry.kind == "org" and not code and not country:
                code, name = entry.code, entry.name
                country = entry.country
            elif entry.kind in {"country", "capital", "demonym", "metonym"} and not country:
                country, name = entry.country, name or entry.name
        person_names = [
            e.text
            for e in head.doc.ents
            if e.label_ == "PERSON" and toks[0].i <= e.start < e.end <= toks[-1].i + 1
        ]
        if person is not None:
            country = country or person.country
            sector = person.sector
            name = person.name
        elif person_names:
            surname = tokens_of(person_names[-1])
            remembered = memory.get(" ".join(surname)) or next(
                (memory[part] for part in surname if part in memory), None
            )
            if remembered and not country:
                country, sector, name = remembered.country, remembered.sector, remembered.name
        if not sector and not code:
            sector = self.actors.sector_of(words)
        if sector and not country and not code and person is None:
            for place in _prep_objects(head, ["in"]):
                ent = next((e for e in head.doc.ents if e.start <= place.i < e.end), None)
                phrase = ent.text if ent is not None else place.text
                where = tokens_of(phrase)
                hits = self.actors.match(where, tokens_of(phrase, lower=False))
                country = next(
                    (h.entry.country for h in hits if h.entry.kind in {"country", "capital"}), ""
                )
                if not country and ent is not None and ent.label_ == "GPE":
                    # "civilians in Douma": a city the gazetteer knows gives its country.
                    found = load_gazetteer().locate(ent.text)
                    country = found.country if found and found.kind == "city" else ""
                if country:
                    break
        if person is None and person_names and not name:
            name = " ".join(tokens_of(person_names[-1])).title()
        if person_names and country:
            entry = Entry("person", name or person_names[-1], country=country, sector=sector)
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
            name = self.actors.country_names.get(country, "") or text
        return Actor(
            text=text,
            name=name,
            code=final,
            country=country,
            sector=sector if final and not code else "",
            start_char=start,
            end_char=end,
        )

    def _domestic(
        self, target: Actor, sources: list[tuple[Any, Actor]], place_country: str | None
    ) -> Actor:
        """A target named only by its role ("arrested opposition activists", "shelled
        civilians") belongs to the country where the event happened, else to the
        source's own country: such events are domestic unless a place says otherwise."""
        if target.code:
            return target
        sector = self.actors.sector_of(tokens_of(target.text))
        if sector not in _DOMESTIC:
            return target
        countries = {a.country for _, a in sources if a.country}
        country = place_country or (countries.pop() if len(countries) == 1 else "")
        if not country:
            return target
        return dataclasses.replace(target, code=country + sector, country=country,
                                   sector=sector)  # fmt: skip

    def _inner_actor(self, head: Any, actor: Actor, when: date | None,
                     memory: dict[str, Entry]) -> Actor:  # fmt: skip
        """An unresolved target phrase stands for the first actor named inside it:
        "restoring dialogue with North Korea", "abuses by Iranian security forces"."""
        for tok in head.subtree:
            if tok is head or tok.ent_type_ not in {"GPE", "NORP", "ORG", "PERSON"}:
                continue
            if tok.ent_iob_ != "B":
                continue
            ent = next(e for e in head.doc.ents if e.start == tok.i)
            inner = self.resolve_actor(ent.root, when, memory)
            if inner.code:
                return inner
        return actor

    def _counterpart(
        self, head: Any, sources: list[tuple[Any, Actor]], when: date | None,
        memory: dict[str, Entry],
    ) -> Actor | None:  # fmt: skip
        """ "accusing its rival": the other country named earlier in the same sentence."""
        if head.lemma_.lower() not in _COUNTERPARTS or not any(
            c.dep_ == "poss" and c.lower_ in {"its", "their"} for c in head.children
        ):
            return None
        own = {a.country for _, a in sources}
        for ent in reversed([e for e in head.sent.ents if e.end <= head.i]):
            if ent.label_ not in {"GPE", "NORP"}:
                continue
            actor = self.resolve_actor(ent.root, when, memory)
            if actor.country and actor.country not in own:
                sent_start = head.sent.start_char
                return dataclasses.replace(
                    actor,
                    text=head.doc.text[head.left_edge.idx : head.idx + len(head.text)],
                    start_char=head.left_edge.idx - sent_start,
                    end_char=head.idx + len(head.text) - sent_start,
                )
        return None

    def _is_actor_like(self, head: Any, actor: Actor) -> bool:
        if actor.code:
            return True
        if head.lower_ in _PRONOUNS:
            return False
        if self.actors.sector_of(tokens_of(head.text)):  # "gunmen", "protesters"
            return True
        return any(t.ent_type_ in _ACTOR_LABELS for t in _actor_tokens(head))

    # -- modality, place and time -------------------------------------------------------

    @staticmethod
    def modality(tok: Any, clause: Any) -> tuple[str, float]:
        heads = {tok, clause}
        # "had no intention of attacking": a "no" on a governing noun negates the clause.
        heads |= {a for a in list(tok.ancestors)[:3] if a.pos_ == "NOUN"}
        children = [c for h in heads for c in h.children]
        if any(c.dep_ == "neg" for c in children) or any(
            c.dep_ == "det" and c.lower_ in {"no"} for c in children
        ):
            return "negated", 0.8
        aux = {c.lower_ for c in children if c.dep_ in {"aux", "auxpass"}}
        if aux & _FUTURE_AUX:
            return "intended", 0.8
        if clause.dep_ == "xcomp" and clause.head.lemma_.lower() in _INTENT_VERBS:
            return "intended", 0.75
        if "would" in aux and clause.head.lemma_.lower() in _REPORTING:
            return "intended", 0.7
        if aux & _HYPO_AUX:
            return "hypothetical", 0.5
        if any(c.dep_ == "mark" and c.lower_ in {"if", "unless"} for c in children):
            return "hypothetical", 0.5
        return "asserted", 0.9

    def place(self, tok: Any, clause: Any) -> tuple[str | None, Place | None, str | None]:
        """The place named for the event: its text, gazetteer entry and country."""
        heads = [tok, clause]
        # "met ... on the sidelines of the summit in Malaysia": look one or two
        # prepositional phrases down as well.
        for head in (tok, clause):
            for prep in head.children:
                if prep.dep_ == "prep":
                    for pobj in _children(prep, {"pobj"}):
                        heads.append(pobj)
                        heads.extend(
                            o for p2 in pobj.children if p2.dep_ == "prep"
                            for o in _children(p2, {"pobj"})
                        )  # fmt: skip
        for head in heads:
            for pobj in _prep_objects(head, ["in", "at"]):
                ents = [e for e in pobj.doc.ents if e.start <= pobj.i < e.end]
                if not ents or ents[0].label_ not in {"GPE", "LOC", "FAC"}:
                    continue
                text = ents[0].text
                hits = self.actors.match(tokens_of(text), tokens_of(text, lower=False))
                kinds = {h.entry.kind: h.entry.country for h in hits}
                gazetteer = load_gazetteer()
                if "country" in kinds:
                    return text, gazetteer.country(kinds["country"]), kinds["country"]
                found = gazetteer.locate(text, kinds.get("capital"))
                return text, found, kinds.get("capital") or (found.country if found else None)
        return None, None, None

    @staticmethod
    def when(
        tok: Any, clause: Any, published: date | None, future: bool
    ) -> tuple[date | None, str, str]:
        if published is None:
            return None, "none", ""
        ids = {t.i for h in {tok, clause} for t in h.subtree}
        for ent in tok.sent.ents:
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

    # -- events -------------------------------------------------------------------------

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
        candidates = list(self.match_events(sent))
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
            if parent.rule.cameo[:2] == "03" and cand.rule.cameo[:2] in {"17", "18", "19", "20"}:
                overrides[parent.trigger.i] = "138"
        for cand in candidates:
            tok, rule = cand.trigger, cand.rule
            if tok.dep_ == "xcomp" and tok.head.i in by_trigger:
                continue
            if _reported_content(tok):
                continue
            clause = tok.head if rule.light and tok.dep_ in {"dobj", "nsubjpass"} else tok
            modality, confidence = self.modality(tok, clause)
            code = overrides.get(tok.i, rule.cameo)
            if modality == "intended" and tok.i not in overrides:
                # Announced cooperation is an intent to cooperate (03x); announced
                # conflict keeps its own code.
                code = rule.intent or _INTENT_CODES.get(code[:2], code)
            info = self.codes[code]
            place, where, place_country = self.place(tok, clause)
            when, date_source, precision = self.when(tok, clause, published, modality == "intended")
            src_heads = [c for h in cand.sources for c in _conjuncts(h)]
            tgt_heads = [c for h in cand.targets for c in _conjuncts(h)]
            as_of = when if date_source == "text" and when else published
            sources = [(h, a) for h in src_heads for a in self.resolve_actors(h, as_of, memory)]
            sources = [(h, a) for h, a in sources if self._is_actor_like(h, a)]
            if not sources:
                continue
            targets = []
            for h in tgt_heads:
                other = self._counterpart(h, sources, as_of, memory)
                targets += (
                    [(h, other)]
                    if other
                    else [(h, a) for a in self.resolve_actors(h, as_of, memory)]
                )
            targets = [(h, a if a.code else self._inner_actor(h, a, as_of, memory))
                       for h, a in targets]  # fmt: skip
            actor_targets = [(h, a) for h, a in targets if self._is_actor_like(h, a)]
            if rule.object_actor and not actor_targets:
                continue
            targets = actor_targets or targets[:1]
            targets = [(h, self._domestic(a, sources, place_country)) for h, a in targets]
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

    def code_doc(self, doc: Any, *, article_id: str, published: date | None) -> list[Event]:
        memory: dict[str, Entry] = {}
        events: list[Event] = []
        for idx, sent in enumerate(doc.sents):
            events.extend(
                self.code_sentence(
                    sent,
                    article_id=article_id,
                    sentence_idx=idx,
                    published=published,
                    memory=memory,
                    first_idx=len(events),
                )
            )
        return events


def _digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha1()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:8]


@cache
def load_coder(actors_dir: str | None = None, rules_file: str | None = None) -> EventCoder:
    """A coder from the shipped data files, or from a user's copies of them."""
    rules_path = Path(rules_file) if rules_file else default_rules_path()
    actors = load_actor_dictionary(actors_dir)
    coder = EventCoder(load_rules(rules_path), actors)
    coder.version = f"{CODER_VERSION}+{_digest([rules_path, *actors.directory.glob('*.tsv')])}"
    return coder


def default_coder() -> EventCoder:
    return load_coder()
