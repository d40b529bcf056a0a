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

The report (`write_report`, `newsevents report`, the news_daily task `write_report`) is
one self-contained HTML page of a window of days (pipeline/report.py renders it), written
beside the store: `data/reports/news-YYYY-MM-DD.html` for `data/news.duckdb`, and beside
the Parquet folder for DuckLake (`data/lake/` -> `data/reports/`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.config import Settings
from pipeline.report import HEALTH_REPORTS, WINDOW_REPORTS, ReportData, render_report, window
from pipeline.store import Store, open_store
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


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    path: Path
    end: date  # the window's last day
    days: int
    size: int  # bytes

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "end": self.end.isoformat(), "days": self.days,
                "bytes": self.size}  # fmt: skip


def reports_dir(settings: Settings) -> Path:
    """Where the reports go: a folder `reports/` beside the database file, or beside the
    Parquet folder of a DuckLake."""
    beside = settings.lake_data_path if settings.is_lake else settings.db_path
    return beside.parent / "reports"


def bundle_cache_dir(store: Store) -> Path:
    """Where the report's Vega bundle is kept between processes: the user's cache
    (`$XDG_CACHE_HOME/newsevents`, by default ~/.cache/newsevents), shared by every store
    on the machine, or, where that cannot be written, `cache/` in the store's work
    directory (data/news.pipeline/cache/ for data/news.duckdb). Building it takes
    vl-convert 2-5 s, once per vl-convert and Vega-Lite version instead of once per
    process or per store (pipeline.report.vega_bundle)."""
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    user = Path(home) / "newsevents"
    try:
        user.mkdir(parents=True, exist_ok=True)
        if os.access(user, os.W_OK | os.X_OK):
            return user
    except OSError:
        pass
    return store.work_dir / "cache"


def report_day(store: Store, today: date | None = None) -> date:
    """The default last day of a report: today (UTC) if an article was published today,
    else the latest day on which one was (so the report of a store that stopped, or of the
    demo corpus, shows its news rather than an empty week); today if there is none."""
    today = today or datetime.now(UTC).date()
    if not store.exists():
        return today
    _, rows = store.reports(["report_latest_day"], {"today": today})["report_latest_day"]
    latest = rows[0][0] if rows else None
    return latest if isinstance(latest, date) else today


def collect_report(store: Store, end: date | None = None, days: int = 7) -> ReportData:
    """The rows of every report query for the window of `days` days ending on `end` (by
    default `report_day`), read from one snapshot of the store."""
    end = end or report_day(store)
    start, _ = window(end, days)
    if not store.exists():
        store.prepare()  # an empty report of a new store, rather than an error
    tables = store.reports([*WINDOW_REPORTS, *HEALTH_REPORTS], {"start": start, "end": end})
    return ReportData(end=end, days=days, generated_at=datetime.now(UTC), tables=tables,
                      version=__version__)  # fmt: skip


def write_report(
    settings: Settings, end: date | None = None, days: int = 7, path: Path | None = None
) -> ReportFile:
    """Write the report for the window of `days` days ending on `end` (default
    `report_day`) to `path` (default `reports_dir()/news-END.html`), atomically: written
    beside it, flushed, then renamed over it, so a reader never sees half a page."""
    store = open_store(settings)
    data = collect_report(store, end, days)
    page = render_report(data, bundle_dir=bundle_cache_dir(store)).encode("utf-8")
    path = path or reports_dir(settings) / f"news-{data.end.isoformat()}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(page)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("report for %s (%d days) written to %s, %d bytes", data.end, days, path, len(page))
    return ReportFile(path=path, end=data.end, days=days, size=len(page))
