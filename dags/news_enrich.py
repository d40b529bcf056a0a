"""
### news_enrich: extract, tag and code the raw pages that are waiting

Scheduled on the Asset `newsevents://duckdb/raw_pages`, not on a clock: it runs each time
`news_ingest` has loaded raw pages. Asset events that arrive while a run is active are
queued, and one run then handles all of them, because it works from what is waiting in
the database, never from the triggering event.

Tasks, and what each passes on in XCom (ids, counts and paths only):

- `enrich_waiting` reads the raw pages waiting in DuckDB (`enriched_at is null`, oldest
  first, at most 5,000 per run) on a read-only connection; extracts their text
  (trafilatura), marks duplicates, tags entities (spaCy) and codes events; and writes the
  batch to the spool. XCom: the run id, the spool path, and the pages, articles and
  events.
- `load_events` loads the batch in one transaction, in the pool `duckdb_writer`, marks
  its pages enriched, and emits the Asset `newsevents://duckdb/events`. XCom: the batch
  loaded or skipped, and the counts.

**Idempotency.** The batch is loaded in one transaction: articles are upserted on
`article_id`, and an article's entities and events are replaced as a whole. A failed or
killed load leaves none of the batch, and its pages stay waiting; a retried load loads
it whole, and a batch already loaded is skipped. A re-run finds nothing waiting. After a
change of the coding rules, `newsevents enrich --all` re-codes every stored page.

spaCy is imported when `enrich_waiting` runs, never when the DAG is parsed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from _newsevents import DEFAULT_ARGS, DUCKDB_POOL, NEW_EVENTS, RAW_ARTICLES, TAGS, load_settings
from airflow.sdk import dag, get_current_context, task

log = logging.getLogger(__name__)


@dag(
    dag_id="news_enrich",
    schedule=[RAW_ARTICLES],
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # two runs would tag the same waiting pages twice
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "enrich"],
    doc_md=__doc__,
)
def news_enrich() -> None:
    @task(execution_timeout=timedelta(hours=1))
    def enrich_waiting() -> dict[str, Any]:
        """Extract, deduplicate, tag and code the raw pages waiting in DuckDB (read
        only), at most 5,000 per run, and write the batch to the spool. About 6 articles
        per CPU-second with the default spaCy model. Returns the run id, the spool path
        and the counts."""
        from pipeline.run import enrich_waiting_to_spool

        result = enrich_waiting_to_spool(load_settings())
        log.info("enriched: %s", result)
        return result

    @task(pool=DUCKDB_POOL, outlets=[NEW_EVENTS], execution_timeout=timedelta(minutes=15))
    def load_events(batch: dict[str, Any]) -> dict[str, Any]:
        """Load the enriched batch into DuckDB in one transaction and emit the
        `newsevents://duckdb/events` Asset. A batch loaded by an earlier try is skipped."""
        from pipeline.run import load_spools, store_name

        settings = load_settings()
        result = load_spools([batch["spool"]], settings)
        summary = {**result, **{k: batch[k] for k in ("run_id", "pages", "articles", "events")}}
        get_current_context()["outlet_events"][NEW_EVENTS].extra = summary
        log.info("loaded into %s: %s", store_name(settings), summary)
        return summary

    load_events(enrich_waiting())


news_enrich()
