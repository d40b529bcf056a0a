"""Batches and the spool: everything one pass writes, on disk before it is loaded.

A pass never writes row by row. It writes its batch to the store's spool directory
(newline-delimited JSON, one file per table, and run.json), then loads it in one
transaction, then deletes it. A batch that cannot be loaded yet waits there for the next
load. A batch may be written a part at a time (`SpoolWriter`: a long pass appends each
chunk of pages it has tagged), in a hidden folder that becomes a waiting batch only when
it is finished, so a load never sees half a batch. Each batch has an id, the name of its
folder: its run id, or `run_id.NNNN` for the parts of a run loaded in several batches.
run.json records the identity of the store the batch was read from (`store_id`),
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
    batch_id: str | None = None  # None: the run's one batch, named after the run

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    @property
    def id(self) -> str:
        return self.batch_id or self.run_id


@dataclass
class SpooledBatch:
    """A batch on disk: its folder and what run.json says."""

    path: Path
    run: dict[str, Any]
    tagged: list[str]
    store_id: str | None
    batch_id: str

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def table_file(self, table: str) -> Path:
        return self.path / f"{table}.jsonl"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


class SpoolWriter:
    """One batch written to spool_dir/<batch_id>/ a part at a time: the rows of each part
    are appended to the table files of a hidden folder (so only the part in hand is in
    memory), which `finish` renames into place. A process killed before that leaves only
    the hidden folder, which no load takes for a waiting batch."""

    def __init__(self, spool_dir: Path, batch_id: str) -> None:
        self.batch_id = batch_id
        self.final = spool_dir / batch_id
        self.tmp = spool_dir / f".{batch_id}.tmp"
        self.tagged: list[str] = []
        # One encoder for every row (json.dumps makes one per call): the same text.
        self.encode = json.JSONEncoder(default=_json_default, ensure_ascii=False).encode
        self.rows = dict.fromkeys(TABLE_NAMES, 0)  # rows written so far, per table
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        for table in TABLE_NAMES:
            (self.tmp / f"{table}.jsonl").touch()

    def add(self, batch: Batch) -> None:
        """Append a part's rows (its run row is not written: `finish` writes the run's)."""
        for table in TABLE_NAMES:
            rows = getattr(batch, table)
            if not rows:
                continue
            with (self.tmp / f"{table}.jsonl").open("a", encoding="utf-8") as handle:
                handle.writelines(f"{line}\n" for line in map(self.encode, rows))
            self.rows[table] += len(rows)
        self.tagged.extend(batch.tagged)

    def finish(self, run: dict[str, Any], store_id: str | None) -> Path:
        """Write run.json and make the batch a waiting one (an atomic rename)."""
        meta = {"run": run, "batch_id": self.batch_id, "tagged": self.tagged,
                "store_id": store_id}  # fmt: skip
        (self.tmp / "run.json").write_text(json.dumps(meta, default=_json_default),
                                           encoding="utf-8")  # fmt: skip
        shutil.rmtree(self.final, ignore_errors=True)
        self.tmp.rename(self.final)
        return self.final


def write_spool(batch: Batch, spool_dir: Path) -> Path:
    """Write a batch to spool_dir/<batch id>/ atomically (write, then rename)."""
    writer = SpoolWriter(spool_dir, batch.id)
    writer.add(batch)
    return writer.finish(batch.run, batch.store_id)


def read_spool(path: Path) -> SpooledBatch:
    meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
    return SpooledBatch(path, meta["run"], meta.get("tagged", []), meta.get("store_id"),
                        meta.get("batch_id") or meta["run"]["run_id"])  # fmt: skip


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
    """Batches waiting in spool_dir, oldest first (run ids start with their time, and the
    parts of one run are numbered in order).
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
            f"batch {batch.batch_id} in {batch.path.parent} belongs to store {batch.store_id}, "
            f"not to {store_name} (store {store_id}). It was spooled by a pass on another "
            "database: load it there (`newsevents load-spool --db THAT_DATABASE`), or move "
            "it away. Nothing was loaded."
        )
