"""Extract: article body and metadata from fetched HTML, with trafilatura.

Pages whose body is not usable news (consent walls, empty pages, PDFs) are kept with a
status that says why, never silently dropped: analysts can count and inspect them.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urljoin

import charset_normalizer
from trafilatura import bare_extraction
from trafilatura.settings import use_config

from pipeline.dedup import article_id, canonical_url, content_hash
from pipeline.records import Article, FeedEntry, Page

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.I)
_CANONICAL = re.compile(
    r"""<link[^>]+rel\s*=\s*["']?canonical["']?[^>]*>""",
    re.I,
)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def decode_html(body: bytes, content_type: str | None) -> str:
    """Bytes to text: the header's charset, then the page's meta charset, then UTF-8,
    then detection. Invalid bytes become U+FFFD, never silently mis-decoded text."""
    candidates: list[str] = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'"))
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore").lower())
    candidates.append("utf-8")
    for charset in candidates:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeError):  # unknown or unusable names ("undefined")
            continue
    # Mostly valid UTF-8 with a few bad bytes: keep it UTF-8 and mark the bad bytes,
    # rather than let detection pick a single-byte code page and garble every accent.
    text = body.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(3, len(text) // 1000):
        return text
    matches = charset_normalizer.from_bytes(body)
    best = matches.best()
    if best is not None and best.encoding:
        # Short Western text fits several code pages about equally well; windows-1252,
        # the web's default for undeclared single-byte pages (WHATWG), wins such a tie.
        close = [m.encoding for m in matches if m.chaos <= best.chaos + 0.1]
        encoding = "cp1252" if "cp1252" in close else best.encoding
        return body.decode(encoding, errors="replace")
    return body.decode("utf-8", errors="replace")


def merge_dates(page_date: date | None, feed_time: datetime | None) -> tuple[datetime | None, str]:
    """Combine trafilatura's date-only value with the feed's timestamp.

    The feed's time of day wins when both agree on the day (within a day, for time
    zones); the page's date wins when they disagree; either alone is used as is.
    """
    if page_date is None:
        return (feed_time, "feed") if feed_time else (None, "none")
    if feed_time is not None and abs(feed_time.date() - page_date) <= timedelta(days=1):
        return feed_time, "page+feed_time"
    return datetime(page_date.year, page_date.month, page_date.day, tzinfo=UTC), "page"


def _page_date(value: object) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def page_canonical(html: str, base: str) -> str | None:
    """The page's own <link rel=canonical>, if it has an http(s) one."""
    for tag in _CANONICAL.findall(html[:200_000]):
        href = _HREF.search(tag)
        if href:
            url = urljoin(base, href.group(1).strip())
            if url.startswith(("http://", "https://")):
                return canonical_url(url)
    return None


def _strip_title(text: str, title: str | None) -> str:
    lines = text.split("\n")
    if title and lines and lines[0].strip() == title.strip():
        lines = lines[1:]
    return "\n".join(line.strip() for line in lines if line.strip())


class ExtractionTimeout(Exception):
    pass


# trafilatura stops on documents with more elements than this (hostile or broken pages).
MAX_TREE_SIZE = 100_000
_FIELDS = ("text", "title", "author", "date", "sitename", "language")


def trafilatura_fields(html: str) -> dict[str, Any] | None:
    """trafilatura on one page, as plain fields (picklable, for the worker process)."""
    # No url=: htmldate would read a /YYYY/MM/DD/ path as the page's date. No broad
    # search: it guesses years from the text. A page without date metadata takes the
    # feed's date instead (merge_dates).
    doc: Any = bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        config=_trafilatura_config(),
        date_extraction_params={
            "extensive_search": False,
            "original_date": True,
            "max_date": datetime.now(UTC).date().isoformat(),
        },
    )
    if doc is None:
        return None
    return {name: getattr(doc, name, None) for name in _FIELDS}


@cache
def _trafilatura_config() -> Any:
    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # ours is the worker's deadline
    return config


_pool: ProcessPoolExecutor | None = None


def close_extraction_pool() -> None:
    """Stop the worker. A forked worker holds copies of the parent's open sockets (a demo
    server's, say), so it must not outlive the batch it was started for."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Let a daemonic process (a task in Celery's prefork pool) start the worker.
    multiprocessing refuses children of a daemon because a killed daemon would orphan
    them; this worker never outlives its batch (close_extraction_pool), and a stuck one
    is killed, so the refusal protects nothing here."""
    config = mp.current_process()._config  # type: ignore[attr-defined]
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon


def run_extraction(html: str, timeout_s: float) -> dict[str, Any] | None:
    """Extract in a forked worker process with a deadline: a pathological page that stalls
    trafilatura costs timeout_s and is recorded, and the worker is replaced. With
    timeout_s <= 0 it runs in this process, without a limit."""
    global _pool
    if timeout_s <= 0:
        return trafilatura_fields(html)
    if _pool is None:
        # fork, not forkserver or spawn: those re-import __main__ in the worker, which
        # under Airflow is the airflow command itself (and it refuses to start there).
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
    with _children_allowed():  # the worker process starts with the first submit
        future = _pool.submit(trafilatura_fields, html)
    try:
        return future.result(timeout=timeout_s)
    except FuturesTimeout as exc:
        stuck, _pool = _pool, None
        for process in list(getattr(stuck, "_processes", {}).values()):
            process.kill()
        stuck.shutdown(wait=False, cancel_futures=True)
        raise ExtractionTimeout from exc


# Phrases of consent walls, paywalls and log-in pages, not of news.
_BOILERPLATE = re.compile(
    r"\b(?:accept (?:all |our )?cookies|cookie (?:policy|settings|preferences)|"
    r"use (?:of )?cookies|(?:accept|agree) to continue|"
    r"(?:manage|privacy) (?:preferences|settings|choices)|consent|"
    r"subscribe (?:now |today )?to (?:continue|read)|subscribers? only|"
    r"sign (?:in|up) to (?:continue|read)|log in to (?:continue|read)|"
    r"enable javascript|javascript (?:is )?(?:disabled|required)|ad ?blocker|"
    r"you have reached (?:your|the) (?:limit|maximum)|free articles? (?:left|remaining)|"
    r"page (?:not found|cannot be found)|has been removed)\b",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]?(?:\s|$)")
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
STUB_FLOOR = 25  # a body this short is a stub whatever it says


def stub_reason(body: str, summary: str | None, html: str) -> str | None:
    """Why a body under min_words is a consent wall or a stub, not a short article; None
    when it reads as news: no boilerplate, at least two sentences, not mostly links, more
    than the feed's summary."""
    words = len(body.split())
    found = _BOILERPLATE.search(body)
    if found:
        return f"consent wall or stub ({found.group(0).lower()!r})"
    if words < STUB_FLOOR:
        return f"stub (under {STUB_FLOOR} words)"
    if len(_SENTENCE_END.findall(body)) < 2:
        return "stub (fewer than two sentences)"
    linked = sum(len(_TAG.sub(" ", a).split()) for a in _ANCHOR.findall(html))
    page = len(_TAG.sub(" ", html).split())
    if page and linked / page > 0.5:
        return f"stub (mostly links: {linked} of {page} words)"
    if summary:
        said = " ".join(summary.split()).lower()
        if said and " ".join(body.split()).lower() in said:
            return "stub (only the feed's summary)"
    return None


def extract_article(
    page: Page,
    entry: FeedEntry,
    *,
    min_words: int = 80,
    max_html_bytes: int = 2_000_000,
    language: str | None = None,
    timeout_s: float = 0.0,
) -> Article:
    """Turn one fetched page into an Article. Never raises on bad HTML."""
    base: dict[str, Any] = {
        "article_id": article_id(entry.url),
        "url": entry.url,
        "final_url": page.final_url,
        "feed": entry.feed,
        "fetched_at": page.fetched_at,
    }
    feed_title = entry.title
    published, date_source = merge_dates(None, entry.published_at)

    def unusable(status: str, detail: str) -> Article:
        return Article(
            **base,
            title=feed_title,
            body="",
            author=None,
            published_at=published,
            date_source=date_source,
            site_name=None,
            language=language,
            status=status,
            status_detail=detail,
            word_count=0,
            content_hash=content_hash(""),
        )

    ctype = (page.content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in _HTML_TYPES and not ctype.startswith("text/"):
        return unusable("not_html", f"content type {ctype}")
    if len(page.body) > max_html_bytes:
        return unusable("too_large", f"{len(page.body)} bytes > {max_html_bytes}")
    try:
        html = decode_html(page.body, page.content_type)
        doc = run_extraction(html, timeout_s)
    except ExtractionTimeout:
        return unusable("extract_timeout", f"extraction took longer than {timeout_s}s")
    except Exception as exc:  # trafilatura/lxml raise many types on hostile markup
        return unusable("extract_failed", f"{type(exc).__name__}: {exc}"[:500])
    if doc is None or not (doc["text"] or "").strip():
        return unusable("empty", "no article text found on the page")
    title = doc["title"] or feed_title
    body = _strip_title(doc["text"], title)
    words = len(body.split())
    published, date_source = merge_dates(_page_date(doc["date"]), entry.published_at)
    lang_match = _HTML_LANG.search(html[:5000])
    status, detail = "ok", None
    if words == 0:
        status, detail = "empty", "no article text found on the page"
    elif words < min_words:
        why = stub_reason(body, entry.summary, html)
        if why:
            status, detail = "too_short", f"{words} words < {min_words}: {why}"
        else:
            detail = f"short ({words} words < {min_words}) but reads as news"
    canonical = page_canonical(html, page.final_url)
    if canonical and canonical != entry.url:
        detail = (detail + "; " if detail else "") + f"page canonical: {canonical}"
    return Article(
        **base,
        title=title,
        body=body,
        author=doc["author"] or None,
        published_at=published,
        date_source=date_source,
        site_name=doc["sitename"] or None,
        language=(doc["language"] or (lang_match.group(1).lower() if lang_match else language)),
        status=status,
        status_detail=detail,
        word_count=words,
        content_hash=content_hash(body),
        page_canonical=canonical if canonical and canonical != entry.url else None,
    )
