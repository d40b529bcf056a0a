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
from contextlib import AsyncExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

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
from pipeline.store.spool import SpoolWriter
from pipeline.store.sql import INCOMPLETE
from pipeline.tag import Analysis, analyse_articles, nlp_for

log = logging.getLogger(__name__)
T = TypeVar("T")

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

    def extend(self, more: Ingested) -> None:
        self.health += more.health
        self.logs += more.logs
        self.pages += more.pages
        self.responses += more.responses


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
    politeness across processes (the mapped tasks of one DAG run). Holds every page: the
    passes fetch a chunk at a time instead (`http_session`)."""
    with http_session(settings, hosts_dir) as http:
        out, entries = http.read_feeds(feeds, known, stats, validators, progress)
        out.extend(http.fetch_pages(entries, stats, progress))
    return out


class HttpSession:
    """One run's HTTP: one client and one polite fetcher (robots.txt read once per site,
    per-host limits, hosts skipped for the run) for the feeds and then for each chunk of
    pages. Its event loop lives between the calls, and the client's connections with it."""

    def __init__(self, settings: Settings, hosts_dir: Path | None) -> None:
        self.settings = settings
        self._runner = asyncio.Runner()
        self._stack = AsyncExitStack()
        # Per-host limits shared with every other ingest of the store (Airflow's mapped
        # tasks are separate processes) through files in the store's hosts/ folder.
        gate = HostGate(hosts_dir) if hosts_dir is not None else None

        async def start() -> Fetcher:
            client = await self._stack.enter_async_context(make_client(settings))
            return Fetcher(settings, client, gate=gate)

        self.fetcher = self._runner.run(start())
        self._robots_seen = 0

    def close(self) -> None:
        try:
            self._runner.run(self._stack.aclose())
        finally:
            self._runner.close()
        for unused in self.fetcher.allow.unused():
            log.warning(
                "allow_private_hosts entry %r matched no request in this run: check the "
                "host and port (HOST alone allows every port; localhost:PORT allows "
                "127.0.0.1 and ::1 on that port)", unused,
            )  # fmt: skip

    def read_feeds(
        self,
        feeds: Sequence[Feed],
        known: Mapping[str, datetime],
        stats: RunStats,
        validators: Mapping[str, tuple[str | None, str | None]] | None,
        progress: Progress = _quiet,
    ) -> tuple[Ingested, list[FeedEntry]]:
        """Fetch and parse the feeds (conditionally). Returns their health, log rows and
        responses, and the entries to fetch: those not fetched before (or updated since)."""
        settings = self.settings
        # A refetch asks for everything again, so feeds are not fetched conditionally either.
        validators = {} if settings.refetch else (validators or {})
        feed_pages = self._runner.run(_gather_counted(
            "fetch feeds",
            [self.fetcher.get(f.url, "feed", conditional_headers(validators, f)) for f in feeds],
            progress,
        ))  # fmt: skip
        entries, health, logs = parse_feed_pages(feeds, feed_pages, stats)
        entries, _repeats = unique_entries(entries)
        stats.entries_seen += len(entries)
        if not settings.refetch:
            new = [e for e in entries if e.url not in known or _updated_since(e, known, settings)]
            stats.articles_skipped += len(entries) - len(new)
            entries = new
        out = Ingested(health=health, logs=logs)
        self._take_robots(out)
        out.responses.extend(("feed", None, p) for p in feed_pages)
        return out, entries

    def _take_robots(self, out: Ingested) -> None:
        """The robots.txt files read since the last call, into `out`."""
        robots = self.fetcher.robots_pages[self._robots_seen :]
        self._robots_seen = len(self.fetcher.robots_pages)
        out.logs.extend(_log_row(p, "", "robots") for p in robots)
        out.responses.extend(("robots", None, p) for p in robots)

    def fetch_pages(
        self, entries: Sequence[FeedEntry], stats: RunStats, progress: Progress = _quiet
    ) -> Ingested:
        """Fetch the pages of some entries: their log rows, responses and the pages that
        came back (and the robots.txt files read meanwhile)."""
        pages = self._runner.run(_gather_counted(
            "fetch articles", [self.fetcher.get(e.link, "article") for e in entries], progress
        ))  # fmt: skip
        out = Ingested()
        self._take_robots(out)
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


@contextmanager
def http_session(settings: Settings, hosts_dir: Path | None) -> Iterator[HttpSession]:
    session = HttpSession(settings, hosts_dir)
    try:
        yield session
    finally:
        session.close()


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
        analysed = analyse_articles(
            to_tag, nlp or nlp_for(settings, coder), coder, batch_size=settings.nlp_batch_size,
            feed_countries=feed_iso3(countries or {}), processes=settings.nlp_processes,
        )  # fmt: skip
        with closing(analysed):  # a failure here stops spaCy's children at once
            for _, analysis in analysed:
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


def archive_path(
    settings: Settings, run_id: str, store: Store | None = None, part: int = 0
) -> Path:
    """<store>.pipeline/archive/YYYY/MM/DD/<run_id>.warc.gz (or under settings.archive_dir);
    a pass fetching in chunks writes its later chunks beside it, <run_id>.NNNN.warc.gz."""
    root = (
        Path(settings.archive_dir)
        if settings.archive_dir
        else (store or open_store(settings)).archive_dir
    )
    name = f"{run_id}.warc.gz" if part == 0 else f"{run_id}.{part:04d}.warc.gz"
    return root / run_id[:4] / run_id[4:6] / run_id[6:8] / name


def archive_responses(
    settings: Settings, run_id: str, ingested: Ingested, store: Store | None = None,
    part: int = 0,
) -> Path | None:  # fmt: skip
    """Write successful responses to the run's WARC file (if archiving is on): each chunk
    of a pass to a file of its own (`part`), written whole, so a kill leaves whole files."""
    if not settings.archive or not ingested.responses:
        return None
    path = archive_path(settings, run_id, store, part)
    write_archive(path, ingested.responses)
    return path


def import_archive(
    paths: Sequence[Path], settings: Settings, *, progress: Progress = _quiet
) -> dict[str, int]:
    """Rebuild raw pages from WARC files written by earlier runs, waiting for `enrich`.
    Pages already stored are replaced by the archived copy; nothing is fetched. The pages
    go to the spool as they are read, so one page at a time is held, and load every
    `pass_load_pages` (one run, one `runs` row, in batches run_id.0001, ...)."""
    started = datetime.now(UTC)
    stats = RunStats()
    store = open_store(settings)
    run_id = new_run_id(started)
    run: dict[str, Any] = {"run_id": run_id, "started_at": started}
    loads = RunLoads(store, run_id, settings.pass_load_pages)
    pages = 0
    progress("read archive files", 0, len(paths))
    for done, path in enumerate(paths, 1):
        for kind, entry, page in read_archive(Path(path)):
            if kind == "article" and entry is not None:
                loads.add(Batch(run=run, raw_pages=[raw_page_row(run_id, entry, page,
                                                                 None)]))  # fmt: skip
                pages += 1
                if loads.due():
                    loads.load(_interim(run_row(run_id, started, stats, settings,
                                                "archive-import", None)))  # fmt: skip
        progress("read archive files", done, len(paths))
    loads.load(run_row(run_id, started, stats, settings, "archive-import", None))
    if loads.locked is not None:
        raise loads.locked
    return {"pages": pages}


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


def _interim(run: dict[str, Any]) -> dict[str, Any]:
    """The run row a batch carries that is not the run's last: the stats so far, status
    incomplete and no finish time (its last batch writes the whole run's)."""
    return {**run, "status": INCOMPLETE, "finished_at": None}


class RunLoads:
    """The batches one run loads. Rows are appended to an open spool batch as they are
    made (`add`); `load` finishes it, named run_id.NNNN, and loads it with every batch
    waiting before it. Once a load finds the store locked, later ones (but the last) only
    spool, so a run waits for the lock at most twice."""

    def __init__(self, store: Store, run_id: str, every: int) -> None:
        self.store, self.run_id, self.every = store, run_id, every
        self.parts = 0
        self.writer: SpoolWriter | None = None
        self.locked: DatabaseLocked | None = None
        self.waiting: list[Path] = []  # this run's batches spooled but not loaded
        self.earlier: list[str] = []  # batches of other runs loaded on the way

    def add(self, batch: Batch) -> None:
        if self.writer is None:
            self.parts += 1
            self.writer = self.store.start_spool(f"{self.run_id}.{self.parts:04d}")
        self.writer.add(batch)

    def due(self) -> bool:
        """The open batch holds `every` pages: time to load it."""
        return self.writer is not None and self.writer.rows["raw_pages"] >= self.every

    def load(self, run: dict[str, Any]) -> None:
        final = run["status"] != INCOMPLETE
        if self.writer is None:
            if not final:
                return
            self.add(Batch(run=run))  # the last batch carries the run's row, if nothing else
        assert self.writer is not None
        path = self.store.finish_spool(self.writer, run)
        self.writer = None
        self.waiting.append(path)
        if self.locked is not None and not final:
            return
        try:
            result = self.store.load_pending()
        except DatabaseLocked as exc:
            self.locked = exc
            return
        self.locked = None
        self.waiting = [p for p in self.waiting if p.exists()]
        mine = f"{self.run_id}."
        self.earlier += [b for b in result.loaded if not b.startswith(mine)]


class RunEnricher:
    """Enrich for the chunks of one run: what they share is the bodies and URLs seen,
    the store's and the earlier chunks', so a duplicate across chunks is caught as in
    one batch. Feed the chunks in article-id order (mark_duplicates makes the lowest id
    of identical bodies the original), and they choose the originals one batch would.
    `urls`: every URL of the run, so that a page naming another page of the run as its
    canonical link is a duplicate whichever chunk that page is in."""

    def __init__(
        self, settings: Settings, stats: RunStats, state: StoreState,
        feeds: Mapping[str, tuple[str | None, str | None]], *, urls: Iterable[str] = (),
        nlp: Any | None = None,
    ) -> None:  # fmt: skip
        self.settings, self.stats, self.nlp = settings, stats, nlp
        self.hashes = dict(state.hashes)
        self.urls = set(state.urls) | set(urls)
        self.languages = {f: lang for f, (lang, _) in feeds.items() if lang}
        self.countries = {f: country for f, (_, country) in feeds.items() if country}

    def enrich(self, pages: Sequence[tuple[FeedEntry, Page]], progress: Progress) -> Enriched:
        out = enrich(
            pages, self.settings, self.stats, nlp=self.nlp, known_hashes=self.hashes,
            known_urls=self.urls, languages=self.languages, countries=self.countries,
            progress=progress,
        )  # fmt: skip
        for article in out.articles:
            if article.status == "ok" and article.duplicate_of is None:
                self.hashes.setdefault(article.content_hash, article.article_id)
        return out


class _Laps:
    """Seconds per stage (stats.seconds), summed over the chunks of a pass."""

    def __init__(self, stats: RunStats) -> None:
        self.stats, self.clock = stats, time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.stats.seconds[stage] = round(self.stats.seconds.get(stage, 0) + now - self.clock, 3)
        self.clock = now


def run_pass(
    feeds: Sequence[Feed],
    settings: Settings,
    *,
    nlp: Any | None = None,
    trigger: str = "cli",
    progress: Progress = _quiet,
) -> RunResult:
    """Ingest and enrich, a chunk of `pass_batch_pages` pages at a time (fetch, archive,
    extract, deduplicate, tag and code, spool), loading every `pass_load_pages` pages and
    at the end: one run, one `runs` row, in batches run_id.0001, .0002, ... No more than
    one chunk's pages, bodies and docs are held at once. The feeds' rows (and so their
    validators) are in the last batch: a run cut short leaves what it loaded, and the next
    run reads the whole feeds again and fetches only what is missing."""
    started = datetime.now(UTC)
    stats = RunStats()
    lap = _Laps(stats)
    store = open_store(settings)
    active = enabled_feeds(feeds)
    stats.feeds_total = len(active)
    state = store.state()  # a read-only snapshot: never waits for the write lock
    run_id = new_run_id(started)
    run = {"run_id": run_id, "started_at": started}
    coder_version = coder_for(settings).version
    loads = RunLoads(store, run_id, settings.pass_load_pages)
    lap("prepare")
    with http_session(settings, store.hosts_dir) as http:
        head, entries = http.read_feeds(active, state.urls, stats, state.validators, progress)
        entries.sort(key=lambda e: article_id(e.url))  # the order of RunEnricher
        languages = {f.name: (f.language, f.country) for f in active}
        enricher = RunEnricher(settings, stats, state, languages,
                               urls=[e.url for e in entries], nlp=nlp)  # fmt: skip
        # The feeds' log rows go with the first batch, their responses to the first WARC.
        loads.add(build_batch(run, Ingested(logs=head.logs), None))
        carried, head.responses = head.responses, []
        fetched, enriched_pages, total = 0, 0, len(entries)
        lap("fetch")
        for part, chunk in enumerate(_batches(entries, settings.pass_batch_pages)):
            got = http.fetch_pages(chunk, stats, _within(progress, fetched, total))
            fetched += len(chunk)
            got.responses[:0], carried = carried, []
            archive_responses(settings, run_id, got, store, part)
            got.responses = []
            lap("fetch")
            enriched = enricher.enrich(got.pages, _within(progress, enriched_pages, total))
            enriched_pages += len(got.pages)
            loads.add(build_batch(run, got, enriched, pages=got.pages,
                                  enriched_at=datetime.now(UTC)))  # fmt: skip
            del got, enriched  # the chunk's pages, bodies and tags are on disk now
            lap("enrich")
            if loads.due():
                loads.load(_interim(run_row(run_id, started, stats, settings, trigger,
                                            coder_version)))  # fmt: skip
                lap("load")
        if carried:  # no page to fetch: the feeds' responses alone
            archive_responses(settings, run_id, Ingested(responses=carried), store)
    for task in ("extract", "tag and code"):  # pages that failed to fetch are not enriched
        progress(task, enriched_pages, enriched_pages)
    loads.add(Batch(run=run, feeds=[feed_row(h, started) for h in head.health]))
    final = run_row(run_id, started, stats, settings, trigger, coder_version)
    loads.load(final)
    lap("load")
    status = final["status"]
    if loads.locked is not None:
        where = loads.waiting[-1] if len(loads.waiting) == 1 else store.spool_dir
        return RunResult(
            run_id, status, stats, loaded=False, spool_path=str(loads.waiting[-1]),
            message=f"{loads.locked} The run's {len(loads.waiting)} batch(es) wait in "
            f"{where} and the next run loads them (or run `newsevents load-spool`).",
            earlier_loaded=loads.earlier,
        )  # fmt: skip
    return RunResult(run_id, status, stats, loaded=True, earlier_loaded=loads.earlier)


# --- the same stages, split for Airflow ---------------------------------------------------


def ingest_feeds_to_spool(
    feeds: Sequence[Feed], settings: Settings, *, trigger: str = "airflow"
) -> dict[str, Any]:
    """Ingest some feeds and leave the batch in the spool (no database write). The pages
    are fetched, archived and spooled a chunk (`pass_batch_pages`) at a time, so no more
    than a chunk's bodies are held.

    Returns ids, counts and the spool path: small enough for XCom."""
    started = datetime.now(UTC)
    stats = RunStats()
    store = open_store(settings)
    active = enabled_feeds(feeds)
    stats.feeds_total = len(active)
    state = store.state(hashes=False)
    run_id = new_run_id(started)
    run = {"run_id": run_id, "started_at": started}
    writer = store.start_spool(run_id)
    with http_session(settings, store.hosts_dir) as http:
        head, entries = http.read_feeds(active, state.urls, stats, state.validators)
        writer.add(build_batch(run, head, None))
        carried, head.responses = head.responses, []
        for part, chunk in enumerate(_batches(entries, settings.pass_batch_pages)):
            got = http.fetch_pages(chunk, stats)
            got.responses[:0], carried = carried, []
            archive_responses(settings, run_id, got, store, part)
            writer.add(build_batch(run, Ingested(logs=got.logs, pages=got.pages), None))
            del got
        if carried:
            archive_responses(settings, run_id, Ingested(responses=carried), store)
    run = run_row(run_id, started, stats, settings, trigger, None)
    spool = store.finish_spool(writer, run)
    return {"run_id": run_id, "spool": str(spool), "pages": writer.rows["raw_pages"],
            "failed": stats.articles_failed, "feeds_failed": stats.feeds_failed}  # fmt: skip


def enrich_waiting_to_spool(
    settings: Settings, *, nlp: Any | None = None, limit: int = 5000, trigger: str = "airflow",
    progress: Progress = _quiet,
) -> dict[str, Any]:  # fmt: skip
    """Extract, tag and code waiting raw pages (the oldest `limit`), and leave the batch in
    the spool: one run, read and enriched `pass_batch_pages` pages at a time and written to
    the spool as it goes, so no more than a chunk's pages are held."""
    started = datetime.now(UTC)
    stats = RunStats()
    store = open_store(settings)
    state = store.state()
    urls = sorted(store.waiting_urls(limit), key=article_id)  # the order of RunEnricher
    run_id = new_run_id(started)
    run = {"run_id": run_id, "started_at": started}
    enricher = RunEnricher(settings, stats, state, state.feeds, nlp=nlp)
    writer = store.start_spool(run_id)
    done = 0
    for start in range(0, len(urls), settings.pass_batch_pages):
        pages = pages_from_rows(store.raw_pages_of(urls[start : start + settings.pass_batch_pages]))
        enriched = enricher.enrich(pages, _within(progress, done, len(urls)))
        writer.add(build_batch(run, None, enriched, pages=pages, enriched_at=datetime.now(UTC),
                               done=[e.url for e, _ in pages]))  # fmt: skip
        done += len(pages)
        del pages, enriched
    run = run_row(run_id, started, stats, settings, trigger, coder_for(settings).version)
    spool = store.finish_spool(writer, run)
    return {"run_id": run_id, "spool": str(spool), "pages": done,
            "articles": writer.rows["articles"], "events": stats.events}  # fmt: skip


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


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """The items in lists of `size` (the last one shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
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
