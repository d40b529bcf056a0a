"""Daily rollup: per-day aggregates of the coded events, and the data-quality checks.

`daily_summary` is derived data: it is rebuilt whole from the analyst views
(`factual_events`, `daily_event_counts`) and `articles`, in one transaction, each time the
news_daily DAG runs. A rebuild is idempotent and always consistent with the events it
summarises: a late article or a re-coded event moves its day's numbers at the next run,
with no incremental bookkeeping to go wrong. At these volumes (thousands of events a day)
the rebuild takes milliseconds.

The checks are the queries in sql/checks/ (`pipeline.store.run_checks`); each must return
zero rows. A failure raises DataQualityError with the offending rows in its message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.store import connect, open_db, run_checks, sql_dir

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# One row per UTC day with a usable article or a factual event (events with no date at
# all are left out). Rebuilt whole.
DAILY_SUMMARY_SQL = """
create or replace table daily_summary as
with ev as (
    select
        coalesce(event_date, cast(published_at as date)) as day,
        quad_class,
        goldstein
    from factual_events
    where coalesce(event_date, cast(published_at as date)) is not null
),
ev_day as (
    select
        day,
        count(*) as events,
        count(*) filter (where quad_class = 1) as verbal_cooperation,
        count(*) filter (where quad_class = 2) as material_cooperation,
        count(*) filter (where quad_class = 3) as verbal_conflict,
        count(*) filter (where quad_class = 4) as material_conflict,
        round(avg(goldstein), 2) as mean_goldstein
    from ev
    group by day
),
top_root as (
    select day, root_code, root_name
    from daily_event_counts
    where day is not null
    qualify row_number() over (partition by day order by events desc, root_code) = 1
),
art_day as (
    select cast(published_at as date) as day, count(*) as articles
    from articles
    where status = 'ok' and duplicate_of is null and published_at is not null
    group by day
),
days as (
    select day from ev_day
    union
    select day from art_day
)
select
    -- UTC day: the event's date, else its article's publication day
    days.day,
    -- usable articles (status ok, not duplicates) published that day
    coalesce(art_day.articles, 0) as articles,
    -- factual events (asserted or intended) on that day, then per QuadClass
    coalesce(ev_day.events, 0) as events,
    coalesce(ev_day.verbal_cooperation, 0) as verbal_cooperation,      -- QuadClass 1
    coalesce(ev_day.material_cooperation, 0) as material_cooperation,  -- QuadClass 2
    coalesce(ev_day.verbal_conflict, 0) as verbal_conflict,            -- QuadClass 3
    coalesce(ev_day.material_conflict, 0) as material_conflict,        -- QuadClass 4
    -- mean Goldstein score of those events, -10 .. +10 (null: no events)
    ev_day.mean_goldstein,
    -- the most frequent CAMEO root that day (ties: the lowest code)
    top_root.root_code as top_root_code,
    top_root.root_name as top_root_name,
    -- when the table was rebuilt, UTC
    current_timestamp as refreshed_at
from days
left join ev_day using (day)
left join art_day using (day)
left join top_root using (day)
order by days.day
"""


class DataQualityError(RuntimeError):
    """One or more checks in sql/checks/ returned rows. The message lists them."""


def refresh_daily_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild daily_summary in one transaction. Returns its row and event counts."""
    con.execute("begin transaction")
    try:
        con.execute(DAILY_SUMMARY_SQL)
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
