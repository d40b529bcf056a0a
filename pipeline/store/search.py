"""Full-text search over usable articles: DuckDB's fts extension, BM25 over title and body.

The index is a table, `search.article_text` (the usable articles' text, from
`sql/search/source.sql`), and the schema `fts_search_article_text` that `pragma
create_fts_index` builds from it (terms, dictionary, statistics, and the `match_bm25`
macro). fts itself can only build an index whole, which costs seconds per 10,000 articles
(docs/PERFORMANCE.md): too much to pay on every load as the store grows. So it is built
whole once (the first load, `newsevents reindex`), and after that each load brings it up
to date in place, indexing only the articles it added or changed and dropping those no
longer usable (`sql/search/update.sql`), which leaves the index as a full build would
(tests/test_search.py compares them). That happens once per load, after all its
batches, and only when the usable articles changed: their fingerprint
(`sql/search/fingerprint.sql`) is recorded beside the index.

Where it lives is the backend's business (`Store.refresh_search_index`,
`Store._search_reader`): inside the DuckDB file, so its published copy carries it and
analysts call `fts_search_article_text.match_bm25(article_id, 'rare earth')` in plain SQL;
in a DuckDB file of its own beside a DuckLake store, whose catalog cannot hold fts's
tables and macros. The search itself runs the same statements on either.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.store.sql import Connection, sql_file, transaction

SCHEMA = "search"  # the index's own tables: search.article_text, search.index_info
TABLE = f"{SCHEMA}.article_text"  # the usable articles' text, as indexed
FTS_SCHEMA = "fts_search_article_text"  # what create_fts_index names the index of TABLE


class SearchIndexMissing(RuntimeError):
    """The store has no search index yet. The message says how to build one."""


@dataclass
class Hit:
    article_id: str
    score: float
    title: str
    published_at: datetime | None
    feed: str
    url: str
    snippet: str
    events_of: str
    events: list[dict[str, Any]] = field(default_factory=list)  # the top few
    n_events: int = 0  # all factual events of the article
    copies: int = 0  # other articles of its story (reprints) that match too


@dataclass
class SearchResult:
    query: str
    terms: list[str]  # the query's stemmed terms that the index knows
    hits: list[Hit]
    indexed: int  # usable articles in the index
    built_at: datetime | None
    stale: bool  # the store's usable articles changed since the index was built


def load_fts(con: Connection) -> None:
    """The fts extension, offline, from its PyPI package (duckdb-extension-fts)."""
    from pipeline.store.ducklake import load_extension  # ducklake imports base, base this

    load_extension(con, "fts")


def fingerprint(con: Connection) -> tuple[int, int]:
    """(fingerprint, count) of the usable articles of the store con's default catalog."""
    value, count = con.execute(sql_file("search", "fingerprint.sql")).fetchall()[0]
    return int(value), int(count)


def index_info(con: Connection) -> dict[str, Any] | None:
    """What the index in con's default catalog was built from, or None without one."""
    # Asked first, not tried: a missing table would send DuckDB's Python client looking
    # for a Python object of that name (a replacement scan). All three, or no index.
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and (schema_name, table_name) in ((?, 'index_info'), (?, 'article_text'), (?, 'dict'))",
        [SCHEMA, SCHEMA, FTS_SCHEMA],
    ).fetchall()[0][0]  # fmt: skip
    if found < 3:
        return None
    rows = con.execute(
        f"select fingerprint, articles, built_at from {SCHEMA}.index_info"
    ).fetchall()
    if not rows:
        return None
    value, articles, built_at = rows[0]
    return {"fingerprint": int(value), "articles": int(articles), "built_at": built_at}


def _record(con: Connection, value: int, count: int) -> dict[str, Any]:
    built_at = datetime.now(UTC)
    con.execute(
        f"create or replace table {SCHEMA}.index_info (fingerprint hugeint, "
        "articles bigint, built_at timestamptz)"
    )
    con.execute(f"insert into {SCHEMA}.index_info values (?, ?, ?)", [value, count, built_at])
    return {"fingerprint": value, "articles": count, "built_at": built_at}


@contextlib.contextmanager
def _in(con: Connection, catalog: str | None) -> Iterator[None]:
    """Run the block with `catalog` as con's default catalog (None: leave it)."""
    if not catalog:
        yield
        return
    home = con.execute("select current_database()").fetchall()[0][0]
    con.execute(f"use {catalog}")
    try:
        yield
    finally:
        con.execute(f"use {home}")


_TEMPS = ("_search_usable", "_search_source", "_search_indexed", "_search_add", "_search_drop",
          "_search_gone", "_search_new_docs", "_search_new_terms")  # fmt: skip


def _drop_temps(con: Connection) -> None:
    for name in _TEMPS:
        con.execute(f"drop table if exists temp.main.{name}")


def build(con: Connection, *, into: str | None = None) -> dict[str, Any]:
    """Build the whole index from the store that is con's default catalog, in one
    snapshot of it, into catalog `into` (default: the store itself), in one transaction
    there. `newsevents reindex`, and the first load."""
    load_fts(con)
    try:
        with transaction(con):  # the text and its fingerprint from one snapshot
            con.execute(sql_file("search", "usable.sql"))
            con.execute(sql_file("search", "source.sql"))
            value, count = fingerprint(con)
        with _in(con, into), transaction(con):
            con.execute(f"create schema if not exists {SCHEMA}")
            con.execute(
                f"create or replace table {TABLE} as select * from temp.main._search_source"
            )
            # The index of TABLE: the schema FTS_SCHEMA, named so by fts.
            con.execute(
                f"pragma create_fts_index('{TABLE}', 'article_id', 'title', 'body', overwrite = 1)"
            )
            return _record(con, value, count)
    finally:
        _drop_temps(con)


def can_update(con: Connection) -> bool:
    """The index in con's default catalog can be brought up to date in place: there is
    one, built by this version (its table has the columns that say what changed)."""
    if index_info(con) is None:
        return False
    columns = con.execute(
        "select count(*) from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = 'article_text' "
        "and column_name in ('content_hash', 'story')",
        [SCHEMA],
    ).fetchall()[0][0]  # fmt: skip
    return columns == 2


def update(con: Connection, *, into: str | None = None) -> dict[str, Any]:
    """Bring the index in catalog `into` (default: the store itself) up to date with the
    store that is con's default catalog, indexing only the articles that changed
    (sql/search/update.sql): its cost follows the load, not the store. One transaction
    there; the store read in one snapshot."""
    load_fts(con)
    try:
        with _in(con, into):
            con.execute(
                "create or replace temp table _search_indexed as select * exclude (body) "
                f"from {TABLE}"
            )
        with transaction(con):
            con.execute(sql_file("search", "usable.sql"))
            con.execute(sql_file("search", "changes.sql"))
            value, count = fingerprint(con)
        with _in(con, into), transaction(con):
            con.execute(sql_file("search", "update.sql"))
            return _record(con, value, count)
    finally:
        _drop_temps(con)


def refresh(con: Connection, *, into: str | None = None, force: bool = False) -> dict[str, Any]:
    """Update the index in place where it can be, else (or with force) build it whole."""
    with _in(con, into):
        incremental = not force and can_update(con)
    return update(con, into=into) if incremental else build(con, into=into)


def is_current(store: Connection, index: Connection) -> bool:
    """The index (in index's default catalog) holds what the store would put in it."""
    info = index_info(index)
    return info is not None and info["fingerprint"] == fingerprint(store)[0]


def find_hits(
    con: Connection, query: str, *, since: Any = None, feed: str | None = None, limit: int = 10,
    every: bool = False,
) -> tuple[list[str], list[Hit], dict[str, Any]]:  # fmt: skip
    """The query's terms, the best hits and the index's info, from the index that is
    con's default catalog: one hit a story (its best article), or every matching article
    with `every`."""
    info = index_info(con)
    if info is None:
        raise SearchIndexMissing(
            "this store has no search index yet: the next load builds it, and "
            "`newsevents reindex` builds it now"
        )
    load_fts(con)
    terms = con.execute(sql_file("search", "terms.sql"), {"query": query}).fetchall()[0][0] or []
    if not terms:
        return [], [], info
    rows = con.execute(
        sql_file("search", "hits.sql"),
        {
            "query": query,
            "terms": terms,
            "since": since,
            "feed": feed,
            "limit": limit,
            "every": every,
        },
    ).fetchall()
    hits = [
        Hit(article_id=r[0], score=float(r[1]), title=r[2], published_at=r[3], feed=r[4],
            url=r[5], events_of=r[6], snippet=r[7], copies=int(r[8]))
        for r in rows
    ]  # fmt: skip
    return list(terms), hits, info


def add_events(con: Connection, hits: list[Hit], terms: list[str], per_hit: int) -> None:
    """Each hit's top factual events (those whose sentence carries most terms first), from
    the store that is con's default catalog."""
    if not hits or per_hit <= 0:
        return
    load_fts(con)  # stem()
    cursor = con.execute(
        sql_file("search", "hit_events.sql"),
        {"articles": sorted({h.events_of for h in hits}), "terms": terms, "per_hit": per_hit},
    )
    columns = [d[0] for d in cursor.description or []]
    by_article: dict[str, list[dict[str, Any]]] = {}
    for row in cursor.fetchall():
        event = dict(zip(columns, row, strict=True))
        by_article.setdefault(event.pop("article_id"), []).append(event)
    for hit in hits:
        events = by_article.get(hit.events_of, [])
        hit.n_events = int(events[0]["events"]) if events else 0
        hit.events = [{k: v for k, v in e.items() if k != "events"} for e in events]
