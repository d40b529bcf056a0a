"""One pass of the pipeline: feeds -> fetch -> extract -> dedup -> tag -> store.

The CLI, the demo and the Airflow DAGs all call `run_pass`. A failure of one feed or one
article is recorded (fetch_log, runs.errors, the article's status) and never stops the
pass; everything that succeeded is loaded.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline import __version__
from pipeline.coder import EventCoder, load_coder
from pipeline.config import Settings
from pipeline.dedup import mark_duplicates, unique_entries
from pipeline.extract import extract_article
from pipeline.feeds import BadFeed, enabled_feeds, parse_feed
from pipeline.fetch import fetch_all
from pipeline.records import (
    Article,
    Entity,
    Event,
    Feed,
    FeedEntry,
    FeedHealth,
    FetchLogRow,
    Page,
    RunStats,
)
from pipeline.store import (
    Batch,
    DatabaseLocked,
    article_row,
    entity_row,
    event_row,
    feed_row,
    fetch_log_row,
    known_articles,
    known_hashes,
    load_pending,
    load_spool,
    open_db,
    write_spool,
)
from pipeline.tag import load_nlp, tag_articles

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_id: str
    status: str  # ok | partial | failed
    stats: RunStats
    loaded: bool  # False: the batch waits in the spool (database locked)
    spool_path: str | None = None
    message: str | None = None
    earlier_loaded: list[str] = field(default_factory=list)


def coder_for(settings: Settings) -> EventCoder:
    """The event coder, from the shipped rule files or the user's copies (settings)."""
    return load_coder(settings.actors_dir or None, settings.triggers_file or None)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _log_row(page: Page, feed: str, kind: str, error_class: str | None = None,
             error: str | None = None) -> FetchLogRow:  # fmt: skip
    return FetchLogRow(
        url=page.url,
        feed=feed,
        kind=kind,
        status=page.status,
        bytes=len(page.body),
        duration_ms=page.duration_ms,
        fetched_at=page.fetched_at,
        final_url=page.final_url,
        content_type=page.content_type,
        error_class=error_class or page.error_class,
        error=error or page.error,
    )


def collect_entries(
    feeds: Sequence[Feed], settings: Settings, stats: RunStats
) -> tuple[list[FeedEntry], list[FeedHealth], list[FetchLogRow]]:
    """Fetch and parse every feed. Bad feeds are recorded, never raised."""
    pages = fetch_all([f.url for f in feeds], settings)
    entries: list[FeedEntry] = []
    health: list[FeedHealth] = []
    logs: list[FetchLogRow] = []
    for feed, page in zip(feeds, pages, strict=True):
        if not page.ok:
            stats.feeds_failed += 1
            stats.errors.append(f"feed {feed.url}: {page.error}")
            logs.append(_log_row(page, feed.name, "feed"))
            health.append(FeedHealth(feed, False, 0, 0, page.status, page.error))
            continue
        try:
            parsed = parse_feed(page.body, feed, page.final_url)
        except BadFeed as exc:
            stats.feeds_failed += 1
            stats.errors.append(f"feed {feed.url}: bad feed: {exc}")
            logs.append(_log_row(page, feed.name, "feed", "BadFeed", str(exc)))
            health.append(FeedHealth(feed, False, 0, 0, page.status, f"bad feed: {exc}"))
            continue
        logs.append(_log_row(page, feed.name, "feed", error=None))
        if parsed.warning:
            stats.errors.append(f"feed {feed.url}: {parsed.warning}")
        stats.entries_dropped += parsed.dropped
        entries.extend(parsed.entries)
        health.append(
            FeedHealth(feed, True, len(parsed.entries), parsed.dropped, page.status, parsed.warning)
        )
    return entries, health, logs


def fetch_and_extract(
    entries: Sequence[FeedEntry], settings: Settings, stats: RunStats, languages: dict[str, str]
) -> tuple[list[Article], list[FetchLogRow]]:
    pages = fetch_all([e.link for e in entries], settings)
    articles: list[Article] = []
    logs: list[FetchLogRow] = []
    for entry, page in zip(entries, pages, strict=True):
        logs.append(_log_row(page, entry.feed, "article"))
        if not page.ok:
            stats.articles_failed += 1
            stats.errors.append(f"article {entry.link}: {page.error}")
            continue
        stats.articles_fetched += 1
        article = extract_article(
            page,
            entry,
            min_words=settings.min_words,
            max_html_bytes=settings.max_html_bytes,
            language=languages.get(entry.feed),
        )
        if article.status == "ok":
            stats.articles_extracted += 1
        else:
            stats.articles_short += 1
            stats.errors.append(f"article {entry.link}: {article.status}: {article.status_detail}")
        articles.append(article)
    return articles, logs


def run_pass(
    feeds: Sequence[Feed],
    settings: Settings,
    *,
    nlp: Any | None = None,
    trigger: str = "cli",
) -> RunResult:
    """Run one pass over the enabled feeds and load the results. See the module doc."""
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    stats = RunStats()
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stats.seconds[stage] = round(now - clock, 3)
        clock = now

    active = enabled_feeds(feeds)
    stats.feeds_total = len(active)

    # A short first visit to the database: schema, waiting batches, what is known already.
    known: set[str] = set()
    hashes: dict[str, str] = {}
    earlier: list[str] = []
    try:
        con = open_db(settings.db_path, settings.lock_timeout_s)
        try:
            earlier = load_pending(con, settings.spool_dir)
            known = known_articles(con)
            hashes = known_hashes(con)
        finally:
            con.close()
    except DatabaseLocked as exc:
        log.warning("database locked; fetching everything and spooling the batch: %s", exc)

    lap("prepare")
    entries, health, logs = collect_entries(active, settings, stats)
    lap("feeds")
    entries, _repeats = unique_entries(entries)
    stats.entries_seen = len(entries)
    summaries = {e.url: e.summary for e in entries}
    if not settings.refetch:
        new = [e for e in entries if e.url not in known]
        stats.articles_skipped = len(entries) - len(new)
        entries = new

    languages = {f.name: f.language for f in active if f.language}
    articles, article_logs = fetch_and_extract(entries, settings, stats, languages)
    articles = mark_duplicates(articles, hashes)
    lap("articles")
    to_tag = [a for a in articles if a.status == "ok" and a.duplicate_of is None]
    coder = coder_for(settings)
    entities: list[Entity] = []
    events: list[Event] = []
    if to_tag:
        entities, events = tag_articles(
            to_tag,
            nlp or load_nlp(settings.spacy_model),
            coder,
            batch_size=settings.nlp_batch_size,
        )
    stats.articles_tagged, stats.entities, stats.events = len(to_tag), len(entities), len(events)
    lap("tag")

    failed_everything = stats.feeds_total > 0 and stats.feeds_failed == stats.feeds_total
    any_failure = stats.feeds_failed or stats.articles_failed or stats.articles_short
    status = "failed" if failed_everything else ("partial" if any_failure else "ok")
    run = {
        "run_id": run_id,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "status": status,
        "trigger": trigger,
        "feeds_total": stats.feeds_total,
        "feeds_failed": stats.feeds_failed,
        "entries_seen": stats.entries_seen,
        "entries_dropped": stats.entries_dropped,
        "articles_skipped": stats.articles_skipped,
        "articles_fetched": stats.articles_fetched,
        "articles_failed": stats.articles_failed,
        "articles_extracted": stats.articles_extracted,
        "articles_short": stats.articles_short,
        "articles_tagged": stats.articles_tagged,
        "entities": stats.entities,
        "events": stats.events,
        "errors": stats.errors,
        "spacy_model": settings.spacy_model,
        "coder_version": coder.version,
        "pipeline_version": __version__,
    }
    batch = Batch(
        run=run,
        feeds=[feed_row(h, started) for h in health],
        fetch_log=[fetch_log_row(run_id, r) for r in logs + article_logs],
        articles=[article_row(run_id, a, summaries.get(a.url)) for a in articles],
        entities=[entity_row(e) for e in entities],
        events=[event_row(e) for e in events],
        tagged=[a.article_id for a in to_tag],
    )
    spool = write_spool(batch, settings.spool_dir)
    try:
        con = open_db(settings.db_path, settings.lock_timeout_s)
        try:
            load_spool(con, spool)
        finally:
            con.close()
            lap("load")
    except DatabaseLocked as exc:
        return RunResult(
            run_id, status, stats, loaded=False, spool_path=str(spool),
            message=f"{exc} The batch is saved in {spool} and the next run loads it "
            "(or run `newsevents load-spool`).",
            earlier_loaded=earlier,
        )  # fmt: skip
    return RunResult(run_id, status, stats, loaded=True, earlier_loaded=earlier)
