"""Canonical URLs, stable ids and content fingerprints: how the pipeline knows "the same article".

Two feeds often carry the same story, and one story often has several URLs (tracking
parameters, upper-case hosts, default ports, fragments). Every key downstream is the
canonical URL computed here, so a re-run or an overlapping feed never duplicates a row.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

from pipeline.records import Article, Event, FeedEntry

_WS = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """Normalise a URL: lower-case scheme and host, no default port, no fragment,
    no tracking parameters (utm_*, fbclid, ...), dot segments resolved.

    >>> canonical_url("HTTP://Example.COM:80/a/./b.html?utm_source=x&id=2#top")
    'http://example.com/a/b.html?id=2'
    """
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    if "/." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        if trailing and not path.endswith("/"):
            path += "/"
    cleaned = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    try:
        normalised = normalize_url(cleaned)
    except ValueError:
        normalised = cleaned
    return normalised.split("#", 1)[0]


def article_id(url: str) -> str:
    """A stable 16-hex-digit id for an article, derived from its canonical URL."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]


def event_key(event: Event) -> str:
    """What an event is, as text: the sentence it was coded from, the offsets of its trigger
    and of both actors in that sentence, and its CAMEO code. Nothing that depends on the
    events before it, so re-coding an article with changed rules keeps the key of every
    event that did not change. Migration 0010 computes the same string in SQL."""
    target = (None, None) if event.target is None else (event.target.start_char,
                                                        event.target.end_char)  # fmt: skip
    fields = (event.trigger_start, event.trigger_end, event.cameo_code,
              event.source.start_char, event.source.end_char, *target)  # fmt: skip
    return "|".join("" if f is None else str(f) for f in fields) + "|" + event.sentence


def event_ids(events: Iterable[Event]) -> list[str]:
    """Stable ids for an article's events, in their order: `article_id-` and 12 hex digits
    of sha256("ordinal|key"). The ordinal (0 but for the second and later copies of the
    same key in one article, a sentence repeated word for word) keeps ids unique. The
    event_idx (document order) is not part of it: it shifts when an earlier event is
    added or dropped."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for event in events:
        key = event_key(event)
        ordinal = seen.get((event.article_id, key), 0)
        seen[(event.article_id, key)] = ordinal + 1
        digest = hashlib.sha256(f"{ordinal}|{key}".encode()).hexdigest()[:12]
        out.append(f"{event.article_id}-{digest}")
    return out


def content_hash(text: str) -> str:
    """A fingerprint of the body that ignores case, Unicode normalisation form and whitespace."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return hashlib.sha1(_WS.sub(" ", folded).strip().encode("utf-8")).hexdigest()[:16]


def unique_entries(entries: Iterable[FeedEntry]) -> tuple[list[FeedEntry], int]:
    """Keep the first entry per canonical URL, across all feeds. Returns (kept, repeats)."""
    seen: set[str] = set()
    kept: list[FeedEntry] = []
    repeats = 0
    for entry in entries:
        if entry.url in seen:
            repeats += 1
            continue
        seen.add(entry.url)
        kept.append(entry)
    return kept, repeats


def mark_duplicates(
    articles: list[Article], known: dict[str, str], known_urls: Iterable[str] = ()
) -> list[Article]:
    """Set `duplicate_of` on articles that are another article under a second URL: the
    page's own canonical link names an article stored or in this batch, or the body is
    identical to an earlier article's.

    `known` maps content_hash -> article_id for articles already stored. Only usable bodies
    (status ok) take part: two consent walls are not the same story.
    """
    urls = set(known_urls) | {a.url for a in articles}
    seen = dict(known)
    out: list[Article] = []
    for article in sorted(articles, key=lambda a: a.article_id):
        if article.page_canonical and article.page_canonical in urls:
            out.append(replace(article, duplicate_of=article_id(article.page_canonical)))
            continue
        original = seen.get(article.content_hash) if article.status == "ok" else None
        if original and original != article.article_id:
            out.append(replace(article, duplicate_of=original))
        else:
            if article.status == "ok":
                seen.setdefault(article.content_hash, article.article_id)
            out.append(article)
    return out
