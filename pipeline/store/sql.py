"""The SQL both backends run, over a DuckDB connection whose default catalog is the store.

The DuckDB file and a DuckLake attached with `use` take the same statements: migrations
(with primary keys, indexes and list defaults removed for DuckLake, which has none),
MERGE upserts generated from `pipeline.store.schema.TABLES`, the analyst views, the checks
and the saved queries. Nothing here opens a connection; the backends do.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline.store import derived
from pipeline.store.files import Connection, sql_dir, sql_file
from pipeline.store.schema import COLUMNS, TABLES, Table, select_list, stored_columns
from pipeline.store.spool import SpooledBatch


class SchemaError(RuntimeError):
    pass


# --- schema --------------------------------------------------------------------------------


def _migrations() -> list[tuple[int, str, str]]:
    out = []
    for path in sorted((sql_dir() / "migrations").glob("*.sql")):
        number = path.name.split("_", 1)[0]
        if not number.isdigit():
            raise SchemaError(f"migration file {path.name} must start with a number: NNNN_name.sql")
        out.append((int(number), path.stem, path.read_text(encoding="utf-8")))
    return out


_COMMENT = re.compile(r"--[^\n]*")


def lake_ddl(sql: str) -> str:
    """A migration as DuckLake takes it: no primary keys, indexes or list defaults (DuckLake
    has none of them), and boolean defaults as text, the only form of them it takes. The
    keys live on in the MERGE statements of the loads."""
    sql = _COMMENT.sub("", sql)
    sql = re.sub(r",\s*primary key\s*\([^)]*\)", "", sql, flags=re.I)
    sql = re.sub(r"\s+primary key\b", "", sql, flags=re.I)
    sql = re.sub(r"create\s+index[^;]*;", "", sql, flags=re.I)
    sql = re.sub(r"\bdefault\s+(true|false)\b", r"default '\1'", sql, flags=re.I)
    return re.sub(r"\s+default\s+\[\s*\]", "", sql, flags=re.I)


def _views_sql() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((sql_dir() / "views").glob("*.sql"))
    )


def migrate(con: Connection, *, lake: bool = False) -> list[str]:
    """Apply pending migrations in order, each with its record in one transaction; give a
    new store its identity; and (re)create the analyst views when their SQL changed.
    Returns the names of the migrations applied."""
    con.execute(
        "create table if not exists schema_migrations ("
        "version integer not null, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied: list[str] = []
    for version, name, sql in _migrations():
        if version in done:
            continue
        with transaction(con):
            con.execute(lake_ddl(sql) if lake else sql)
            con.execute(
                "insert into schema_migrations values (?, ?, ?)",
                [version, name, datetime.now(UTC)],
            )
        applied.append(name)
    info = dict(con.execute("select key, value from store_info").fetchall())
    views = _views_sql()
    digest = hashlib.sha256(views.encode()).hexdigest()
    if "store_id" in info and info.get("views_sha256") == digest and not applied:
        return applied
    with transaction(con):
        if "store_id" not in info:
            con.execute("insert into store_info values ('store_id', cast(uuid() as varchar))")
            con.execute("insert into store_info values ('last_load', null)")
        con.execute(views)
        con.execute("delete from store_info where key = 'views_sha256'")
        con.execute("insert into store_info values ('views_sha256', ?)", [digest])
    return applied


@contextlib.contextmanager
def transaction(con: Connection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        # A failed commit has already ended the transaction; its error is the one to raise.
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("rollback")
        raise


def store_id(con: Connection) -> str:
    rows = con.execute("select value from store_info where key = 'store_id'").fetchall()
    if not rows:
        raise SchemaError("this store has no identity yet: run `newsevents migrate`")
    return str(rows[0][0])


# --- loading -------------------------------------------------------------------------------


def _source(path: Path, table: str, only: Sequence[str] | None = None) -> str:
    """read_json of a spool file, typed by schema.COLUMNS; with `only`, just those columns
    (the reader then skips the others' values instead of building them)."""
    wanted = {k: v for k, v in COLUMNS[table].items() if only is None or k in only}
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in wanted.items()) + "}"
    literal = str(path).replace("'", "''")
    return (
        f"read_json('{literal}', format = 'newline_delimited', columns = {columns}, "
        "timestampformat = 'auto')"
    )


def _on(table: Table) -> str:
    return " and ".join(f"t.{k} = s.{k}" for k in table.key)


def _distinct(table: Table, src: str) -> str:
    """The spool's rows, one per key (a MERGE must not see a key twice)."""
    return f"(select distinct on ({', '.join(table.key)}) {select_list(table.name)} from {src})"


def load_statement(table: Table, src: str) -> str:
    """The statement that loads one spool file into its table."""
    columns = stored_columns(table.name)
    values = ", ".join(f"s.{c}" for c in columns)
    insert = f"when not matched then insert ({', '.join(columns)}) values ({values})"
    if table.mode == "upsert":
        updates = ", ".join(
            f"{c} = s.{c}" for c in columns if c not in table.key and c not in table.keep
        )
        return (
            f"merge into {table.name} as t using {_distinct(table, src)} as s on {_on(table)} "
            f"when matched then update set {updates} {insert}"
        )
    if table.mode == "add_new":
        return (
            f"merge into {table.name} as t using {_distinct(table, src)} as s "
            f"on {_on(table)} {insert}"
        )
    if table.mode == "replace":  # the article's old rows were deleted first
        return (
            f"insert into {table.name} ({', '.join(columns)}) "
            f"select {select_list(table.name)} from {src}"
        )
    return sql_file("load", f"{table.name}.sql").format(src=src)


class _LoadedBefore(Exception):
    """The batch's run is in the runs table already."""


def _touched_articles(con: Connection, batch: SpooledBatch) -> None:
    """_touched: the articles whose rows this batch writes (re-tagged, or upserted)."""
    derived.temp_ids(con, "_touched", list(batch.tagged))
    for table in ("articles", "events"):
        file = batch.table_file(table)
        if file.exists() and file.stat().st_size:
            con.execute(
                "insert into _touched select distinct article_id from "
                f"{_source(file, table, only=['article_id'])}"
            )


def _load_rows(con: Connection, batch: SpooledBatch, *, attempts: int, lake: bool) -> None:
    _touched_articles(con, batch)
    touched = "article_id in (select article_id from _touched)"
    derived.touch_events(con, touched)  # the rollup rows of the events about to change
    if batch.tagged:
        derived.temp_ids(con, "_tagged", batch.tagged)
        for name in ("entities", "places", "events"):
            con.execute(f"delete from {name} where article_id in (select * from _tagged)")
    for table in TABLES:
        file = batch.table_file(table.name)
        if not file.exists() or file.stat().st_size == 0:
            continue
        con.execute(load_statement(table, _source(file, table.name)))
    # The derived tables are updated with every load, on every path (a pass, Airflow,
    # load-spool), so they always match what they summarise: stories and the rollup rows
    # this batch touched, and the per-day summary whole.
    derived.assign_stories(con)
    derived.touch_events(con, touched)
    derived.refresh(con)
    rebuild_daily_summary(con)
    _record_run(con, batch, attempts)
    if lake:  # the snapshot is named after its run: time travel by run id
        con.execute("call ducklake_set_commit_message('lake', 'newsevents', ?)", [batch.run_id])


INCOMPLETE = "incomplete"  # runs.status of a run whose last batch is not loaded yet


def _record_run(con: Connection, batch: SpooledBatch, attempts: int) -> None:
    """Record the batch in loads, and its run in runs: one row per run, which each batch
    of the run rewrites (its stats so far), but a batch that is not the run's last never
    overwrites the row its last batch wrote (loaded out of order by another process)."""
    con.execute(
        "insert into loads (batch_id, run_id, loaded_at, load_attempts) values (?, ?, now(), ?)",
        [batch.batch_id, batch.run_id, attempts],
    )
    total = int(con.execute(
        "select sum(load_attempts) from loads where run_id = ?", [batch.run_id]
    ).fetchall()[0][0])  # fmt: skip
    final = batch.run["status"] != INCOMPLETE
    stored = con.execute("select status from runs where run_id = ?", [batch.run_id]).fetchall()
    if stored and stored[0][0] != INCOMPLETE and not final:
        con.execute("update runs set load_attempts = ? where run_id = ?", [total, batch.run_id])
        return
    con.execute("delete from runs where run_id = ?", [batch.run_id])
    run = {**batch.run, "load_attempts": total}
    columns = list(run)
    con.execute(
        f"insert into runs ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
        [run[c] for c in columns],
    )


def load_batch(
    con: Connection, batch: SpooledBatch, *, attempts: int = 1, lake: bool = False
) -> bool:
    """Load one spooled batch in a single transaction. Returns False if that batch was
    already loaded (nothing is written). The caller deletes the spool."""
    try:
        with transaction(con):
            # The write fence: every load updates this one row, so two loads that overlap
            # in time conflict at commit (DuckLake), and one retries, seeing the other's rows.
            con.execute("update store_info set value = ? where key = 'last_load'",
                        [batch.batch_id])  # fmt: skip
            if con.execute("select 1 from loads where batch_id = ?", [batch.batch_id]).fetchall():
                raise _LoadedBefore
            _load_rows(con, batch, attempts=attempts, lake=lake)
    except _LoadedBefore:  # rolled back: nothing written, the fence included
        return False
    return True


def rebuild_daily_summary(con: Connection) -> None:
    """Rebuild daily_summary whole (sql/derived/daily_summary.sql), in the caller's
    transaction."""
    con.execute(sql_file("derived", "daily_summary.sql"))


def daily_totals(con: Connection) -> tuple[int, int]:
    days, events = con.execute(sql_file("reports", "daily_totals.sql")).fetchall()[0]
    return int(days), int(events)


def mark_all_waiting(con: Connection) -> int:
    """Queue every raw page for extraction and tagging again (after a rules change)."""
    with transaction(con):
        count = con.execute(
            "select count(*) from raw_pages where enriched_at is not null"
        ).fetchall()[0][0]
        con.execute("update raw_pages set enriched_at = null where enriched_at is not null")
    return int(count)


# --- reading -------------------------------------------------------------------------------


def known_articles(con: Connection) -> dict[str, datetime]:
    """Canonical URLs already fetched (stored as articles, or waiting as raw pages), with
    when they were last fetched: a pass does not fetch them again unless the feed says
    the entry was updated since."""
    rows = con.execute(
        "select url, max(fetched_at) from (select url, fetched_at from articles "
        "union all select url, fetched_at from raw_pages) group by url"
    ).fetchall()
    return {url: when for url, when in rows}


def waiting_pages(con: Connection, limit: int) -> list[dict[str, Any]]:
    """Raw pages not yet extracted and tagged, oldest first."""
    return _dicts(
        con.execute(
            "select * from raw_pages where enriched_at is null order by fetched_at, url limit ?",
            [limit],
        )
    )


def waiting_urls(con: Connection, limit: int) -> list[str]:
    """The URLs of the raw pages `waiting_pages` gives, without their bodies."""
    rows = con.execute(
        "select url from raw_pages where enriched_at is null order by fetched_at, url limit ?",
        [limit],
    ).fetchall()
    return [url for (url,) in rows]


def waiting_count(con: Connection) -> int:
    return int(
        con.execute("select count(*) from raw_pages where enriched_at is null").fetchall()[0][0]
    )


def reprocess_urls(
    con: Connection, *, since: datetime | None, feed: str | None, stale_for: str | None
) -> list[str]:
    """Stored pages to extract and code again, oldest first: fetched since `since`, of
    `feed`, and (with `stale_for`, the current coder version) only those whose article
    another coder version produced, or that have no article yet."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if since is not None:
        where.append("r.fetched_at >= ?")
        params.append(since)
    if feed is not None:
        where.append("r.feed = ?")
        params.append(feed)
    if stale_for is not None:
        where.append("a.coder_version is distinct from ?")
        params.append(stale_for)
    rows = con.execute(
        "select r.url from raw_pages as r left join articles as a using (article_id) "
        f"where {' and '.join(where)} order by r.fetched_at, r.url",
        params,
    ).fetchall()
    return [url for (url,) in rows]


def raw_pages_of(con: Connection, urls: Sequence[str]) -> list[dict[str, Any]]:
    """The stored pages of these URLs, in the order given."""
    rows = _dicts(con.execute("select * from raw_pages where list_contains(?, url)", [list(urls)]))
    order = {url: i for i, url in enumerate(urls)}
    return sorted(rows, key=lambda r: order[r["url"]])


def article_coder_versions(con: Connection) -> dict[str, str | None]:
    """Article id -> the coder version that last coded it."""
    return dict(con.execute("select article_id, coder_version from articles").fetchall())


def events_of(con: Connection, article_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The stored events of these articles, as rows."""
    return _dicts(
        con.execute("select * from events where list_contains(?, article_id)", [list(article_ids)])
    )


def feed_validators(con: Connection) -> dict[str, tuple[str | None, str | None]]:
    """ETag and Last-Modified per feed name, for conditional GETs."""
    rows = con.execute("select name, etag, last_modified from feeds").fetchall()
    return {name: (etag, modified) for name, etag, modified in rows}


def feed_settings(con: Connection) -> dict[str, tuple[str | None, str | None]]:
    """Feed name -> (language, country), as the last pass recorded them."""
    rows = con.execute("select name, language, country from feeds").fetchall()
    return {name: (language, country) for name, language, country in rows}


def known_hashes(con: Connection) -> dict[str, str]:
    rows = con.execute(
        "select content_hash, min(article_id) from articles where status = 'ok' "
        "and duplicate_of is null group by content_hash"
    ).fetchall()
    return {h: a for h, a in rows}


def _dicts(cursor: Connection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def run_query(
    con: Connection, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(sql, params or [])
    if cursor.description is None:
        return [], []
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


def run_report(
    con: Connection, name: str, params: dict[str, Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A report of sql/reports/, given those of `params` that its SQL names: DuckDB refuses
    a parameter that a statement does not use, and reports read together share one dict."""
    text = sql_file("reports", f"{name}.sql")
    named = set(_PARAMETER.findall(_COMMENT.sub("", text)))
    return run_query(con, text, {k: v for k, v in (params or {}).items() if k in named})


COUNTED = ("feeds", "articles", "entities", "places", "events", "runs", "fetch_log", "raw_pages")


def table_counts(con: Connection) -> dict[str, int]:
    return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in COUNTED}


def run_checks(con: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Run every data-quality check in sql/checks/. Returns the failing ones and their rows."""
    failures: dict[str, list[tuple[Any, ...]]] = {}
    for path in sorted((sql_dir() / "checks").glob("*.sql")):
        rows = con.execute(path.read_text(encoding="utf-8")).fetchall()
        if rows:
            failures[path.stem] = rows
    return failures


def check_names() -> list[str]:
    return sorted(p.stem for p in (sql_dir() / "checks").glob("*.sql"))
