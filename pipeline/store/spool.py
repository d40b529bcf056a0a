"""Batches and the spool: everything one pass writes, on disk before it is loaded.

A pass never writes row by row. It writes its whole batch to the store's spool directory
(newline-delimited JSON, one file per table, and run.json), then loads it in one
transaction, then deletes it. A batch that cannot be loaded yet waits there for the next
load. run.json records the identity of the store the batch was read from (`store_id`),
and a store refuses a batch of another store (`StoreMismatch`), so a spool folder given to
the wrong database can never mix two stores' rows.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.store.schema import TABLE_NAMES


class StoreMismatch(RuntimeError):
    """A spooled batch belongs to another store. The message names both."""


@dataclass
class Batch:
    """Everything one pass writes. Rows are plain dicts keyed by column name."""

    run: dict[str, Any]
    store_id: str | None = None  # the store the pass read its state from
    feeds: list[dict[str, Any]] = field(default_factory=list)
    fetch_log: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    raw_pages: list[dict[str, Any]] = field(default_factory=list)
    raw_done: list[dict[str, Any]] = field(default_factory=list)  # {url, enriched_at}
    # article ids whose entities, places and events are replaced
    tagged: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


@dataclass
class SpooledBatch:
    """A batch on disk: its folder and what run.json says."""

    path: Path
    run: dict[str, Any]
    tagged: list[str]
    store_id: str | None

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def table_file(self, table: str) -> Path:
        return self.path / f"{table}.jsonl"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_spool(batch: Batch, spool_dir: Path) -> Path:
    """Write a batch to spool_dir/<run_id>/ atomically (write, then rename)."""
    final = spool_dir / batch.run_id
    tmp = spool_dir / f".{batch.run_id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # One encoder for every row (json.dumps makes one per call): the same text.
    encode = json.JSONEncoder(default=_json_default, ensure_ascii=False).encode
    for table in TABLE_NAMES:
        with (tmp / f"{table}.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(f"{line}\n" for line in map(encode, getattr(batch, table)))
    meta = {"run": batch.run, "tagged": batch.tagged, "store_id": batch.store_id}
    (tmp / "run.json").write_text(json.dumps(meta, default=_json_default), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def read_spool(path: Path) -> SpooledBatch:
    meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
    return SpooledBatch(path, meta["run"], meta.get("tagged", []), meta.get("store_id"))


def remove_spool(path: Path) -> None:
    """Delete a loaded batch's folder. It is renamed out of the pending set first (one
    atomic step), so a process killed while deleting never leaves a half-deleted batch
    that the next load would take for a waiting one."""
    gone = path.parent / f".{path.name}.done"
    shutil.rmtree(gone, ignore_errors=True)
    try:
        path.rename(gone)
    except FileNotFoundError:
        return
    shutil.rmtree(gone, ignore_errors=True)


def pending_spools(spool_dir: Path) -> list[Path]:
    """Batches waiting in spool_dir, oldest first (run ids start with their time).
    Leftovers of a deletion that was cut short are swept away here."""
    if not spool_dir.exists():
        return []
    for gone in spool_dir.glob(".*.done"):
        shutil.rmtree(gone, ignore_errors=True)
    return sorted(p for p in spool_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def pending_urls(spool_dir: Path) -> set[str]:
    """Canonical URLs fetched by batches still waiting to be loaded: a pass does not
    fetch them again just because their batch has not reached the store yet."""
    urls: set[str] = set()
    for path in pending_spools(spool_dir):
        for table in ("raw_pages", "articles"):
            file = path / f"{table}.jsonl"
            if not file.exists():
                continue
            with file.open(encoding="utf-8") as handle:
                urls.update(json.loads(line)["url"] for line in handle if line.strip())
    return urls


def check_owner(batch: SpooledBatch, store_id: str, store_name: str) -> None:
    """Refuse a batch that was read from another store."""
    if batch.store_id and batch.store_id != store_id:
        raise StoreMismatch(
            f"batch {batch.run_id} in {batch.path.parent} belongs to store {batch.store_id}, "
            f"not to {store_name} (store {store_id}). It was spooled by a pass on another "
            "database: load it there (`newsevents load-spool --db THAT_DATABASE`), or move "
            "it away. Nothing was loaded."
        )
