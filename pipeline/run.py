"""Passes of the pipeline: feeds -> fetch -> extract -> dedup -> tag -> store.

Two stages, which a single pass runs back to back and Airflow runs as separate DAGs:

* ingest: fetch the feeds and the articles not fetched before; the pages are kept as raw
  pages (table raw_pages), so everything after can run again without fetching;
* enrich: extract, deduplicate, tag and code raw pages, and load articles, entities and
  events.

`run_pass` (the CLI and the demo), `ingest_feeds_to_spool` / `enrich_waiting_to_spool`
plus `load_spools` (the DAGs and `newsevents enrich`) share these functions: one ingest,
one `enrich_to_batch` (extract, tag, code, and build the batch), one store. A failure of
one feed or one article is recorded (fetch_log, runs.errors, the article's status) and
never stops the pass; everything that succeeded is loaded, in one transaction per batch.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.archive import read_archive, write_archive
from pipeline.coding import CoderFiles, EventCoder, load_coder
from pipeline.config import Settings
from pipeline.dedup import article_id, event_ids, mark_duplicates, unique_entries
from pipeline.extract import close_extraction_pool, extract_article
from pipeline.feeds import BadFeed, enabled_feeds, parse_feed
from pipeline.fetch import Fetcher, make_client
from pipeline.geo.gazetteer import load_gazetteer
from pipeline.politeness import HostGate
from pipeline.records import (
    Article,
    Entity,
    Event,
    Feed,
    FeedEntry,
    FeedHealth,
    FetchLogRow,
    Page,
    PlaceMention,
    RunStats,
)
from pipeline.store import (
    Batch,
    DatabaseLocked,
    Store,
    StoreState,
    article_row,
    entity_row,
    event_row,
    feed_row,
    fetch_log_row,
    open_store,
    place_row,
    raw_page_row,
)  # fmt: skip
from pipeline.tag import Analysis, analyse_articles, nlp_for

log = logging.getLogger(__name__)

Progress = Callable[[str, int, "int | None"], None]
"""How far a long step is: progress(task, done, total) says `done` of `total` items of
`task` are finished (total None: not known yet). The passes call it as they go; the CLI
draws bars from it (pipeline/console.py). The DAGs and the tests pass none."""


def _quiet(task: str, done: int, total: int | None) -> None:
    """No progress to show (the default)."""


def _within(progress: Progress, base: int, total: int) -> Progress:
    """The progress of one batch of a longer job, reported as progress of the job: `base`
    items were done before this batch, `total` in the whole job."""

    def report(task: str, done: int, _batch_total: int | None) -> None:
        progress(task, base + done, max(total, base + done))

    return report


async def _gather_counted(
    task: str, jobs: Sequence[Awaitable[Any]], progress: Progress
) -> list[Any]:
    """asyncio.gather, reporting each job as it finishes."""
    done = 0
    progress(task, 0, len(jobs))

    async def one(job: Awaitable[Any]) -> Any:
        nonlocal done
        result = await job
        done += 1
        progress(task, done, len(jobs))
        return result

    return list(await asyncio.gather(*(one(j) for j in jobs)))


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
    files = CoderFiles(
        settings.actors_dir or None, settings.triggers_file or None, settings.petrarch_vocabulary
    )
    return load_coder(settings.coder, files)


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
        retries=page.retries,
    )


def parse_feed_pages(
    feeds: Sequence[Feed], pages: Sequence[Page], stats: RunStats
) -> tuple[list[FeedEntry], list[FeedHealth], list[FetchLogRow]]:
    """Parse fetched feeds. Bad feeds are recorded, never raised; a 304 is a success
    with nothing new."""
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
        if page.not_modified:
            stats.feeds_not_modified += 1
            logs.append(_log_row(page, feed.name, "feed"))
            health.append(FeedHealth(feed, True, 0, 0, 304, None))
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
            FeedHealth(
                feed, True, len(parsed.entries), parsed.dropped, page.status, parsed.warning,
                etag=page.header("etag"), last_modified=page.header("last-modified"),
            )
        )  # fmt: skip
    return entries, health, logs


def conditional_headers(
    validators: Mapping[str, tuple[str | None, str | None]], feed: Feed
) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the validators stored for a feed."""
    etag, modified = validators.get(feed.name, (None, None))
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


@dataclass
class Ingested:
    """What the ingest stage fetched: feed health, the fetch log, and raw pages."""

    health: list[FeedHealth] = field(default_factory=list)
    logs: list[FetchLogRow] = field(default_factory=list)
    pages: list[tuple[FeedEntry, Page]] = field(default_factory=list)
    # Every response, for the raw archive: (kind, entry or None, page).
    responses: list[tuple[str, FeedEntry | None, Page]] = field(default_factory=list)


@dataclass
class Enriched:
    articles: list[Article] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    coder_version: str = ""


def _updated_since(entry: FeedEntry, known: Mapping[str, datetime], settings: Settings) -> bool:
    """The refetch policy: an entry the feed marks updated after our last fetch."""
    fetched = known.get(entry.url)
    return bool(
        settings.refetch_updated and entry.updated_at and fetched and entry.updated_at > fetched
    )


def ingest(
    feeds: Sequence[Feed],
    settings: Settings,
    known: Mapping[str, datetime],
    stats: RunStats,
    validators: Mapping[str, tuple[str | None, str | None]] | None = None,
    *,
    hosts_dir: Path | None = None,
    progress: Progress = _quiet,
) -> Ingested:
    """Fetch feeds (conditionally), then the pages of entries not fetched before, with one
    polite fetcher for the whole run. `hosts_dir`: the store's per-host gate, which keeps
    politeness across processes (the mapped tasks of one DAG run)."""
    # A refetch asks for everything again, so feeds are not fetched conditionally either.
    validators = {} if settings.refetch else (validators or {})
    gate = HostGate(hosts_dir) if hosts_dir is not None else None
    return asyncio.run(_ingest(feeds, settings, known, stats, validators, gate, progress))


async def _ingest(
    feeds: Sequence[Feed],
    settings: Settings,
    known: Mapping[str, datetime],
    stats: RunStats,
    validators: Mapping[str, tuple[str | None, str | None]],
    gate: HostGate | None,
    progress: Progress,
) -> Ingested:
    async with make_client(settings) as client:
        # Per-host limits shared with every other ingest of the store (Airflow's mapped
        # tasks are separate processes) through files in the store's hosts/ folder.
        fetcher = Fetcher(settings, client, gate=gate)
        feed_pages = await _gather_counted(
            "fetch feeds",
            [fetcher.get(f.url, "feed", conditional_headers(validators, f)) for f in feeds],
            progress,
        )
        entries, health, logs = parse_feed_pages(feeds, feed_pages, stats)
        entries, _repeats = unique_entries(entries)
        stats.entries_seen += len(entries)
        if not settings.refetch:
            new = [e for e in entries if e.url not in known or _updated_since(e, known, settings)]
            stats.articles_skipped += len(entries) - len(new)
            entries = new
        pages = await _gather_counted(
            "fetch articles", [fetcher.get(e.link, "article") for e in entries], progress
        )
        robots = list(fetcher.robots_pages)
    for unused in fetcher.allow.unused():
        log.warning(
            "allow_private_hosts entry %r matched no request in this run: check the host "
            "and port (HOST alone allows every port; localhost:PORT allows 127.0.0.1 and "
            "::1 on that port)", unused,
        )  # fmt: skip
    out = Ingested(health=health, logs=logs)
    out.logs.extend(_log_row(p, "", "robots") for p in robots)
    out.responses.extend(("robots", None, p) for p in robots)
    out.responses.extend(("feed", None, p) for p in feed_pages)
    out.responses.extend(("article", e, p) for e, p in zip(entries, pages, strict=True))
    for entry, page in zip(entries, pages, strict=True):
        out.logs.append(_log_row(page, entry.feed, "article"))
        if not page.ok:
            stats.articles_failed += 1
            stats.errors.append(f"article {entry.link}: {page.error}")
            continue
        stats.articles_fetched += 1
        out.pages.append((entry, page))
    return out


def enrich(
    pages: Sequence[tuple[FeedEntry, Page]],
    settings: Settings,
    stats: RunStats,
    *,
    nlp: Any | None = None,
    known_hashes: dict[str, str] | None = None,
    languages: dict[str, str] | None = None,
    known_urls: Iterable[str] | None = None,
    countries: dict[str, str] | None = None,
    progress: Progress = _quiet,
) -> Enriched:
    """Extract, deduplicate, tag, geoparse and code fetched pages. `languages` and
    `countries`: feed name -> the feed's language, and its country (a geoparser hint).
    `progress` hears of every page extracted, then of every page tagged and coded (those
    with nothing to tag count as done at once)."""
    languages = languages or {}
    articles: list[Article] = []
    progress("extract", 0, len(pages))
    try:
        for done, (entry, page) in enumerate(pages, 1):
            article = extract_article(
                page,
                entry,
                min_words=settings.min_words,
                max_html_bytes=settings.max_html_bytes,
                language=languages.get(entry.feed),
                timeout_s=settings.extract_timeout_s,
            )
            if article.status == "ok":
                stats.articles_extracted += 1
            else:
                stats.articles_short += 1
                stats.errors.append(
                    f"article {entry.link}: {article.status}: {article.status_detail}"
                )
            articles.append(article)
            progress("extract", done, len(pages))
    finally:
        close_extraction_pool()
    articles = mark_duplicates(articles, known_hashes or {}, known_urls or ())
    to_tag = [a for a in articles if a.status == "ok" and a.duplicate_of is None]
    coder = coder_for(settings)
    out = Enriched(articles=articles, coder_version=coder.version)
    done = len(pages) - len(to_tag)
    progress("tag and code", done, len(pages))
    if to_tag:
        tagged = Analysis()
        for _, analysis in analyse_articles(
            to_tag, nlp or nlp_for(settings, coder), coder, batch_size=settings.nlp_batch_size,
            feed_countries=feed_iso3(countries or {}), processes=settings.nlp_processes,
        ):  # fmt: skip
            tagged.extend(analysis)
            done += 1
            progress("tag and code", done, len(pages))
        out.entities, out.places, out.events = tagged.entities, tagged.places, tagged.events
    stats.articles_tagged += len(to_tag)
    stats.entities += len(out.entities)
    stats.events += len(out.events)
    return out


def feed_iso3(countries: Mapping[str, str | None]) -> dict[str, str]:
    """Feed name -> ISO3 of the feed's country, as feeds.yaml gives it (ISO2 or ISO3)."""
    gazetteer = load_gazetteer()
    out = {}
    for feed, code in countries.items():
        iso3 = gazetteer.iso3(code)
        if iso3:
            out[feed] = iso3
    return out


def pages_from_rows(rows: Sequence[dict[str, Any]]) -> list[tuple[FeedEntry, Page]]:
    """Rebuild (entry, page) pairs from raw_pages rows, to enrich them without fetching."""
    out = []
    for r in rows:
        entry = FeedEntry(
            feed=r["feed"], url=r["url"], link=r["link"], title=r["entry_title"],
            summary=r["entry_summary"], published_at=r["entry_published_at"],
        )  # fmt: skip
        page = Page(
            url=r["link"], final_url=r["final_url"] or r["link"], status=r["status"],
            content_type=r["content_type"], body=bytes(r["body"]),
            fetched_at=r["fetched_at"], duration_ms=0,
        )  # fmt: skip
        out.append((entry, page))
    return out


def archive_path(settings: Settings, run_id: str, store: Store | None = None) -> Path:
    """<store>.pipeline/archive/YYYY/MM/DD/<run_id>.warc.gz (or under settings.archive_dir)."""
    root = (
        Path(settings.archive_dir)
        if settings.archive_dir
        else (store or open_store(settings)).archive_dir
    )
    return root / run_id[:4] / run_id[4:6] / run_id[6:8] / f"{run_id}.warc.gz"


def archive_responses(
    settings: Settings, run_id: str, ingested: Ingested, store: Store | None = None
) -> Path | None:
    """Write the run's successful responses to its WARC file (if archiving is on)."""
    if not settings.archive or not ingested.responses:
        return None
    path = archive_path(settings, run_id, store)
    write_archive(path, ingested.responses)
    return path


def import_archive(
    paths: Sequence[Path], settings: Settings, *, progress: Progress = _quiet
) -> dict[str, int]:
    """Rebuild raw pages from WARC files written by earlier runs, waiting for `enrich`.
    Pages already stored are replaced by the archived copy; nothing is fetched."""
    started = datetime.now(UTC)
    stats = RunStats()
    pages: list[tuple[FeedEntry, Page]] = []
    progress("read archive files", 0, len(paths))
    for done, path in enumerate(paths, 1):
        for kind, entry, page in read_archive(Path(path)):
            if kind == "article" and entry is not None:
                pages.append((entry, page))
        progress("read archive files", done, len(paths))
    run = run_row(new_run_id(started), started, stats, settings, "archive-import", None)
    batch = Batch(run=run)
    batch.raw_pages = [raw_page_row(run["run_id"], e, p, None) for e, p in pages]
    open_store(settings).load(batch)
    return {"pages": len(pages)}


def _status(stats: RunStats) -> str:
    failed_everything = stats.feeds_total > 0 and stats.feeds_failed == stats.feeds_total
    any_failure = stats.feeds_failed or stats.articles_failed or stats.articles_short
    return "failed" if failed_everything else ("partial" if any_failure else "ok")


def run_row(
    run_id: str, started: datetime, stats: RunStats, settings: Settings, trigger: str,
    coder_version: str | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "run_id": run_id,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "status": _status(stats),
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
        "coder_version": coder_version,
        "pipeline_version": __version__,
    }


def build_batch(
    run: dict[str, Any],
    ingested: Ingested | None,
    enriched: Enriched | None,
    *,
    pages: Sequence[tuple[FeedEntry, Page]] = (),
    enriched_at: datetime | None = None,
    done: Sequence[str] = (),
) -> Batch:
    """The rows of one pass. `pages`: the (entry, page) pairs that were enriched, whose
    feed entries give the articles' summaries."""
    run_id, started = run["run_id"], run["started_at"]
    batch = Batch(run=run)  # Store.spool records the store it belongs to
    if ingested is not None:
        batch.feeds = [feed_row(h, started) for h in ingested.health]
        batch.fetch_log = [fetch_log_row(run_id, r) for r in ingested.logs]
        batch.raw_pages = [raw_page_row(run_id, e, p, enriched_at) for e, p in ingested.pages]
    if enriched is not None:
        summaries = {e.url: e.summary for e, _ in pages}
        batch.articles = [article_row(run_id, a, summaries.get(a.url), enriched.coder_version)
                          for a in enriched.articles]  # fmt: skip
        batch.entities = [entity_row(e) for e in enriched.entities]
        batch.places = [place_row(p) for p in enriched.places]
        ids = event_ids(enriched.events)
        batch.events = [event_row(e, i) for e, i in zip(enriched.events, ids, strict=True)]
        # Every article of the batch has its entities, places and events replaced, also one
        # that is no longer usable or has become a duplicate: none keeps the rows of a body
        # it no longer has, or of an earlier coder.
        batch.tagged = [a.article_id for a in enriched.articles]
    batch.raw_done = [{"url": url, "enriched_at": enriched_at} for url in done]
    return batch


def enrich_to_batch(
    pages: Sequence[tuple[FeedEntry, Page]],
    settings: Settings,
    stats: RunStats,
    state: StoreState,
    *,
    started: datetime,
    trigger: str,
    feeds: Mapping[str, tuple[str | None, str | None]],
    ingested: Ingested | None = None,
    nlp: Any | None = None,
    progress: Progress = _quiet,
) -> Batch:
    """Extract, tag and code pages, and build the batch that loads them: the one path
    of a single pass (with `ingested`, whose feeds and raw pages it also carries), of the
    Airflow enrich task and of `newsevents enrich` (pages read back from raw_pages, marked
    enriched by the batch). `feeds`: name -> (language, country)."""
    enriched = enrich(
        pages, settings, stats, nlp=nlp, known_hashes=state.hashes, known_urls=state.urls,
        languages={f: lang for f, (lang, _) in feeds.items() if lang},
        countries={f: country for f, (_, country) in feeds.items() if country},
        progress=progress,
    )  # fmt: skip
    run = run_row(new_run_id(started), started, stats, settings, trigger, enriched.coder_version)
    done = [] if ingested is not None else [e.url for e, _ in pages]
    return build_batch(run, ingested, enriched, pages=pages, enriched_at=datetime.now(UTC),
                       done=done)  # fmt: skip


def _load(batch: Batch, store: Store, stats: RunStats) -> RunResult:
    status = batch.run["status"]
    spool = store.spool(batch)
    try:
        result = store.load_pending()
    except DatabaseLocked as exc:
        return RunResult(
            batch.run_id, status, stats, loaded=False, spool_path=str(spool),
            message=f"{exc} The batch is saved in {spool} and the next run loads it "
            "(or run `newsevents load-spool`).",
        )  # fmt: skip
    earlier = [r for r in result.loaded if r != batch.run_id]
    return RunResult(batch.run_id, status, stats, loaded=True, earlier_loaded=earlier)


def run_pass(
    feeds: Sequence[Feed],
    settings: Settings,
    *,
    nlp: Any | None = None,
    trigger: str = "cli",
    progress: Progress = _quiet,
) -> RunResult:
    """Ingest and enrich in one go, and load the result as one batch."""
    started = datetime.now(UTC)
    stats = RunStats()
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stats.seconds[stage] = round(now - clock, 3)
        clock = now

    store = open_store(settings)
    active = enabled_feeds(feeds)
    stats.feeds_total = len(active)
    state = store.state()  # a read-only snapshot: never waits for the write lock
    lap("prepare")
    ingested = ingest(active, settings, state.urls, stats, state.validators,
                      hosts_dir=store.hosts_dir, progress=progress)  # fmt: skip
    lap("fetch")
    batch = enrich_to_batch(
        ingested.pages, settings, stats, state, started=started, trigger=trigger,
        feeds={f.name: (f.language, f.country) for f in active}, ingested=ingested, nlp=nlp,
        progress=progress,
    )  # fmt: skip
    archive_responses(settings, batch.run_id, ingested, store)
    lap("enrich")
    result = _load(batch, store, stats)
    lap("load")
    return result


# --- the same stages, split for Airflow ---------------------------------------------------


def ingest_feeds_to_spool(
    feeds: Sequence[Feed], settings: Settings, *, trigger: str = "airflow"
) -> dict[str, Any]:
    """Ingest some feeds and leave the batch in the spool (no database write).

    Returns ids, counts and the spool path: small enough for XCom."""
    started = datetime.now(UTC)
    stats = RunStats()
    store = open_store(settings)
    active = enabled_feeds(feeds)
    stats.feeds_total = len(active)
    state = store.state(hashes=False)
    ingested = ingest(active, settings, state.urls, stats, state.validators,
                      hosts_dir=store.hosts_dir)  # fmt: skip
    run = run_row(new_run_id(started), started, stats, settings, trigger, None)
    archive_responses(settings, run["run_id"], ingested, store)
    spool = store.spool(build_batch(run, ingested, None))
    return {"run_id": run["run_id"], "spool": str(spool), "pages": len(ingested.pages),
            "failed": stats.articles_failed, "feeds_failed": stats.feeds_failed}  # fmt: skip


def enrich_waiting_to_spool(
    settings: Settings, *, nlp: Any | None = None, limit: int = 5000, trigger: str = "airflow",
    progress: Progress = _quiet,
) -> dict[str, Any]:  # fmt: skip
    """Extract, tag and code waiting raw pages, and leave the batch in the spool."""
    started = datetime.now(UTC)
    stats = RunStats()
    store = open_store(settings)
    state = store.state()
    pages = pages_from_rows(store.waiting_pages(limit))
    batch = enrich_to_batch(pages, settings, stats, state, started=started, trigger=trigger,
                            feeds=state.feeds, nlp=nlp, progress=progress)  # fmt: skip
    spool = store.spool(batch)
    return {"run_id": batch.run_id, "spool": str(spool), "pages": len(pages),
            "articles": len(batch.articles), "events": stats.events}  # fmt: skip


def load_spools(paths: Sequence[str], settings: Settings) -> dict[str, int]:
    """Load spooled batches, each in its own transaction, then any other batch waiting in
    the store's spool (one orphaned by a killed task, say). A batch already loaded is
    skipped, so a retried task loads nothing twice. `retries`: extra commit attempts that
    concurrent writers caused (DuckLake)."""
    store = open_store(settings)
    result = store.load_spools([Path(p) for p in paths])
    more = store.load_pending()
    result.loaded += more.loaded
    result.attempts.update(more.attempts)
    return {"loaded": len(result.loaded), "skipped": len(result.skipped),
            "retries": sum(a - 1 for a in result.attempts.values())}  # fmt: skip


def enrich_waiting(
    settings: Settings, *, batch: int = 500, trigger: str = "cli-enrich",
    nlp: Any | None = None, progress: Progress = _quiet,
) -> dict[str, int]:  # fmt: skip
    """Enrich every waiting raw page, `batch` pages to a transaction (`newsevents
    enrich`), with progress over all of them. Returns the pages enriched."""
    total = open_store(settings).waiting_count()
    done = 0
    while True:
        result = enrich_waiting_to_spool(settings, nlp=nlp, limit=batch, trigger=trigger,
                                         progress=_within(progress, done, total))  # fmt: skip
        load_spools([result["spool"]], settings)
        done += result["pages"]
        if result["pages"] < batch:
            return {"pages": done}


# --- coding stored pages again ---------------------------------------------------------------


@dataclass
class Reprocessed:
    """What `reprocess` did, summed over its batches (one run row each)."""

    coder_version: str
    pages: int = 0
    events: int = 0
    events_replaced: int = 0
    events_kept: int = 0
    replaced_versions: set[str] = field(default_factory=set)
    runs: list[str] = field(default_factory=list)
    earlier_loaded: list[str] = field(default_factory=list)


def _archived_pages(
    files: Sequence[Path], since: datetime | None, feed: str | None,
    wanted: Callable[[str], bool], progress: Progress,
) -> tuple[int, Iterator[tuple[FeedEntry, Page]]]:  # fmt: skip
    """The latest archived copy of every article page fetched since `since`, of `feed`,
    whose URL is `wanted`: how many, and the pages themselves in archive order. Two reads
    of the files, the first to find the latest copies, so that no body is held for long."""
    latest: dict[str, tuple[datetime, Path]] = {}
    progress("read archive files", 0, len(files))
    for done, path in enumerate(files, 1):
        for kind, entry, page in read_archive(path):
            if kind != "article" or entry is None or (feed is not None and entry.feed != feed):
                continue
            newer = entry.url not in latest or page.fetched_at >= latest[entry.url][0]
            if newer and (since is None or page.fetched_at >= since) and wanted(entry.url):
                latest[entry.url] = (page.fetched_at, path)
        progress("read archive files", done, len(files))

    def pages() -> Iterator[tuple[FeedEntry, Page]]:
        for path in dict.fromkeys(p for _, p in latest.values()):
            for kind, entry, page in read_archive(path):
                if (
                    kind == "article"
                    and entry is not None
                    and latest.get(entry.url) == (page.fetched_at, path)
                ):
                    del latest[entry.url]  # a copy repeated within one file: the first
                    yield entry, page

    return len(latest), pages()


def _batches(pages: Iterable[tuple[FeedEntry, Page]], size: int
             ) -> Iterator[list[tuple[FeedEntry, Page]]]:  # fmt: skip
    chunk: list[tuple[FeedEntry, Page]] = []
    for pair in pages:
        chunk.append(pair)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _unchanged(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """An event row that came out as it was stored, its coder version aside."""
    return all(old.get(k) == v for k, v in new.items() if k != "coder_version")


def reprocess(
    settings: Settings,
    *,
    since: datetime | None = None,
    feed: str | None = None,
    source: str = "raw",
    redo_all: bool = False,
    batch: int = 500,
    nlp: Any | None = None,
    progress: Progress = _quiet,
) -> Reprocessed:
    """Extract, tag and code stored pages again with the current extractor and coder, and
    load them as any batch loads, through the spool (so whatever a load derives is derived
    from them too). Nothing is fetched. `source`: the pages in raw_pages, or the latest
    copy of each in the store's WARC archive (which also becomes its raw page). Only pages
    whose article another coder version produced, unless `redo_all`: a run cut short
    leaves what it loaded, and the next one does the rest; a run after a finished one has
    nothing to do. A batch left in the spool by a run cut short is loaded first.

    Each batch is one run (trigger 'reprocess') that records what it replaced: the coder
    versions and the number of the events its articles had, and how many of its events
    came out the same."""
    store = open_store(settings)
    earlier = store.load_pending().loaded  # what a run cut short left in the spool
    current = coder_for(settings).version
    stale_for = None if redo_all else current
    if source == "raw":
        urls = store.reprocess_urls(since=since, feed=feed, stale_for=stale_for)
        total = len(urls)
        pages: Iterable[tuple[FeedEntry, Page]] = (
            pair
            for start in range(0, len(urls), batch)
            for pair in pages_from_rows(store.raw_pages_of(urls[start : start + batch]))
        )
    elif source == "archive":
        root = Path(settings.archive_dir) if settings.archive_dir else store.archive_dir
        versions = store.article_coder_versions()

        def wanted(url: str) -> bool:
            return redo_all or versions.get(article_id(url)) != current

        total, pages = _archived_pages(sorted(root.rglob("*.warc.gz")), since, feed, wanted,
                                       progress)  # fmt: skip
    else:
        raise ValueError(f"source must be raw or archive, not {source!r}")
    out = Reprocessed(coder_version=current, earlier_loaded=list(earlier))
    for chunk in _batches(pages, batch):
        state = store.state()
        before = {r["event_id"]: r for r in store.events_of([article_id(e.url) for e, _ in chunk])}
        stats = RunStats()
        result = enrich_to_batch(
            chunk, settings, stats, state, started=datetime.now(UTC), trigger="reprocess",
            feeds=state.feeds, nlp=nlp,
            ingested=Ingested(pages=list(chunk)) if source == "archive" else None,
            progress=_within(progress, out.pages, total),
        )  # fmt: skip
        kept = sum(e["event_id"] in before and _unchanged(before[e["event_id"]], e)
                   for e in result.events)  # fmt: skip
        replaced = {r["coder_version"] for r in before.values() if r["coder_version"]}
        result.run.update(replaced_coder_versions=sorted(replaced),
                          events_replaced=len(before), events_kept=kept)  # fmt: skip
        store.load(result)
        out.pages += len(chunk)
        out.events += stats.events
        out.events_replaced += len(before)
        out.events_kept += kept
        out.replaced_versions |= replaced
        out.runs.append(result.run_id)
    return out


def store_name(settings: Settings) -> str:
    """The store as logs may show it (a Postgres conninfo without its password)."""
    return open_store(settings).describe()
