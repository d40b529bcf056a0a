"""Store: the only module that talks to DuckDB.

A pass never writes row by row. It first writes its whole batch to a spool directory
(newline-delimited JSON, one file per table) next to the database, then loads the spool in
one transaction with upserts keyed on stable ids, then deletes the spool. So:

* a crash mid-load leaves either all of the batch or none of it (DuckDB rolls back);
* a database locked by an analyst's session costs nothing: the spool waits, and the next
  pass (or `newsevents load-spool`) loads it;
* re-loading the same rows changes nothing (upserts on article_id, event_id, ...).

DuckDB allows one read-write process and no readers beside it, so the pipeline holds the
write lock only for the short load, never while fetching or tagging.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

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

log = logging.getLogger(__name__)


class DatabaseLocked(RuntimeError):
    """Another process holds the DuckDB file. The message says what to do."""


class SchemaError(RuntimeError):
    pass


def sql_dir() -> Path:
    return Path(str(resources.files("pipeline.sql")))


def connect(
    db_path: str | Path, *, read_only: bool = False, lock_timeout_s: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the database, waiting up to lock_timeout_s for another process's lock."""
    db_path = Path(db_path)
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    elif not db_path.exists():
        raise FileNotFoundError(f"no database at {db_path}; run `newsevents run` or `demo` first")
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(db_path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLocked(
                    f"{db_path} is locked by another process ({exc}). DuckDB allows one "
                    "writer and no readers beside it: close other sessions on this file "
                    "(e.g. a duckdb shell or notebook), then retry."
                ) from exc
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0)
    con.execute("set TimeZone = 'UTC'")
    return con


def _migrations() -> list[tuple[int, str, str]]:
    out = []
    for path in sorted((sql_dir() / "migrations").glob("*.sql")):
        number = path.name.split("_", 1)[0]
        if not number.isdigit():
            raise SchemaError(f"migration file {path.name} must start with a number: NNNN_name.sql")
        out.append((int(number), path.stem, path.read_text(encoding="utf-8")))
    return out


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations in order, each with its record in one transaction, then
    (re)create the analyst views. Returns the names of the migrations applied."""
    con.execute(
        "create table if not exists schema_migrations ("
        "version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied: list[str] = []
    for version, name, sql in _migrations():
        if version in done:
            continue
        con.execute("begin transaction")
        try:
            con.execute(sql)
            con.execute(
                "insert into schema_migrations values (?, ?, ?)",
                [version, name, datetime.now(UTC)],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(name)
    for path in sorted((sql_dir() / "views").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


def open_db(db_path: str | Path, lock_timeout_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    con = connect(db_path, lock_timeout_s=lock_timeout_s)
    migrate(con)
    return con


# --- batches and the spool ---------------------------------------------------------------


@dataclass
class Batch:
    """Everything one pass writes. Rows are plain dicts keyed by column name."""

    run: dict[str, Any]
    feeds: list[dict[str, Any]] = field(default_factory=list)
    fetch_log: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    raw_pages: list[dict[str, Any]] = field(default_factory=list)
    raw_done: list[dict[str, Any]] = field(default_factory=list)  # {url, enriched_at}
    tagged: list[str] = field(
        default_factory=list
    )  # article ids whose entities, places and events are replaced

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


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


def article_row(run_id: str, article: Article, summary: str | None) -> dict[str, Any]:
    row = dataclasses.asdict(article)
    row.update(run_id=run_id, summary=summary, first_seen_at=article.fetched_at)
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


def event_row(event: Event) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": f"{event.article_id}-{event.event_idx}",
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


_TABLES = ("feeds", "fetch_log", "raw_pages", "raw_done", "articles", "entities", "places",
           "events")  # fmt: skip


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_spool(batch: Batch, spool_dir: Path) -> Path:
    """Write a batch to spool_dir/<run_id>/ atomically (write, then rename)."""
    final = spool_dir / batch.run_id
    tmp = spool_dir / f".{batch.run_id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for table in _TABLES:
        with (tmp / f"{table}.jsonl").open("w", encoding="utf-8") as handle:
            for row in getattr(batch, table):
                handle.write(json.dumps(row, default=_json_default, ensure_ascii=False) + "\n")
    meta = {"run": batch.run, "tagged": batch.tagged}
    (tmp / "run.json").write_text(json.dumps(meta, default=_json_default), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def pending_spools(spool_dir: Path) -> list[Path]:
    if not spool_dir.exists():
        return []
    return sorted(p for p in spool_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


# Column types for read_json: the spool files are typed by these, not by inference.
_COLUMNS: dict[str, dict[str, str]] = {
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
        "fetched_at": "timestamptz", "run_id": "varchar",
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

_ARTICLE_UPDATE = [c for c in _COLUMNS["articles"] if c not in {"article_id", "first_seen_at"}]

_LOAD_SQL = {
    "feeds": """
        insert into feeds as f (name, url, outlet, country, language, enabled, first_seen_at,
            last_fetched_at, last_success_at, last_status, last_error, consecutive_failures,
            last_entry_count, etag, last_modified)
        select name, url, outlet, country, language, enabled, fetched_at, fetched_at,
            case when ok then fetched_at end, status, error,
            case when ok then 0 else 1 end, case when ok and status <> 304 then entries end,
            etag, last_modified
        from {src}
        on conflict (name) do update set
            url = excluded.url, outlet = excluded.outlet, country = excluded.country,
            language = excluded.language, enabled = excluded.enabled,
            last_fetched_at = excluded.last_fetched_at,
            last_success_at = coalesce(excluded.last_success_at, f.last_success_at),
            last_status = excluded.last_status, last_error = excluded.last_error,
            consecutive_failures = case when excluded.consecutive_failures = 0 then 0
                                        else f.consecutive_failures + 1 end,
            last_entry_count = coalesce(excluded.last_entry_count, f.last_entry_count),
            -- a 304 or a failure keeps the validators of the last full response
            etag = coalesce(excluded.etag, f.etag),
            last_modified = coalesce(excluded.last_modified, f.last_modified)
    """,
    # A page fetched again replaces the stored one; enriched_at comes with the batch (null:
    # waiting for the enrich stage).
    "raw_pages": "insert into raw_pages select url, article_id, feed, link, final_url, "
    "status, content_type, from_base64(body_b64), fetched_at, entry_title, entry_summary, "
    "entry_published_at, run_id, enriched_at from {src} on conflict (url) do update set "
    + ", ".join(
        f"{c} = excluded.{c}"
        for c in [
            "article_id",
            "feed",
            "link",
            "final_url",
            "status",
            "content_type",
            "body",
            "fetched_at",
            "entry_title",
            "entry_summary",
            "entry_published_at",
            "run_id",
            "enriched_at",
        ]
    ),
    "raw_done": "update raw_pages set enriched_at = d.enriched_at from {src} d "
    "where raw_pages.url = d.url",
    # The fetch log is append-only; its key makes a re-loaded spool a no-op.
    "fetch_log": "insert into fetch_log by name select * from {src} on conflict do nothing",
    # Articles are keyed on the canonical URL's hash: a re-run updates, never duplicates,
    # and keeps first_seen_at.
    "articles": "insert into articles by name select * from {src} on conflict (article_id) "
    "do update set " + ", ".join(f"{c} = excluded.{c}" for c in _ARTICLE_UPDATE),
    "entities": "insert into entities by name select * from {src}",
    "places": "insert into places by name select * from {src}",
    "events": "insert into events by name select * from {src}",
}


def _source(path: Path, table: str) -> str:
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in _COLUMNS[table].items()) + "}"
    literal = str(path).replace("'", "''")
    return (
        f"read_json('{literal}', format = 'newline_delimited', columns = {columns}, "
        "timestampformat = 'auto')"
    )


def load_spool(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Load one spooled batch in a single transaction, then delete it.

    Returns False (and deletes the spool) if that run was already loaded.
    """
    meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
    run, tagged = meta["run"], meta["tagged"]
    if con.execute("select 1 from runs where run_id = ?", [run["run_id"]]).fetchall():
        shutil.rmtree(path, ignore_errors=True)
        return False
    con.execute("begin transaction")
    try:
        if tagged:
            con.execute("create or replace temp table _tagged (article_id varchar)")
            con.executemany("insert into _tagged values (?)", [[t] for t in tagged])
            con.execute("delete from entities where article_id in (select * from _tagged)")
            con.execute("delete from places where article_id in (select * from _tagged)")
            con.execute("delete from events where article_id in (select * from _tagged)")
        for table in _TABLES:
            file = path / f"{table}.jsonl"
            if file.stat().st_size == 0:
                continue
            con.execute(_LOAD_SQL[table].format(src=_source(file, table)))
        # The per-day rollup is rebuilt with every load, on every path (a pass, Airflow,
        # load-spool), so it always matches the events it summarises.
        rebuild_daily_summary(con)
        columns = list(run)
        con.execute(
            f"insert into runs ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
            [run[c] for c in columns],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    shutil.rmtree(path, ignore_errors=True)
    return True


def rebuild_daily_summary(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild daily_summary whole (sql/derived/daily_summary.sql), in the caller's
    transaction."""
    con.execute((sql_dir() / "derived" / "daily_summary.sql").read_text(encoding="utf-8"))


def load_pending(con: duckdb.DuckDBPyConnection, spool_dir: Path) -> list[str]:
    """Load every waiting batch, oldest first. Returns the run ids loaded."""
    loaded = []
    for path in pending_spools(spool_dir):
        if load_spool(con, path):
            loaded.append(path.name)
    return loaded


# --- reading -----------------------------------------------------------------------------


def known_articles(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Canonical URLs already fetched (stored as articles, or waiting as raw pages), with
    when they were last fetched: a pass does not fetch them again unless the feed says
    the entry was updated since."""
    rows = con.execute(
        "select url, max(fetched_at) from (select url, fetched_at from articles "
        "union all select url, fetched_at from raw_pages) group by url"
    ).fetchall()
    return {url: when for url, when in rows}


def mark_all_waiting(con: duckdb.DuckDBPyConnection) -> int:
    """Queue every raw page for extraction and tagging again (after a rules change)."""
    rows = con.execute(
        "update raw_pages set enriched_at = null where enriched_at is not null returning url"
    ).fetchall()
    return len(rows)


def waiting_pages(con: duckdb.DuckDBPyConnection, limit: int) -> list[dict[str, Any]]:
    """Raw pages not yet extracted and tagged, oldest first."""
    cursor = con.execute(
        "select * from raw_pages where enriched_at is null order by fetched_at, url limit ?",
        [limit],
    )
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def feed_validators(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    """ETag and Last-Modified per feed name, for conditional GETs."""
    rows = con.execute("select name, etag, last_modified from feeds").fetchall()
    return {name: (etag, modified) for name, etag, modified in rows}


def feed_settings(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    """Feed name -> (language, country), as the last pass recorded them."""
    rows = con.execute("select name, language, country from feeds").fetchall()
    return {name: (language, country) for name, language, country in rows}


def known_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "select content_hash, min(article_id) from articles where status = 'ok' "
        "and duplicate_of is null group by content_hash"
    ).fetchall()
    return {h: a for h, a in rows}


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(sql, params or [])
    if cursor.description is None:
        return [], []
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ("feeds", "articles", "entities", "places", "events", "runs", "fetch_log",
              "raw_pages")  # fmt: skip
    return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}


def run_checks(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Run every data-quality check in sql/checks/. Returns the failing ones and their rows."""
    failures: dict[str, list[tuple[Any, ...]]] = {}
    for path in sorted((sql_dir() / "checks").glob("*.sql")):
        rows = con.execute(path.read_text(encoding="utf-8")).fetchall()
        if rows:
            failures[path.stem] = rows
    return failures
