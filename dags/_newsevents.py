"""What the newsevents DAG files share: the Assets, the DuckDB writer pool and task defaults.

This module is imported when the DAG files are parsed, so it holds constants only. It does
no I/O, and it does not import `pipeline` (which pulls in DuckDB, trafilatura and spaCy):
task bodies import what they need when they run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException

if TYPE_CHECKING:
    from pipeline.config import Settings

# Raw article pages stored in DuckDB (table raw_pages). news_ingest produces it, news_enrich
# is scheduled on it.
RAW_ARTICLES = Asset(
    name="newsevents_raw_pages", uri="newsevents://duckdb/raw_pages", group="newsevents"
)
# Articles, entities and events loaded into DuckDB. news_enrich produces it, news_daily is
# scheduled on it.
NEW_EVENTS = Asset(name="newsevents_events", uri="newsevents://duckdb/events", group="newsevents")

# DuckDB allows one read-write process at a time: every task that writes the database takes
# the single slot of this pool. `make airflow` and the compose init service create it.
DUCKDB_POOL = "duckdb_writer"

TAGS = ["newsevents"]

# Retries back off exponentially from 30 s (30-60 s, then 60-120 s, then 120-240 s, with
# Airflow's jitter). Transient failures are the database lock held by another process past
# NEWS_LOCK_TIMEOUT, a full disk, a killed worker. Problems a retry cannot fix (bad
# settings, a bad feed registry, a failing data-quality check) raise AirflowFailException
# and fail at once. Each task also sets its own execution_timeout.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newsevents",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


def load_settings() -> Settings:
    """The pipeline settings (NEWS_* variables, NEWS_CONFIG), read when a task runs.

    A bad setting will not fix itself on retry, so it fails the task at once."""
    from pipeline.config import ConfigError
    from pipeline.config import load_settings as _load

    try:
        return _load()
    except ConfigError as exc:
        raise AirflowFailException(f"newsevents settings: {exc}") from exc
