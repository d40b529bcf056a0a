"""The coder's word lists, read from pipeline/data/coder/lexicon.json.

Grammar (dependency labels) stays in code; words live in data, so a list changes by
editing the file (or by passing a copy to `load_lexicon`), not the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def read_tables(cls: type[T], file: Path, what: str) -> T:
    """A dataclass of word lists (frozenset fields) and code maps (dict fields) from a
    JSON object with one key per field (and "_about"). A missing or unknown key, or a bad
    file, raises ValueError."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        values: dict[str, Any] = {}
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(k for k in data if k not in known and not k.startswith("_"))
        if unknown:
            raise ValueError(f"{file}: unknown {what} keys {unknown}")
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                raise ValueError(f"{what}: missing key {f.name!r}")
            raw = data[f.name]
            values[f.name] = dict(raw) if str(f.type).startswith("dict") else frozenset(raw)
        return cls(**values)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{file}: bad {what}: {exc}") from exc


@dataclass(frozen=True)
class Lexicon:
    not_target_labels: frozenset[str]  # entity labels that are never actors
    actor_labels: frozenset[str]  # entity labels that can be actors
    future_aux: frozenset[str]
    hypothetical_aux: frozenset[str]
    intent_verbs: frozenset[str]  # "plans to", "intends to": the complement is intended
    reporting_verbs: frozenset[str]
    content_verbs: frozenset[str]  # what they report is not itself an event
    pronouns: frozenset[str]
    personal_pronouns: frozenset[str]
    relative_pronouns: frozenset[str]
    domestic_sectors: frozenset[str]  # roles that belong to the country where they act
    counterparts: frozenset[str]  # "its rival": the other country of the sentence
    magnitudes: dict[str, int]  # "hundreds" -> 200, for object_min_count
    materiel: frozenset[str]  # weapons and vehicles: an actor only with a country
    wh_words: frozenset[str]  # never a target ("what his government called ...")
    quantity_words: frozenset[str]  # "hundreds of protesters": the actor is the "of" noun
    place_preps: frozenset[str]  # prepositions that give an event its place


def default_lexicon_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "coder" / "lexicon.json"))


@cache
def load_lexicon(path: str | None = None) -> Lexicon:
    return read_tables(Lexicon, Path(path) if path else default_lexicon_path(), "lexicon")
