"""The stored tables as the pipeline writes them: columns, keys, and record-to-row mapping.

This is the one place that lists a batch's columns. The migrations in sql/migrations/
create the tables; the spool is typed by `COLUMNS`; the loads (`pipeline.store.sql`)
are generated from `TABLES`. A test checks that every column here exists in a migrated
database with a matching type, so a migration that forgets one fails there.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.dedup import article_id
from pipeline.records import (
    Article,
    Entity,
    Event,
    FeedEntry,
    FeedHealth,
    FetchLogRow,
    Page,
    PlaceMention,
)  # fmt: skip


def feed_row(health: FeedHealth, when: datetime) -> dict[str, Any]:
    f = health.feed
    return {
        "name": f.name,
        "url": f.url,
        "outlet": f.outlet,
        "country": f.country,
        "language": f.language,
        "enabled": f.enabled,
        "fetched_at": when,
        "ok": health.ok,
        "status": health.status,
        "error": health.error,
        "entries": health.entries,
        "etag": health.etag,
        "last_modified": health.last_modified,
    }


def fetch_log_row(run_id: str, row: FetchLogRow) -> dict[str, Any]:
    return {"run_id": run_id, **dataclasses.asdict(row)}


def article_row(
    run_id: str, article: Article, summary: str | None, coder_version: str
) -> dict[str, Any]:
    """An articles row. `coder_version`: the coder of the run that extracted it, also for an
    article it had nothing to code in (what `newsevents reprocess` compares)."""
    row = dataclasses.asdict(article)
    row.update(run_id=run_id, summary=summary, first_seen_at=article.fetched_at,
               coder_version=coder_version)  # fmt: skip
    return row


def raw_page_row(
    run_id: str, entry: FeedEntry, page: Page, enriched_at: datetime | None
) -> dict[str, Any]:
    return {
        "url": entry.url,
        "article_id": article_id(entry.url),
        "feed": entry.feed,
        "link": entry.link,
        "final_url": page.final_url,
        "status": page.status,
        "content_type": page.content_type,
        "body_b64": base64.b64encode(page.body).decode("ascii"),
        "fetched_at": page.fetched_at,
        "entry_title": entry.title,
        "entry_summary": entry.summary,
        "entry_published_at": entry.published_at,
        "run_id": run_id,
        "enriched_at": enriched_at,
    }


def entity_row(entity: Entity) -> dict[str, Any]:
    return dataclasses.asdict(entity)


def place_row(place: PlaceMention) -> dict[str, Any]:
    return dataclasses.asdict(place)


_EVENT_FIELDS = [
    "trigger",
    "trigger_start",
    "trigger_end",
    "cameo_code",
    "root_code",
    "root_name",
    "plover",
    "quad_class",
    "goldstein",
    "modality",
    "confidence",
    "event_date",
    "date_source",
    "date_precision",
    "location",
    "location_country",
    "latitude",
    "longitude",
    "location_precision",
    "location_source",
    "location_geonames_id",
    "location_place_idx",
    "coder_version",
    "is_primary",
    "flags",
    "rule_id",
]


def event_row(event: Event, event_id: str) -> dict[str, Any]:
    """An events row; `event_id` from pipeline.dedup.event_ids over the article's events."""
    row: dict[str, Any] = {
        "event_id": event_id,
        "article_id": event.article_id,
        "event_idx": event.event_idx,
        "sentence_idx": event.sentence_idx,
        "sentence": event.sentence,
    }
    for role, actor in (("source", event.source), ("target", event.target)):
        for name in ("text", "name", "code", "country", "sector", "start_char", "end_char"):
            column = {"code": "actor", "start_char": "start", "end_char": "end"}.get(name, name)
            row[f"{role}_{column}"] = getattr(actor, name) if actor is not None else None
    for name in _EVENT_FIELDS:
        row[name] = getattr(event, name)
    row["flags"] = list(event.flags)
    return row


# Column types of the spool files (read_json is given these, not left to infer them).
COLUMNS: dict[str, dict[str, str]] = {
    "feeds": {
        "name": "varchar", "url": "varchar", "outlet": "varchar", "country": "varchar",
        "language": "varchar", "enabled": "boolean", "fetched_at": "timestamptz",
        "ok": "boolean", "status": "integer", "error": "varchar", "entries": "integer",
        "etag": "varchar", "last_modified": "varchar",
    },
    "raw_pages": {
        "url": "varchar", "article_id": "varchar", "feed": "varchar", "link": "varchar",
        "final_url": "varchar", "status": "integer", "content_type": "varchar",
        "body_b64": "varchar", "fetched_at": "timestamptz", "entry_title": "varchar",
        "entry_summary": "varchar", "entry_published_at": "timestamptz", "run_id": "varchar",
        "enriched_at": "timestamptz",
    },
    "raw_done": {"url": "varchar", "enriched_at": "timestamptz"},
    "fetch_log": {
        "run_id": "varchar", "url": "varchar", "feed": "varchar", "kind": "varchar",
        "status": "integer", "bytes": "bigint", "duration_ms": "integer",
        "fetched_at": "timestamptz", "final_url": "varchar", "content_type": "varchar",
        "error_class": "varchar", "error": "varchar", "retries": "integer",
    },
    "articles": {
        "article_id": "varchar", "url": "varchar", "final_url": "varchar", "feed": "varchar",
        "title": "varchar", "body": "varchar", "author": "varchar",
        "published_at": "timestamptz", "date_source": "varchar", "site_name": "varchar",
        "language": "varchar", "summary": "varchar", "status": "varchar",
        "status_detail": "varchar", "word_count": "integer", "content_hash": "varchar",
        "duplicate_of": "varchar", "first_seen_at": "timestamptz",
        "fetched_at": "timestamptz", "run_id": "varchar", "coder_version": "varchar",
    },
    "entities": {
        "article_id": "varchar", "entity_idx": "integer", "text": "varchar", "norm": "varchar",
        "label": "varchar", "start_char": "integer", "end_char": "integer",
        "sentence_idx": "integer",
    },
    "places": {
        "article_id": "varchar", "place_idx": "integer", "text": "varchar", "label": "varchar",
        "start_char": "integer", "end_char": "integer", "sentence_idx": "integer",
        "geonames_id": "bigint", "name": "varchar", "feature_code": "varchar",
        "admin1": "varchar", "admin2": "varchar", "country": "varchar",
        "latitude": "double", "longitude": "double", "precision": "varchar",
        "method": "varchar", "confidence": "double", "reason": "varchar",
        "n_candidates": "integer",
    },
    "events": {
        "event_id": "varchar", "article_id": "varchar", "event_idx": "integer",
        "sentence_idx": "integer", "sentence": "varchar",
        "source_text": "varchar", "source_name": "varchar", "source_actor": "varchar",
        "source_country": "varchar", "source_sector": "varchar", "source_start": "integer",
        "source_end": "integer", "target_text": "varchar", "target_name": "varchar",
        "target_actor": "varchar", "target_country": "varchar", "target_sector": "varchar",
        "target_start": "integer", "target_end": "integer", "trigger": "varchar",
        "trigger_start": "integer", "trigger_end": "integer", "cameo_code": "varchar",
        "root_code": "varchar", "root_name": "varchar", "plover": "varchar",
        "quad_class": "integer", "goldstein": "double", "modality": "varchar",
        "confidence": "double", "event_date": "date", "date_source": "varchar",
        "date_precision": "varchar", "location": "varchar", "location_country": "varchar",
        "latitude": "double", "longitude": "double", "location_precision": "varchar",
        "location_source": "varchar", "location_geonames_id": "bigint",
        "location_place_idx": "integer", "coder_version": "varchar",
        "is_primary": "boolean", "flags": "varchar[]", "rule_id": "varchar",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Table:
    """How a batch's rows reach one table.

    mode: upsert (MERGE on `key`, updating every column but `key` and `keep`), add_new
    (insert rows whose key is not stored yet: an append-only log), replace (the rows of
    re-tagged articles are deleted first, then inserted), or custom (hand-written SQL in
    pipeline.store.sql)."""

    name: str
    key: tuple[str, ...]
    mode: str
    keep: tuple[str, ...] = ()


# In load order. Keys are what makes a re-run or a re-loaded batch leave the same rows: the
# DuckDB file also declares them as primary keys; DuckLake has none, so the MERGE keeps them.
TABLES = (
    Table("feeds", ("name",), "custom"),
    Table("fetch_log", ("run_id", "url", "kind"), "add_new"),
    Table("raw_pages", ("url",), "upsert"),
    Table("raw_done", ("url",), "custom"),
    Table("articles", ("article_id",), "upsert", keep=("first_seen_at",)),
    Table("entities", ("article_id", "entity_idx"), "replace"),
    Table("places", ("article_id", "place_idx"), "replace"),
    Table("events", ("event_id",), "replace"),
)
TABLE_NAMES = tuple(t.name for t in TABLES)

# Spool columns stored under another name or form: raw bodies travel as base64 text.
STORED_AS = {("raw_pages", "body_b64"): ("body", "from_base64(body_b64)")}


def stored_columns(table: str) -> list[str]:
    """The table's column names in the database, in spool order."""
    return [STORED_AS.get((table, c), (c, c))[0] for c in COLUMNS[table]]


def select_list(table: str) -> str:
    """The spool's columns as the table stores them (for `select ... from <spool>`)."""
    out = []
    for column in COLUMNS[table]:
        name, expr = STORED_AS.get((table, column), (column, column))
        out.append(expr if expr == name else f"{expr} as {name}")
    return ", ".join(out)
