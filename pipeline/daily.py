"""Daily rollup: per-day aggregates of the coded events, and the data-quality checks.

`daily_summary` is derived data: it is rebuilt whole from the analyst views
(`factual_events`, `daily_event_counts`) and `articles` (sql/derived/daily_summary.sql),
inside every load's transaction, and again in its own each time the news_daily DAG runs.
A rebuild is idempotent and always consistent with the events it summarises: a late
article or a re-coded event moves its day's numbers at the next load, with no
incremental bookkeeping to go wrong. At these volumes (thousands of events a day) the
rebuild takes milliseconds.

The checks are the queries in sql/checks/ (`pipeline.store.run_checks`); each must return
zero rows. A failure raises DataQualityError with the offending rows in its message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.store import connect, open_db, rebuild_daily_summary, run_checks, sql_dir

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


class DataQualityError(RuntimeError):
    """One or more checks in sql/checks/ returned rows. The message lists them."""


def refresh_daily_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild daily_summary in one transaction. Returns its row and event counts."""
    con.execute("begin transaction")
    try:
        rebuild_daily_summary(con)
        days, events = con.execute(
            "select count(*), coalesce(sum(events), 0) from daily_summary"
        ).fetchall()[0]
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {"days": int(days), "events": int(events)}


def refresh_daily(settings: Settings) -> dict[str, int]:
    """Open the database for writing (migrating it if needed) and rebuild daily_summary."""
    con = open_db(settings.db_path, settings.lock_timeout_s)
    try:
        result = refresh_daily_summary(con)
    finally:
        con.close()
    log.info("daily_summary rebuilt: %s", result)
    return result


def format_failures(failures: dict[str, list[tuple[Any, ...]]], total: int, max_rows: int) -> str:
    lines = [
        f"{len(failures)} of {total} data-quality checks failed "
        "(sql/checks/: each must return zero rows):"
    ]
    for name, rows in sorted(failures.items()):
        shown = "" if len(rows) <= max_rows else f", first {max_rows} shown"
        lines.append(f"- {name}: {len(rows)} row{'s' if len(rows) != 1 else ''}{shown}")
        lines.extend(f"    {row!r}" for row in rows[:max_rows])
    return "\n".join(lines)


def check_quality(settings: Settings, *, max_rows: int = 20) -> dict[str, int]:
    """Run every check in sql/checks/ on a read-only connection. Raises DataQualityError,
    listing up to max_rows offending rows per check, if any returns rows."""
    total = len(list((sql_dir() / "checks").glob("*.sql")))
    con = connect(settings.db_path, read_only=True, lock_timeout_s=settings.lock_timeout_s)
    try:
        failures = run_checks(con)
    finally:
        con.close()
    if failures:
        raise DataQualityError(format_failures(failures, total, max_rows))
    log.info("all %d data-quality checks passed", total)
    return {"checks": total, "failed": 0}
