"""
### news_daily: per-day aggregates and the data-quality checks

Scheduled on the Asset `newsevents://duckdb/events`: it runs after every load of new events by
`news_enrich`, so once a day with the default `@daily` ingest and once an hour with an
hourly one. This is the daily rollup that later work extends.

Tasks:

- `refresh_daily_summary` rebuilds the table `daily_summary` (one row per UTC day:
  articles, factual events per QuadClass, mean Goldstein score, most frequent CAMEO root)
  from the analyst views, in one transaction, in the pool `duckdb_writer`.
- `check_data_quality` runs every query in `sql/checks/` on a read-only connection; each
  must return zero rows. A failing check fails the task at once, without retries (they
  would find the same rows), and the task log lists the offending rows.
- `maintain_store` keeps a DuckLake store healthy: it merges small Parquet files, expires
  snapshots older than `NEWS_LAKE_KEEP_SNAPSHOTS_DAYS` (default 30) and deletes the files
  no snapshot needs (docs/ARCHITECTURE.md has the policy). On a DuckDB file it does
  nothing. It runs beside the checks, whatever their outcome, in the writer pool.
- `write_report` writes the day's HTML report, one self-contained file that opens offline
  (`newsevents report`, docs/REPORT.md), beside the store: `reports/news-YYYY-MM-DD.html`
  next to the DuckDB file, or next to a DuckLake's Parquet folder; the day is today (UTC),
  or the latest day with articles when today has none. Written atomically (a temporary
  file renamed over it), read-only on the store, beside the checks.

Why on the Asset rather than a clock: the checks then run right after each load, so a bad
batch is caught within minutes, and the aggregates are never older than the events they
summarise. The rebuild is whole and idempotent, so running it more often than daily costs
milliseconds and changes no result.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from _newsevents import DEFAULT_ARGS, DUCKDB_POOL, NEW_EVENTS, TAGS, load_settings
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException


@dag(
    dag_id="news_daily",
    schedule=[NEW_EVENTS],
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one rebuild at a time
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "daily"],
    doc_md=__doc__,
)
def news_daily() -> None:
    @task(pool=DUCKDB_POOL, execution_timeout=timedelta(minutes=10))
    def refresh_daily_summary() -> dict[str, int]:
        """Rebuild `daily_summary` from the analyst views in one transaction. Returns the
        number of days and events in it."""
        from pipeline.daily import refresh_daily

        return refresh_daily(load_settings())

    @task(execution_timeout=timedelta(minutes=10))
    def check_data_quality() -> dict[str, int]:
        """Run the data-quality checks in `sql/checks/` (read-only). A check that returns
        rows fails the task at once, without retries (a retry would find the same rows),
        and the log lists the offending rows."""
        from pipeline.daily import DataQualityError, check_quality

        try:
            return check_quality(load_settings())
        except DataQualityError as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(pool=DUCKDB_POOL, execution_timeout=timedelta(minutes=30))
    def maintain_store() -> dict[str, object]:
        """Compact the DuckLake store's files and expire its old snapshots (a no-op on a
        DuckDB file). Returns what it did."""
        from pipeline.daily import maintain_store

        return maintain_store(load_settings())

    @task(execution_timeout=timedelta(minutes=10))
    def write_report() -> dict[str, object]:
        """Write the day's self-contained HTML report beside the store (read-only on the
        store; the file is renamed into place). Returns its path, day and size."""
        from pipeline.daily import write_report

        return write_report(load_settings()).as_dict()

    # The checks, the upkeep and the report all follow the rebuild, side by side: a
    # failing check fails the run, and compaction, which changes no row, still happens;
    # the report shows whatever the checks say.
    refresh_daily_summary() >> [check_data_quality(), maintain_store(), write_report()]


news_daily()
