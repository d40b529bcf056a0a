"""The event-coder interface, and the registry of implementations chosen by a setting.

The pipeline's tag stage, `newsevents code` and `newsevents eval-events` speak only to
`EventCoder`. An implementation registers a factory under a name (`register`); the
`coder` setting (NEWS_CODER) picks one. The rule coder is registered as "rules".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pipeline.coding.sieve import Vocabulary
from pipeline.records import Event


@dataclass(frozen=True)
class CoderFiles:
    """Users' copies of the data files ("" or None: the shipped file)."""

    actors_dir: str | None = None
    triggers_file: str | None = None
    petrarch_vocabulary: bool = True  # also the trigger rules converted from PETRARCH-2


class EventCoder(Protocol):
    """Codes the events of one parsed document."""

    name: str  # the registry name, e.g. "rules"
    version: str  # stamped on every event: implementation version + data digest

    def code_doc(self, doc: Any, *, article_id: str, published: date | None) -> list[Event]:
        """Events of a spaCy Doc, in document order, with event_idx 0, 1, 2, ..."""
        ...

    def vocabulary(self) -> Vocabulary | None:
        """The words a sentence needs for this coder to code an event in it (the sentence
        filter parses only such sentences), or None: every sentence may hold one."""
        ...


_REGISTRY: dict[str, Callable[[CoderFiles], EventCoder]] = {}


def register(
    name: str,
) -> Callable[[Callable[[CoderFiles], EventCoder]], Callable[[CoderFiles], EventCoder]]:
    def wrap(factory: Callable[[CoderFiles], EventCoder]) -> Callable[[CoderFiles], EventCoder]:
        _REGISTRY[name] = factory
        return factory

    return wrap


def coder_names() -> list[str]:
    return sorted(_REGISTRY)


def make_coder(name: str, files: CoderFiles) -> EventCoder:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown coder {name!r}; known: {', '.join(coder_names())}") from None
    return factory(files)
