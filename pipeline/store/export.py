"""Export: a table as Hive-partitioned Parquet or CSV files, one folder per day.

`DIR/events/event_date=2025-11-02/data_0.parquet`: DuckDB's `COPY (select ...) TO ...
(FORMAT parquet, PARTITION_BY (event_date))`, run on a reader (a read-only snapshot:
never the write lock, so the pipeline and analysts go on meanwhile).

Re-running into the same folder replaces, it never adds: the export covers a range of
days (every day, or those from --since on) and afterwards each day folder in that range
holds exactly the store's rows of that day, while days before --since are left as they
were. DuckDB writes the new files into a staging folder beside them first; then each
day's folder is swapped in by renames, and day folders in the range that the store no
longer has rows for are removed. One export per table folder at a time (a lock file).
A reader of the files may miss one day for the instant of its swap, but never sees a day
twice.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.store.sql import Connection, sql_file

# kind -> (folder name, partition column); the rows are sql/export/<kind>.sql
KINDS = {
    "events": ("events", "event_date"),
    "articles": ("articles", "published_date"),
    "rollup": ("rollup", "event_date"),
}
FORMATS = ("parquet", "csv")
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # DuckDB's folder for a null day


@dataclass
class ExportResult:
    folder: Path
    rows: int
    written: list[str] = field(default_factory=list)  # day folders written (replaced or new)
    removed: list[str] = field(default_factory=list)  # day folders in range, no rows now


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_range(folder: str, column: str, since: date | None) -> bool:
    """A day folder (`event_date=2025-11-02`) that an export from `since` covers."""
    if not folder.startswith(f"{column}="):
        return False  # not ours: left alone
    value = folder.split("=", 1)[1]
    if since is None:
        return True
    return value != NULL_PARTITION and value >= since.isoformat()


def export_table(
    con: Connection, kind: str, out_dir: Path, *, fmt: str = "parquet", since: date | None = None
) -> ExportResult:
    """Write `kind` (events, articles, rollup) under out_dir/<folder>/, partitioned by
    day, replacing the days it covers. con is a reader of the store."""
    if kind not in KINDS:
        raise ValueError(f"cannot export {kind!r}: one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    folder, column = KINDS[kind]
    target = out_dir / folder
    out_dir.mkdir(parents=True, exist_ok=True)
    select = sql_file("export", f"{kind}.sql").strip().rstrip(";")
    staging = out_dir / f".{folder}.staging-{os.getpid()}"
    trash = out_dir / f".{folder}.old-{os.getpid()}"
    with (out_dir / f".{folder}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one export into this folder at a time
        for leftover in (staging, trash):
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            options = f"format {fmt}, partition_by ({column})"
            options += ", header" if fmt == "csv" else ""
            rows = con.execute(
                f"copy ({select}) to {_quote(str(staging))} ({options})", {"since": since}
            ).fetchall()[0][0]
            result = ExportResult(target, int(rows))
            target.mkdir(exist_ok=True)
            trash.mkdir()
            new = sorted(p.name for p in staging.iterdir()) if staging.exists() else []
            for name in new:
                if (target / name).exists():
                    os.rename(target / name, trash / name)
                os.rename(staging / name, target / name)
                result.written.append(name)
            for old in sorted(p.name for p in target.iterdir()):
                if old not in new and _in_range(old, column, since):
                    os.rename(target / old, trash / f"{old}.gone")
                    result.removed.append(old)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(trash, ignore_errors=True)
    return result
