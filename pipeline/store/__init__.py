"""Store: the only code that talks to DuckDB, behind one interface and two backends.

* `base.Store`: the interface the pipeline uses (prepare, state, waiting pages, load
  batches, load pending spools, query, checks, the daily rebuild, maintenance);
* `duckdb_file.FileStore`: a DuckDB file (the default). The pipeline writes a file of its
  own and publishes a read-only copy for analysts after every load;
* `ducklake.LakeStore`: DuckLake, a catalog in SQLite or Postgres with Parquet data, for
  many readers beside writers and for several machines;
* `schema`: the tables' columns and keys, and the record-to-row mapping (one place);
* `spool`: batches on disk, tied to the store they belong to;
* `sql`: the statements both backends run.

`open_store(settings)` picks the backend from `settings.db` (NEWS_DB / --db), spelled as
DuckDB spells it: a file path, or `ducklake:sqlite:PATH` / `ducklake:postgres:CONNINFO`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.store.base import DatabaseLocked, LoadResult, Store, StoreState
from pipeline.store.duckdb_file import FileStore
from pipeline.store.ducklake import LakeError, LakeStore
from pipeline.store.schema import (
    article_row,
    entity_row,
    event_row,
    feed_row,
    fetch_log_row,
    place_row,
    raw_page_row,
)  # fmt: skip
from pipeline.store.search import Hit, SearchIndexMissing, SearchResult
from pipeline.store.spool import Batch, StoreMismatch, pending_spools, write_spool
from pipeline.store.sql import SchemaError, sql_dir, sql_file

__all__ = [
    "Batch",
    "DatabaseLocked",
    "FileStore",
    "Hit",
    "LakeError",
    "LakeStore",
    "LoadResult",
    "SchemaError",
    "SearchIndexMissing",
    "SearchResult",
    "Store",
    "StoreMismatch",
    "StoreState",
    "article_row",
    "entity_row",
    "event_row",
    "feed_row",
    "fetch_log_row",
    "open_store",
    "pending_spools",
    "place_row",
    "raw_page_row",
    "sql_dir",
    "sql_file",
    "write_spool",
]


def open_store(settings: Settings) -> Store:
    """The store that settings.db names. Opening it does no I/O."""
    work_dir = Path(settings.work_dir) if settings.work_dir else None
    if settings.is_lake:
        return LakeStore(
            settings.db, settings.lake_data_path, work_dir=work_dir,
            lock_timeout_s=settings.lock_timeout_s,
            keep_snapshots_days=settings.lake_keep_snapshots_days,
        )  # fmt: skip
    return FileStore(settings.db_path, work_dir=work_dir, lock_timeout_s=settings.lock_timeout_s)
