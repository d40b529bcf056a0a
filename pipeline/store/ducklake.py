"""The DuckLake backend: a catalog in SQLite or Postgres, the data as Parquet files.

Selected by a DuckDB-style URI: `ducklake:sqlite:data/lake.sqlite` (one machine) or
`ducklake:postgres:dbname=news host=db user=...` (many machines), with the Parquet files
under `lake_data_path`. Readers attach the lake read-only and see the snapshot of the
last commit; writers commit new snapshots beside them, so analysts and loads never wait
for each other.

* DuckLake has no primary keys: loads are MERGE statements on the keys of
  `pipeline.store.schema.TABLES`, and every load first updates one fence row, so two loads
  that overlap conflict at commit and the later one is retried (bounded, with backoff,
  and recorded in `runs.load_attempts`) instead of adding a row twice.
* A SQLite catalog is put in WAL mode when it is created: a reader's open transaction
  then never blocks a writer's commit (in SQLite's default mode it does).
* Rows are never inlined in the catalog (data_inlining_row_limit 0): an analyst's
  attach kept open across loads and maintenance keeps working (tests/test_lake.py).
* Each load's snapshot carries the run id as its commit message, so analysts can query
  the store as of any run (sql/queries/events_as_of.sql).
* `maintain()` merges small Parquet files, expires snapshots older than
  `lake_keep_snapshots_days` and deletes the files no snapshot needs any more.
* The full-text search index cannot live in the catalog (fts's tables and macros fail to
  commit there: "unsupported type NULL"), so it is a DuckDB file of its own in the work
  dir, `search_index.duckdb`, updated from a snapshot after a load and published the way the
  file backend publishes its copy: written beside it, then renamed over it.

The extensions load offline from the PyPI packages duckdb-extension-ducklake, -sqlite
and -postgres (FACTS.md): INSTALL from the file inside the package, then LOAD.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipeline.store import search
from pipeline.store.base import Store
from pipeline.store.duckdb_file import copy_file
from pipeline.store.search import SearchIndexMissing
from pipeline.store.sql import Connection

log = logging.getLogger(__name__)

CATALOG = "lake"  # the name the lake is attached as; `use lake` makes it the default
_RETRYABLE = ("failed to commit ducklake transaction", "transaction conflict",
              "database is locked", "could not serialize", "deadlock detected")  # fmt: skip


class LakeError(RuntimeError):
    """A DuckLake URI or extension problem. The message says what to do."""


def extension_file(name: str) -> Path | None:
    """The extension's binary inside its PyPI package (duckdb-extension-NAME), if installed."""
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        return None
    root = Path(package.__file__ or "").parent / "extensions"
    found = sorted(root.glob(f"v{duckdb.__version__}/*.duckdb_extension"))
    return found[0] if found else None


def load_extension(con: Connection, name: str) -> None:
    path = extension_file(name)
    if path is not None:
        con.execute(f"install '{path}'")
        con.execute(f"load {path.name.removesuffix('.duckdb_extension')}")
        return
    try:
        con.execute(f"load {name}")
    except duckdb.Error as exc:
        raise LakeError(
            f"the DuckDB extension {name} is not installed: "
            f"pip install duckdb-extension-{name}=={duckdb.__version__}"
        ) from exc


def parse_uri(uri: str) -> tuple[str, str]:
    """'ducklake:sqlite:PATH' or 'ducklake:postgres:CONNINFO' -> (catalog kind, rest)."""
    parts = uri.split(":", 2)
    if len(parts) != 3 or parts[0] != "ducklake" or parts[1] not in ("sqlite", "postgres"):
        raise LakeError(
            f"not a DuckLake URI: {uri!r}. Use ducklake:sqlite:PATH (e.g. "
            "ducklake:sqlite:data/lake.sqlite) or ducklake:postgres:CONNINFO (e.g. "
            "'ducklake:postgres:dbname=news host=db')"
        )
    if not parts[2]:
        raise LakeError(f"{uri!r} names no catalog after ducklake:{parts[1]}:")
    return parts[1], parts[2]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class LakeStore(Store):
    kind = "ducklake"

    def __init__(
        self, uri: str, data_path: Path, *, work_dir: Path | None = None,
        lock_timeout_s: float, keep_snapshots_days: float = 30.0,
    ) -> None:  # fmt: skip
        self.catalog_kind, self.catalog = parse_uri(uri)
        self.data_path = data_path
        self.keep_snapshots_days = keep_snapshots_days
        super().__init__(
            uri, work_dir or data_path.with_name(data_path.name + ".pipeline"),
            lock_timeout_s=lock_timeout_s,
        )  # fmt: skip
        self._exists = False
        self._db: dict[bool, Connection] = {}  # read_only -> instance

    def describe(self) -> str:
        if self.catalog_kind == "sqlite":
            return f"ducklake:sqlite:{Path(self.catalog).resolve()}"
        # a conninfo may carry a password: show only the database and host
        fields = dict(p.split("=", 1) for p in self.catalog.split() if "=" in p)
        shown = " ".join(f"{k}={fields[k]}" for k in ("dbname", "host", "port") if k in fields)
        return f"ducklake:postgres:{shown or '(conninfo)'}"

    def attach_sql(self, *, read_only: bool) -> str:
        """The ATTACH statement, as an analyst would type it."""
        catalog = (
            str(Path(self.catalog).resolve()) if self.catalog_kind == "sqlite" else self.catalog
        )
        options = [f"data_path {_quote(str(self.data_path.resolve()) + '/')}"]
        if read_only:
            options.append("read_only")
        else:
            # Every row to Parquet, none inlined in the catalog: a reader attached for
            # hours otherwise fails once a load adds an inlined-data table that its cached
            # view of the catalog lacks ("ducklake_inlined_data_N does not exist").
            options.append("data_inlining_row_limit 0")
        return (
            f"attach {_quote(f'ducklake:{self.catalog_kind}:{catalog}')} as {CATALOG} "
            f"({', '.join(options)})"
        )

    def _instance(self, *, read_only: bool) -> Connection:
        """A DuckDB instance of this process with the lake attached, read-only for readers
        (so `newsevents query` cannot change the store) or read-write for loads. Loading
        the extensions takes about 0.3 s, so each is made once; a session is a cursor."""
        if read_only not in self._db:
            con = duckdb.connect()
            try:
                con.execute("set TimeZone = 'UTC'")
                load_extension(con, "ducklake")
                load_extension(con, self.catalog_kind)
                if not read_only:
                    if self.catalog_kind == "sqlite":
                        self._sqlite_wal()
                    self.data_path.mkdir(parents=True, exist_ok=True)
                con.execute(self.attach_sql(read_only=read_only))
            except BaseException:
                con.close()
                raise
            self._db[read_only] = con
        return self._db[read_only]

    def _session(self, *, read_only: bool) -> Connection:
        cursor = self._instance(read_only=read_only).cursor()
        cursor.execute(f"use {CATALOG}")
        return cursor

    def close(self) -> None:
        for con in self._db.values():
            con.close()
        self._db.clear()

    def _sqlite_wal(self) -> None:
        path = Path(self.catalog)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=self.lock_timeout_s)
        try:
            if db.execute("pragma journal_mode").fetchone()[0] != "wal":
                db.execute("pragma journal_mode = wal")
        finally:
            db.close()

    def exists(self) -> bool:
        if self._exists:
            return True
        if self.catalog_kind == "sqlite" and not Path(self.catalog).exists():
            return False
        try:
            cursor = self._session(read_only=False)  # a new catalog is initialised here
        except duckdb.Error:
            return False
        try:
            cursor.execute("select 1 from store_info limit 1").fetchall()
        except duckdb.CatalogException:
            return False
        finally:
            cursor.close()
        self._exists = True
        return True

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        if not self.exists():
            raise FileNotFoundError(
                f"no store at {self.describe()}; run `newsevents run` or `demo` first"
            )
        cursor = self._session(read_only=True)
        try:
            yield cursor
        finally:
            cursor.close()

    def _open_writer(self) -> Connection:
        return self._session(read_only=False)

    @property
    def search_index_path(self) -> Path:
        return self.work_dir / "search_index.duckdb"

    @contextmanager
    def _search_reader(self) -> Iterator[Connection]:
        path = self.search_index_path
        if not path.exists():
            raise SearchIndexMissing(
                f"this store has no search index yet ({path}): the next load builds it, "
                "and `newsevents reindex` builds it now"
            )
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

    def refresh_search_index(self, *, force: bool = False) -> dict[str, Any] | None:
        """Bring the index up to date with the latest snapshot in a copy of
        search_index.duckdb (or build it whole in a new file: the first time, or with
        force), then rename that over it (atomic: a search holding the old file keeps
        reading it).
        One builder at a time (a lock file), each reading the snapshot after it got the
        lock, so the index a writer leaves always holds its own load."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with (self.work_dir / ".search.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            with self.reader() as con:
                if not force and self.search_index_path.exists():
                    with self._search_reader() as index:
                        if search.is_current(con, index):
                            return None
                tmp = self.work_dir / f".search_index.duckdb.{os.getpid()}.tmp"
                tmp.unlink(missing_ok=True)
                if not force and self.search_index_path.exists():
                    copy_file(self.search_index_path, tmp)  # updated in place, then renamed
                con.execute(f"attach {_quote(str(tmp))} as search_build")
                try:
                    built = search.refresh(con, into="search_build", force=force)
                finally:
                    con.execute("detach search_build")
                try:
                    with tmp.open("rb") as handle:
                        os.fsync(handle.fileno())
                    os.replace(tmp, self.search_index_path)
                finally:
                    tmp.unlink(missing_ok=True)
        return built

    def is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, duckdb.Error) and any(
            text in str(exc).lower() for text in _RETRYABLE
        )

    def maintain(self, *, now: datetime | None = None) -> dict[str, Any]:
        """Compact small Parquet files, expire old snapshots, delete unneeded files."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.keep_snapshots_days)

        def work(con: Connection, _attempt: int) -> dict[str, Any]:
            before = con.execute(f"select count(*) from {CATALOG}.snapshots()").fetchall()[0][0]
            con.execute(f"call ducklake_flush_inlined_data('{CATALOG}')")
            merged = con.execute(f"call ducklake_merge_adjacent_files('{CATALOG}')").fetchall()
            expired = con.execute(
                f"call ducklake_expire_snapshots('{CATALOG}', older_than => ?)", [cutoff]
            ).fetchall()
            deleted = con.execute(
                f"call ducklake_cleanup_old_files('{CATALOG}', cleanup_all => true)"
            ).fetchall()
            after = con.execute(f"select count(*) from {CATALOG}.snapshots()").fetchall()[0][0]
            return {"snapshots_before": before, "snapshots_after": after,
                    "snapshots_expired": len(expired), "files_merged": len(merged),
                    "files_deleted": len(deleted)}  # fmt: skip

        result, _ = self._with_retries("maintain", work)
        log.info("lake maintenance: %s", result)
        return dict(result)
