"""Daily rollup: per-day aggregates of the coded events, the data-quality checks, and the
store's upkeep.

`daily_summary` is derived data: it is rebuilt whole from the analyst views
(`factual_events`, `daily_event_counts`) and `articles` (sql/derived/daily_summary.sql),
inside every load's transaction, and again in its own each time the news_daily DAG runs.
A rebuild is idempotent and always consistent with the events it summarises: a late
article or a re-coded event moves its day's numbers at the next load, with no
incremental bookkeeping to go wrong. At these volumes (thousands of events a day) the
rebuild takes milliseconds.

The checks are the queries in sql/checks/ (`Store.run_checks`, pipeline/store/base.py);
each must return zero rows. A failure raises DataQualityError with the offending rows in
its message.
"""

from __future__ import annotations

import logging
from typing import Any

from pipeline.config import Settings
from pipeline.store import open_store
from pipeline.store.sql import check_names

log = logging.getLogger(__name__)


class DataQualityError(RuntimeError):
    """One or more checks in sql/checks/ returned rows. The message lists them."""


def refresh_daily(settings: Settings) -> dict[str, int]:
    """Rebuild daily_summary in one transaction (migrating the store if needed). Returns
    its day and event counts."""
    result = open_store(settings).refresh_daily()
    log.info("daily_summary rebuilt: %s", result)
    return result


def maintain_store(settings: Settings) -> dict[str, object]:
    """Keep the store healthy: on DuckLake, merge small files, expire old snapshots and
    delete unneeded files (docs/ARCHITECTURE.md has the policy); nothing to do on a file."""
    result = open_store(settings).maintain()
    log.info("store maintenance: %s", result or "nothing to do for this backend")
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
    total = len(check_names())
    failures = open_store(settings).run_checks()
    if failures:
        raise DataQualityError(format_failures(failures, total, max_rows))
    log.info("all %d data-quality checks passed", total)
    return {"checks": total, "failed": 0}
