"""Reading spaCy's dependency parse: the grammar the coder relies on.

Pure functions over tokens. Dependency labels are grammar and live here; words live in
the lexicon (pipeline/data/coder/lexicon.json) and are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.coding.lexicon import Lexicon

SUBJ = {"nsubj"}
PASS_SUBJ = {"nsubjpass"}
# A complement or modifier clause inherits the subject of the clause it hangs from.
INHERIT = {"xcomp", "advcl", "conj", "pcomp", "prep", "acl", "ccomp", "relcl", "acomp"}
# What is not part of an actor's noun phrase.
ACTOR_DROP = {"relcl", "acl", "advcl", "conj", "cc", "punct", "ccomp", "xcomp", "prep"}
ACTOR_PREPS = {"of", "for", "from"}


def doc_ents(doc: Any) -> list[Any]:
    """The document's entities, computed once: spaCy builds `doc.ents` anew on every
    access, which dominated the coder's cost."""
    cached = doc.user_data.get("newsevents.ents")
    if cached is None or cached[0] != len(doc):
        cached = (len(doc), list(doc.ents))
        doc.user_data["newsevents.ents"] = cached
    return cached[1]


def doc_text(doc: Any) -> str:
    """The document's text, built once (`doc.text` joins every token on each access)."""
    cached = doc.user_data.get("newsevents.text")
    if cached is None or cached[0] != len(doc):
        cached = (len(doc), doc.text)
        doc.user_data["newsevents.text"] = cached
    return str(cached[1])


def sent_of(tok: Any) -> Any:
    """The sentence of a token, from a per-document index: `token.sent` rescans the
    document for sentence boundaries on every call."""
    doc = tok.doc
    cached = doc.user_data.get("newsevents.sents")
    if cached is None or cached[0] != len(doc):
        index: list[Any] = [None] * len(doc)
        for sent in doc.sents:
            for i in range(sent.start, sent.end):
                index[i] = sent
        cached = (len(doc), index)
        doc.user_data["newsevents.sents"] = cached
    return cached[1][tok.i]


def sent_ents(sent: Any) -> list[Any]:
    """The entities inside a sentence (or any span)."""
    return [e for e in doc_ents(sent.doc) if sent.start <= e.start and e.end <= sent.end]


def ent_at(tok: Any) -> Any:
    """The entity a token is in, or None."""
    if not tok.ent_type_:
        return None
    return next((e for e in doc_ents(tok.doc) if e.start <= tok.i < e.end), None)


def children(tok: Any, deps: set[str]) -> list[Any]:
    return [c for c in tok.children if c.dep_ in deps]


def conjuncts(tok: Any) -> list[Any]:
    """The token and the tokens coordinated with it ("the US and China")."""
    out = [tok]
    for c in tok.children:
        if c.dep_ == "conj":
            out.extend(conjuncts(c))
    return out


def coordinated(tok: Any) -> list[Any]:
    """Conjuncts, and named entities of the same kind set beside one another ("The UK,
    France, and Germany" is often parsed with France as an apposition)."""
    out = conjuncts(tok)
    for t in list(out):
        for c in t.children:
            if c.dep_ == "appos" and c.ent_type_ and c.ent_type_ == t.ent_type_ in {"GPE", "ORG"}:
                out.extend(x for x in conjuncts(c) if x not in out)
    return out


def actor_tokens(head: Any) -> list[Any]:
    """The noun phrase of an actor head: modifiers, compounds, appositives, possessives and
    "of"/"for" phrases, without clauses or coordinated siblings."""
    keep: list[Any] = []

    def walk(t: Any) -> None:
        keep.append(t)
        for c in t.children:
            if c.dep_ in ACTOR_DROP and not (c.dep_ == "prep" and c.lower_ in ACTOR_PREPS):
                continue
            if c.dep_ == "appos" and c.ent_type_ and c.ent_type_ == t.ent_type_ in {"GPE", "ORG"}:
                continue  # a coordinated country, not part of this one's name
            walk(c)

    walk(head)
    return sorted(keep, key=lambda t: t.i)


def prep_objects(tok: Any, preps: Iterable[str]) -> list[Any]:
    wanted = set(preps)
    out: list[Any] = []
    for prep in tok.children:
        # The small model often labels a "to" phrase as a dative ("issued a warning to
        # NATO", "offered condolences to Turkey"); it is a prepositional target all the same.
        if prep.dep_ in {"prep", "agent", "dative"} and prep.lower_ in wanted:
            out.extend(children(prep, {"pobj", "pcomp"}))
    return out


def deep_prep_objects(tok: Any, preps: Sequence[str], depth: int = 3) -> list[Any]:
    """A prepositional target further down: "sever what little ties it had with X"."""
    if not preps:
        return []
    frontier = [c for c in tok.children if c.dep_ in {"dobj", "ccomp", "relcl", "acl"}]
    for _ in range(depth):
        nxt: list[Any] = []
        for t in frontier:
            found = prep_objects(t, preps)
            if found:
                return found
            nxt.extend(c for c in t.children if c.dep_ in {"dobj", "ccomp", "relcl", "acl"})
        frontier = nxt
    return []


def subject(
    tok: Any, lex: Lexicon, depth: int = 0, from_xcomp: bool = False
) -> tuple[list[Any], bool]:
    """Subject heads of a trigger and whether the clause is passive. Participles and
    complements inherit the subject of the clause they hang from; a relative pronoun
    ("the leaders, who met") stands for its antecedent; a personal pronoun in reported
    speech ("Trump announced that he would visit") stands for the reporter."""
    for deps, passive in ((SUBJ, False), (PASS_SUBJ, True)):
        subj = children(tok, deps)
        if not subj:
            continue
        if len(subj) > 1:
            # Two subjects of one verb are a misparse of one phrase ("The militant group
            # al-Shabab attacked"): the one next to the verb is the name.
            subj = [max((s for s in subj if s.i < tok.i), key=lambda s: s.i, default=subj[0])]
        if passive and from_xcomp:
            # "Macron is scheduled to attend", "Iran was asked to halt": the passive
            # subject of the governing verb is the one who attends, or halts.
            passive = False
        if subj[0].lower_ in lex.relative_pronouns and tok.dep_ == "relcl":
            return [tok.head], passive
        if (
            subj[0].lower_ in lex.personal_pronouns
            and tok.dep_ == "ccomp"
            and tok.head.lemma_.lower() in lex.reporting_verbs
        ):
            reporter = children(tok.head, SUBJ)
            if reporter and reporter[0].lower_ not in lex.pronouns:
                return reporter, passive
        return subj, passive
    if tok.dep_ == "ccomp":
        # "that U.S. warplanes patrolling the zone had bombed Basra": the small model makes
        # the participle the clause and leaves the real verb without a subject.
        for sib in tok.head.children:
            if (sib.i < tok.i and sib.dep_ == "ccomp" and sib.tag_ == "VBG"
                    and not children(sib, {"aux", "auxpass"}) and children(sib, SUBJ)):  # fmt: skip
                return children(sib, SUBJ), False
    if depth < 4 and tok.dep_ in INHERIT and tok.head is not tok:
        if tok.dep_ == "relcl":
            return [tok.head], False
        if tok.head.dep_ in SUBJ:  # a modifier hanging off the subject itself
            return [tok.head], False
        return subject(tok.head, lex, depth + 1, from_xcomp=tok.dep_ == "xcomp")
    # "took steps ..., including easing tariffs": climb from a noun to its verb.
    if depth < 4 and tok.dep_ in {"dobj", "pobj"} and tok.head is not tok:
        return subject(tok.head, lex, depth + 1)
    return [], False


def lemmas(tokens: Iterable[Any]) -> set[str]:
    return {t.lemma_.lower() for t in tokens} | {t.lower_ for t in tokens}


def direct_objects(tok: Any) -> list[Any]:
    objs = children(tok, {"dobj", "attr", "oprd"})
    if not objs:
        # Free relatives parse as a clause: "sever [what little ties it had]".
        for comp in children(tok, {"ccomp"}):
            objs.extend(o for o in children(comp, {"dobj"}) if o.i < comp.i)
    # Phrasal and light-verb objects: "cut off ties", "take steps"
    for prt in children(tok, {"prt"}):
        objs.extend(children(prt, {"pobj"}))
    return objs


def object_count(tok: Any, lex: Lexicon) -> int:
    """How many the object counts: "at least 200 villagers", "hundreds of thousands"."""
    best = 0
    for obj in direct_objects(tok):
        value = 0
        for t in obj.subtree:
            word = t.lower_.replace(",", "")
            if word.isdigit():
                value = max(value, int(word))
            elif word in lex.magnitudes:
                value = value * lex.magnitudes[word] if value else lex.magnitudes[word]
        best = max(best, value)
    return best


def reported_content(tok: Any, lex: Lexicon) -> bool:
    """The content of an accusation or a denial is not itself an event: "accused Kyiv of
    attacking the plant", "denied that its army had shelled civilians"."""
    node = tok
    for step in range(4):
        deps = {"pcomp", "ccomp", "pobj", "prep", "xcomp"} | ({"dobj"} if step == 0 else set())
        if node.dep_ not in deps or node.head is node:
            return False
        node = node.head
        if node.lemma_.lower() in lex.content_verbs:
            return True
    return False


def quantity_head(head: Any, lex: Lexicon) -> Any:
    """ "hundreds of protesters", "tens of thousands of civilians", "members of the
    group": the actor is the noun of the "of" phrase."""
    for _ in range(3):
        words = {head.lemma_.lower(), head.lower_}
        if not words & lex.quantity_words and not head.like_num:
            return head
        inner = prep_objects(head, ["of"])
        if not inner:
            return head
        head = inner[0]
    return head
