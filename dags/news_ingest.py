"""
### news_ingest: fetch the feeds and store the raw article pages

Runs on a clock: `@daily` by default, or the cron expression or preset in the environment
variable `NEWS_INGEST_SCHEDULE` (e.g. `0 * * * *` for hourly; `none` for manual runs only),
read when the file is parsed. `catchup=False`: a paused or new DAG does not run every
missed interval, but a backfill of past intervals works, and is idempotent (see below).

Tasks, and what each passes on in XCom (ids, counts and paths only):

- `read_registry` reads the feed registry (`NEWS_FEEDS`, default `config/feeds.yaml`)
  when the run starts, never at parse time, and fails the run, without retries, when
  `NEWS_REQUIRE_CONTACT` is on (as in docker compose) and `NEWS_USER_AGENT` carries no
  contact. XCom: the enabled feeds (name, url, outlet, country, language).
- `ingest_feed`, mapped over the feeds (one task instance per feed, named after it),
  fetches the feed and the articles it lists that are not stored yet, and writes them to
  the spool next to the database. It does not write DuckDB. XCom: the run id, the spool
  path, the pages fetched and the failures.
- `load_raw_pages` loads the spooled batches into DuckDB, one transaction per batch, in
  the pool `duckdb_writer` (one slot), and emits the Asset `newsevents://duckdb/raw_pages`.
  XCom: the batches loaded and skipped, and the pages.

The Asset is emitted after every successful load, even when nothing new was fetched:
the event is cheap, it carries the counts in its `extra`, and it gives `news_enrich` a
chance to process pages left waiting by an earlier failed run.

**Idempotency.** Articles already stored are not fetched again, and every load is an
upsert keyed on the canonical URL, so a re-run, a cleared task or a backfill of an
interval adds no duplicate pages. A retried `load_raw_pages` skips the batches it loaded
before it failed. A failed or killed load leaves each batch either whole or absent.
Only `runs` and `fetch_log` grow, by one record per attempt: they log what happened.

A feed that cannot be fetched or parsed does not fail its task: it is recorded in
`fetch_log`, `runs.errors` and `feeds.last_error` (see the `feed_health` view). Tasks
fail, and retry with exponential backoff, on what a retry can fix: the database locked by
another process for longer than `NEWS_LOCK_TIMEOUT`, a full disk, a killed worker.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from _newsevents import DEFAULT_ARGS, DUCKDB_POOL, RAW_ARTICLES, TAGS, load_settings
from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

log = logging.getLogger(__name__)


def ingest_schedule() -> str | None:
    """NEWS_INGEST_SCHEDULE: a cron expression or preset; `none` for manual runs only."""
    value = os.environ.get("NEWS_INGEST_SCHEDULE", "").strip() or "@daily"
    return None if value.lower() == "none" else value


@dag(
    dag_id="news_ingest",
    schedule=ingest_schedule(),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # two runs would fetch the same new articles twice
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "ingest"],
    doc_md=__doc__,
)
def news_ingest() -> None:
    @task(execution_timeout=timedelta(minutes=2))
    def read_registry() -> list[dict[str, Any]]:
        """Read the feed registry (`NEWS_FEEDS`, default `config/feeds.yaml`) and return
        the enabled feeds. It is read at run time, never when the DAG is parsed, so an edit
        takes effect at the next run. An invalid registry fails at once, without retries,
        and so does a crawl of other people's sites without a contact in `NEWS_USER_AGENT`
        while `NEWS_REQUIRE_CONTACT` is on."""
        import dataclasses

        from pipeline.config import ConfigError, check_contact
        from pipeline.feeds import RegistryError, enabled_feeds, load_registry

        settings = load_settings()
        try:
            feeds = enabled_feeds(load_registry(settings.feeds_path))
        except RegistryError as exc:
            raise AirflowFailException(str(exc)) from exc
        try:
            check_contact(settings, [feed.url for feed in feeds])
        except ConfigError as exc:
            raise AirflowFailException(f"newsevents settings: {exc}") from exc
        log.info("%d enabled feeds in %s", len(feeds), settings.feeds_path)
        return [dataclasses.asdict(feed) for feed in feeds]

    @task(
        execution_timeout=timedelta(minutes=30),
        map_index_template="{{ feed_name }}",
        max_active_tis_per_dagrun=8,  # each fetches up to NEWS_CONCURRENCY pages at once
    )
    def ingest_feed(feed: dict[str, Any]) -> dict[str, Any]:
        """Fetch one feed, then the pages of its entries that are not stored yet, and
        write them to the spool next to the database (no database write). A feed or page
        that cannot be fetched is recorded, not raised. Returns the run id, the spool path
        and the counts."""
        from pipeline.records import Feed
        from pipeline.run import ingest_feeds_to_spool

        context = get_current_context()
        context["feed_name"] = feed["name"]  # type: ignore[typeddict-unknown-key]
        result = ingest_feeds_to_spool([Feed(**feed)], load_settings())
        log.info("feed %s: %s", feed["name"], result)
        return result

    @task(pool=DUCKDB_POOL, outlets=[RAW_ARTICLES], execution_timeout=timedelta(minutes=15))
    def load_raw_pages(batches: list[dict[str, Any]]) -> dict[str, Any]:
        """Load the spooled batches into DuckDB, one transaction per batch, and emit the
        `newsevents://duckdb/raw_pages` Asset. A batch loaded by an earlier try is skipped."""
        from pipeline.run import load_spools, store_name

        batches = batches[:]  # one request for all mapped results; iterating asks once more
        settings = load_settings()
        result = load_spools([b["spool"] for b in batches], settings)
        pages = sum(b["pages"] for b in batches)
        summary = {**result, "pages": pages, "runs": [b["run_id"] for b in batches]}
        get_current_context()["outlet_events"][RAW_ARTICLES].extra = summary
        log.info("loaded into %s: %s", store_name(settings), summary)
        return summary

    # A mapped task does not take its doc_md from the docstring: pass it explicitly.
    ingest = ingest_feed.override(doc_md=ingest_feed.function.__doc__)
    load_raw_pages(ingest.expand(feed=read_registry()))


news_ingest()
