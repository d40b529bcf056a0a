"""The store interface: what the pipeline asks of a database, whatever the backend.

A backend gives two kinds of connection, each with the store as its default catalog:

* `reader()`: a read-only snapshot. It never takes the write lock, never waits for a
  writer, and never makes one wait: the pipeline reads its state (stored URLs, feed
  validators, waiting pages) and `newsevents query` runs through it;
* `writer()`: a migrated read-write connection, for the short load of a batch.

Everything else, loading batches with bounded retries, checks, queries, the daily
rebuild, is written once here over those two, in the SQL of `pipeline.store.sql`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.store import derived, export, search, sql
from pipeline.store.export import ExportResult
from pipeline.store.search import SearchResult
from pipeline.store.spool import (
    Batch,
    SpoolWriter,
    check_owner,
    pending_spools,
    pending_urls,
    read_spool,
    remove_spool,
    write_spool,
)  # fmt: skip
from pipeline.store.sql import Connection

log = logging.getLogger(__name__)


class DatabaseLocked(RuntimeError):
    """The store could not be written within the lock timeout. The message says why."""


@dataclass
class StoreState:
    """What the store knows before a pass, read from a snapshot (no write lock)."""

    store_id: str | None = None
    urls: dict[str, datetime] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    feeds: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass
class LoadResult:
    # batch ids (the spool folders' names: a run's id, or run_id.NNNN for a part of one)
    loaded: list[str] = field(default_factory=list)  # batches loaded
    skipped: list[str] = field(default_factory=list)  # already loaded earlier
    attempts: dict[str, int] = field(default_factory=dict)  # batch id -> load attempts


@contextmanager
def _claim(spool: Path) -> Iterator[bool]:
    """Whether this process may load a spooled batch: an exclusive lock on a file beside
    it, so that two processes loading the same spool folder never load one batch at once
    (the runs table and the write fence would also stop the second; this spares it)."""
    lock = spool.parent / f".{spool.name}.lock"
    try:
        handle = lock.open("a")
    except FileNotFoundError:  # the spool folder itself is gone
        yield False
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
        lock.unlink(missing_ok=True)  # whoever opened it meanwhile finds the spool gone
    finally:
        handle.close()


def _carries_articles(spool: Path) -> bool:
    """The spooled batch writes articles (an ingest's batch of raw pages does not)."""
    file = read_spool(spool).table_file("articles")
    return file.exists() and file.stat().st_size > 0


class Store(ABC):
    """One store: a database plus its own folders (spool, archive, host gate)."""

    kind: str = ""
    #: Errors of a commit that a fresh attempt can get past (a concurrent writer).
    retry_attempts = 8

    def __init__(self, target: str, work_dir: Path, *, lock_timeout_s: float) -> None:
        self.target = target
        self.work_dir = work_dir
        self.lock_timeout_s = lock_timeout_s
        self._id: str | None = None
        self.last_applied: list[str] = []  # migrations applied by the last writer()

    # -- the backend's part ------------------------------------------------------------------

    @abstractmethod
    def reader(self) -> Any:
        """Context manager: a read-only connection on the latest published snapshot."""

    @abstractmethod
    def _open_writer(self) -> Connection:
        """A read-write connection (not yet migrated); raises DatabaseLocked on timeout."""

    def _after_write(self, con: Connection) -> None:  # noqa: B027 (a hook, empty by default)
        """Called with the writer still open after a session that changed the store."""

    def is_conflict(self, exc: BaseException) -> bool:
        """A commit failure that another attempt can get past."""
        return False

    @contextmanager
    def many_writes(self) -> Iterator[None]:
        """Several write sessions in a row (the batches of one load): the backend may
        publish once at the end instead of after each."""
        yield

    @abstractmethod
    def exists(self) -> bool:
        """The store has been created (a reader can open it)."""

    @abstractmethod
    def _search_reader(self) -> Any:
        """Context manager: a read-only connection whose default catalog holds the search
        index (pipeline.store.search); raises SearchIndexMissing if there is none yet."""

    @abstractmethod
    def refresh_search_index(self, *, force: bool = False) -> dict[str, Any] | None:
        """Bring the search index up to date with the latest snapshot if the usable
        articles changed since (in place: only what changed is indexed); with force, or
        without an index yet, build it whole. Returns what it recorded (fingerprint,
        articles, time), or None when it was current."""

    def describe(self) -> str:
        return self.target

    def maintain(self) -> dict[str, Any]:
        """Keep the store's files healthy (compaction, expiry). Returns what it did."""
        return {}

    # -- folders ------------------------------------------------------------------------------

    @property
    def spool_dir(self) -> Path:
        return self.work_dir / "spool"

    @property
    def archive_dir(self) -> Path:
        return self.work_dir / "archive"

    @property
    def hosts_dir(self) -> Path:
        return self.work_dir / "hosts"

    # -- sessions -----------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A migrated read-write connection. After the block, the backend publishes what
        changed (the file backend's analyst copy), then the connection is closed."""
        con = self._open_writer()
        try:
            self.last_applied = sql.migrate(con, lake=self.kind == "ducklake")
            self._id = sql.store_id(con)
            yield con
            self._after_write(con)
        finally:
            con.close()

    def _with_retries(self, what: str, work: Any) -> tuple[Any, int]:
        """Run work(con) in a writer session, again (bounded, with jittered backoff) when a
        concurrent writer made the commit fail. Returns its result and the attempts."""
        delay = 0.1
        for attempt in range(1, self.retry_attempts + 1):
            try:
                with self.writer() as con:
                    return work(con, attempt), attempt
            except Exception as exc:
                if not self.is_conflict(exc) or attempt == self.retry_attempts:
                    raise
                pause = delay * (1 + random.random())
                log.warning(
                    "%s: commit conflict with another writer on %s (attempt %d of %d), "
                    "retrying in %.2f s: %s", what, self.describe(), attempt,
                    self.retry_attempts, pause, str(exc).splitlines()[-1],
                )  # fmt: skip
                time.sleep(pause)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    # -- operations ----------------------------------------------------------------------------

    def prepare(self) -> list[str]:
        """Create or migrate the store (retried on a conflict with a concurrent writer).
        Returns the migrations applied."""
        applied, _ = self._with_retries("migrate", lambda _con, _attempt: self.last_applied)
        return list(applied)

    migrate = prepare

    def store_id(self) -> str:
        if self._id is None and not self.exists():
            self.prepare()  # its writer session reads the new store's id
        if self._id is None:
            with self.reader() as con:
                self._id = sql.store_id(con)
        return self._id

    def state(self, *, urls: bool = True, hashes: bool = True) -> StoreState:
        """What the store knows, from a snapshot: no write lock, no wait for a writer.
        URLs of batches still waiting in the spool count as known, so a pass never
        fetches them again because their load has not happened yet."""
        if not self.exists():
            try:
                self.prepare()
            except DatabaseLocked as exc:  # a new store that another process is creating
                log.warning("%s: reading nothing stored yet", exc)
                return StoreState(urls=self._spooled_urls() if urls else {})
        with self.reader() as con:
            state = StoreState(
                store_id=sql.store_id(con),
                urls=sql.known_articles(con) if urls else {},
                hashes=sql.known_hashes(con) if hashes else {},
                validators=sql.feed_validators(con),
                feeds=sql.feed_settings(con),
            )
        self._id = state.store_id
        if urls:
            for url, when in self._spooled_urls().items():
                state.urls.setdefault(url, when)
        return state

    def _spooled_urls(self) -> dict[str, datetime]:
        # fetched, but not loaded yet: "fetched" at the end of time, so never refetched
        return dict.fromkeys(pending_urls(self.spool_dir), datetime.max.replace(tzinfo=UTC))

    def waiting_pages(self, limit: int) -> list[dict[str, Any]]:
        if not self.exists():
            return []
        with self.reader() as con:
            return sql.waiting_pages(con, limit)

    def waiting_urls(self, limit: int) -> list[str]:
        """The URLs of raw pages not yet enriched, oldest first (at most `limit`)."""
        if not self.exists():
            return []
        with self.reader() as con:
            return sql.waiting_urls(con, limit)

    def waiting_count(self) -> int:
        if not self.exists():
            return 0
        with self.reader() as con:
            return sql.waiting_count(con)

    def reprocess_urls(
        self, *, since: datetime | None = None, feed: str | None = None,
        stale_for: str | None = None,
    ) -> list[str]:  # fmt: skip
        """URLs of stored pages to code again (see sql.reprocess_urls), oldest first."""
        if not self.exists():
            return []
        with self.reader() as con:
            return sql.reprocess_urls(con, since=since, feed=feed, stale_for=stale_for)

    def raw_pages_of(self, urls: Sequence[str]) -> list[dict[str, Any]]:
        with self.reader() as con:
            return sql.raw_pages_of(con, urls)

    def article_coder_versions(self) -> dict[str, str | None]:
        if not self.exists():
            return {}
        with self.reader() as con:
            return sql.article_coder_versions(con)

    def events_of(self, article_ids: Sequence[str]) -> list[dict[str, Any]]:
        with self.reader() as con:
            return sql.events_of(con, article_ids)

    def spool(self, batch: Batch) -> Path:
        if batch.store_id is None:
            batch.store_id = self._spool_owner()
        return write_spool(batch, self.spool_dir)

    def _spool_owner(self) -> str | None:
        # a store not created yet (its creator holds the lock): any store takes the batch
        with contextlib.suppress(DatabaseLocked):
            return self.store_id()
        return None

    def start_spool(self, batch_id: str) -> SpoolWriter:
        """A batch to write to the spool a part at a time (see `finish_spool`)."""
        return SpoolWriter(self.spool_dir, batch_id)

    def finish_spool(self, writer: SpoolWriter, run: dict[str, Any]) -> Path:
        """Make a batch written part by part a waiting batch, under this run row."""
        return writer.finish(run, self._spool_owner())

    def load_spools(self, paths: Sequence[Path]) -> LoadResult:
        """Load spooled batches, oldest first, each in its own transaction (retried on a
        commit conflict), deleting each spool once loaded. A batch loaded before is
        skipped, so a retried task loads nothing twice."""
        result = LoadResult()
        articles_loaded = False  # then the search index may need an update
        with self.many_writes():
            try:
                for path in map(Path, paths):
                    with _claim(path) as mine:
                        if not mine or not path.exists():
                            # loaded by an earlier try, or being loaded by another process
                            result.skipped.append(path.name)
                            continue
                        carries = _carries_articles(path)
                        before = len(result.loaded)
                        self._load_one(path, result)
                        articles_loaded |= carries and len(result.loaded) > before
            finally:
                if articles_loaded:  # once per load, even if a later batch failed
                    self._refresh_search_after_load()
        return result

    def _refresh_search_after_load(self) -> None:
        """The search index, brought up to date after the batches of a load (only if they
        changed a usable article). A writer busy elsewhere only delays it: the next load
        updates it, and a search meanwhile says its index is stale."""
        try:
            built = self.refresh_search_index()
        except DatabaseLocked as exc:
            log.warning("search index not updated yet (the next load updates it): %s", exc)
            return
        if built:
            log.info("search index up to date: %d usable articles", built["articles"])

    def _load_one(self, path: Path, result: LoadResult) -> None:
        batch = read_spool(path)
        check_owner(batch, self.store_id(), self.describe())
        loaded, attempts = self._with_retries(
            f"load {batch.batch_id}",
            lambda con, attempt: sql.load_batch(
                con, batch, attempts=attempt, lake=self.kind == "ducklake"
            ),
        )
        (result.loaded if loaded else result.skipped).append(batch.batch_id)
        result.attempts[batch.batch_id] = attempts
        remove_spool(path)

    def load_pending(self) -> LoadResult:
        return self.load_spools(pending_spools(self.spool_dir))

    def load(self, batch: Batch) -> LoadResult:
        """Spool a batch and load it, after any batch waiting before it."""
        self.spool(batch)
        return self.load_pending()

    def query(
        self, text: str, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.reader() as con:
            if "match_bm25" in text:  # an analyst's own full-text query needs fts (stem)
                search.load_fts(con)
            return sql.run_query(con, text, params)

    def search(
        self, query: str, *, since: Any = None, feed: str | None = None, limit: int = 10,
        events_per_hit: int = 3, every: bool = False,
    ) -> SearchResult:  # fmt: skip
        """Full-text search over usable articles (BM25 over title and body), best first,
        one hit a story unless `every`, each hit with its top factual events. The same
        statements on every backend: the hits from the index, the events from the store."""
        with self._search_reader() as con:
            terms, hits, info = search.find_hits(con, query, since=since, feed=feed,
                                                 limit=limit, every=every)  # fmt: skip
        with self.reader() as con:
            search.add_events(con, hits, terms, events_per_hit)
            stale = search.fingerprint(con)[0] != info["fingerprint"]
        return SearchResult(query=query, terms=terms, hits=hits, indexed=info["articles"],
                            built_at=info["built_at"], stale=stale)  # fmt: skip

    def export(
        self, kind: str, out_dir: Path, *, fmt: str = "parquet", since: Any = None
    ) -> ExportResult:
        """Write a table (events, articles, rollup) as files partitioned by day under
        out_dir, from a reader snapshot (pipeline.store.export has the semantics)."""
        with self.reader() as con:
            return export.export_table(con, kind, out_dir, fmt=fmt, since=since)

    def reports(
        self, names: Sequence[str], params: dict[str, Any] | None = None
    ) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """The reports in sql/reports/ (the CLI's own output), from one snapshot. Each
        report is given those of `params` that it names ($name)."""
        with self.reader() as con:
            out = {n: sql.run_report(con, n, params) for n in names}
            out["counts"] = (list(sql.COUNTED), [tuple(sql.table_counts(con).values())])
        return out

    def counts(self) -> dict[str, int]:
        with self.reader() as con:
            return sql.table_counts(con)

    def run_checks(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.reader() as con:
            return sql.run_checks(con)

    def refresh_daily(self) -> dict[str, int]:
        """Rebuild daily_summary, and recompute stories and event_rollup whole (loads keep
        them current; this is the repair that proves it), in one transaction. Returns the
        summary's day and event counts."""

        def work(con: Connection, _attempt: int) -> dict[str, int]:
            with sql.transaction(con):
                derived.rebuild(con)
                sql.rebuild_daily_summary(con)
                days, events = sql.daily_totals(con)
            return {"days": days, "events": events}

        result, _ = self._with_retries("refresh daily_summary", work)
        return dict(result)

    def mark_all_waiting(self) -> int:
        result, _ = self._with_retries("requeue", lambda con, _a: sql.mark_all_waiting(con))
        return int(result)
