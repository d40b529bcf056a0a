"""The model's attribute ruler (tag -> part of speech, morphology and a few lemmas), made
cheap: the same patterns, the same result, about a third of the cost.

spaCy's AttributeRuler runs a Matcher over its 179 patterns (en_core_web_sm) for every
token, about an eighth of a full parse. Its patterns look at a token only through its
tag, dependency label and lower-case form, so `FastAttributes` sorts tokens into classes
that no pattern tells apart and works out each class's verdict once: which single-token
patterns hold, and which multi-token patterns it can start (the few of those are then
checked token by token from the verdicts). The attributes are set in the ruler's order
(by pattern, so a later pattern wins), with spaCy's own setter for the tokens a
multi-token pattern names. tests/test_sieve.py checks on the gold texts and the demo
that the result is the ruler's, attribute for attribute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

_KEYS = {"TAG", "DEP", "LOWER", "IS_SPACE"}
_OPS = {"IN", "NOT_IN", "REGEX"}


class Unsupported(ValueError):
    """A pattern this fast path does not read: keep the model's own ruler."""


def _check(cond: dict[str, Any]) -> None:
    for key, value in cond.items():
        if key not in _KEYS:
            raise Unsupported(f"pattern key {key}")
        if isinstance(value, dict) and not set(value) <= _OPS:
            raise Unsupported(f"pattern operator {sorted(value)}")
        if isinstance(value, dict) and "REGEX" in value and key != "LOWER":
            raise Unsupported(f"a regex on {key}")  # the classes keep only LOWER's regexes


def _holds(value: Any, found: str | bool) -> bool:
    if not isinstance(value, dict):
        return bool(value == found)
    if "IN" in value and found not in value["IN"]:
        return False
    if "NOT_IN" in value and found in value["NOT_IN"]:
        return False
    return not ("REGEX" in value and not re.search(value["REGEX"], str(found)))


def _matches(cond: dict[str, Any], tag: str, dep: str, lower: str) -> bool:
    found: dict[str, str | bool] = {"TAG": tag, "DEP": dep, "LOWER": lower,
                                    "IS_SPACE": lower.isspace()}  # fmt: skip
    return all(_holds(value, found[key]) for key, value in cond.items())


class FastAttributes:
    """An attribute ruler's patterns, applied per class of (tag, dep, lower): two words
    that no pattern tells apart (neither is named by a pattern, and every regex says the
    same of both) are one class, so the verdicts are worked out a few thousand times, not
    once per token."""

    def __init__(self, ruler: Any) -> None:
        from spacy.attrs import DEP, HEAD, LEMMA, LOWER, MORPH, POS, TAG

        self.vocab = ruler.vocab
        self.attrs = ruler.attrs
        used = {attr for a in self.attrs for attr in a}
        if not used <= {TAG, POS, MORPH, LEMMA, DEP}:
            raise Unsupported("pattern attributes")
        self.single: list[tuple[int, dict[str, Any]]] = []
        self.multi: list[tuple[int, int, list[dict[str, Any]]]] = []  # (attr_id, index, conds)
        for attr_id in range(len(ruler.attrs)):
            _, patterns = ruler.matcher.get(str(attr_id))
            for pattern in patterns:
                for cond in pattern:
                    _check(cond)
                if len(pattern) == 1 and ruler.indices[attr_id] in (0, -1):
                    self.single.append((attr_id, pattern[0]))
                else:
                    self.multi.append((attr_id, ruler.indices[attr_id], pattern))
        conds = [c for _, c in self.single] + [c for _, _, p in self.multi for c in p]
        self.named = {key: _named(conds, key) for key in ("TAG", "DEP", "LOWER")}
        self.regexes = [re.compile(v["REGEX"]) for c in conds for k, v in c.items()
                        if k == "LOWER" and isinstance(v, dict) and "REGEX" in v]  # fmt: skip
        self.keys = [TAG, DEP, LOWER]
        self.columns = [TAG, POS, MORPH, LEMMA, DEP, HEAD]
        self.classes: dict[tuple[int, int], str] = {}  # (column, string id) -> class
        self.examples: dict[tuple[int, str], str] = {}  # (column, class) -> a member
        self.verdicts: dict[tuple[str, str, str], _Verdict] = {}

    def _class(self, column: int, value: int) -> str:
        found = self.classes.get((column, value))
        if found is None:
            text = self.vocab.strings[value] if value else ""
            name = ("TAG", "DEP", "LOWER")[column]
            if text in self.named[name]:
                found = text
            elif name == "LOWER":
                found = (
                    "\x00"
                    + "".join("1" if r.search(text) else "0" for r in self.regexes)
                    + ("s" if text.isspace() else "w")
                )
            else:
                found = "\x00"
            # The class keeps its first member's text, for _matches.
            self.classes[(column, value)] = found
            self.examples.setdefault((column, found), text)
        return found

    def _verdict(self, key: tuple[str, str, str]) -> _Verdict:
        found = self.verdicts.get(key)
        if found is None:
            tag, dep, lower = (self.examples[(c, k)] for c, k in enumerate(key))
            rules = sorted({a for a, cond in self.single if _matches(cond, tag, dep, lower)})
            values: dict[int, int] = {}
            for attr_id in rules:
                for attr, value in self.attrs[attr_id].items():
                    values[self.columns.index(attr)] = value
            starts = [n for n, (_, _, conds) in enumerate(self.multi)
                      if _matches(conds[0], tag, dep, lower)]  # fmt: skip
            found = self.verdicts[key] = _Verdict(rules, tuple(values.items()), starts,
                                                  (tag, dep, lower))  # fmt: skip
        return found

    def __call__(self, doc: Any) -> Any:
        from spacy.tokens._retokenize import set_token_attrs

        if not len(doc):
            return doc
        ids = doc.to_array(self.keys)
        verdicts = [
            self._verdict((self._class(0, t), self._class(1, d), self._class(2, w)))
            for t, d, w in zip(*(ids[:, c].tolist() for c in range(3)), strict=True)
        ]
        array = doc.to_array(self.columns)
        changed = False
        extra: dict[int, list[int]] = {}
        for i, verdict in enumerate(verdicts):
            for c, value in verdict.values:
                array[i, c] = value
                changed = True
            for n in verdict.starts:
                attr_id, index, conds = self.multi[n]
                end = i + len(conds)
                if end <= len(doc) and all(
                    _matches(cond, *verdicts[i + j].example) for j, cond in enumerate(conds)
                ):
                    extra.setdefault(i + index if index >= 0 else end + index, []).append(attr_id)
        if changed:
            doc.from_array(self.columns, array)
        # A token that a multi-token pattern also names gets all its rules again, in the
        # ruler's order, so that the last one wins as in spaCy (matched on the doc as it
        # was before any rule applied, as spaCy matches).
        for at, attr_ids in extra.items():
            for attr_id in sorted(set(verdicts[at].rules) | set(attr_ids)):
                set_token_attrs(doc[at], self.attrs[attr_id])
        return doc

    def pipe(self, docs: Iterable[Any], batch_size: int = 128) -> Iterator[Any]:
        for doc in docs:
            yield self(doc)


@dataclass(frozen=True)
class _Verdict:
    rules: list[int]  # the single-token patterns that hold, in the ruler's order
    values: tuple[tuple[int, int], ...]  # (column, value) they set, the last one winning
    starts: list[int]  # the multi-token patterns whose first token this can be
    example: tuple[str, str, str]  # a (tag, dep, lower) of the class


def _named(conds: list[dict[str, Any]], key: str) -> frozenset[str]:
    """Every value a pattern names for this key, in an equality, IN or NOT_IN."""
    out: set[str] = set()
    for cond in conds:
        value = cond.get(key)
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, dict):
            out.update(value.get("IN", ()))
            out.update(value.get("NOT_IN", ()))
    return frozenset(out)


def fast_attributes(ruler: Any) -> Any:
    """The fast path for this ruler, or the ruler itself if it has patterns the fast
    path does not read."""
    try:
        return FastAttributes(ruler)
    except Unsupported:
        return ruler
