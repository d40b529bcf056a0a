"""Store: migrations, atomic and idempotent loads, the spool, and the DuckDB lock."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import store
from pipeline.store import Batch, DatabaseLocked

NOW = datetime(2025, 11, 2, 9, 15, tzinfo=UTC)


def _article(aid: str, body: str = "Some body text here.") -> dict[str, Any]:
    return {
        "article_id": aid, "url": f"http://127.0.0.1/{aid}.html", "final_url": None,
        "feed": "f", "title": f"Title {aid}", "body": body, "author": None,
        "published_at": NOW, "date_source": "feed", "site_name": None, "language": "en",
        "summary": None, "status": "ok", "status_detail": None,
        "word_count": len(body.split()), "content_hash": aid, "duplicate_of": None,
        "first_seen_at": NOW, "fetched_at": NOW, "run_id": "r",
    }  # fmt: skip


def _entity(aid: str, idx: int) -> dict[str, Any]:
    return {
        "article_id": aid, "entity_idx": idx, "text": "Some", "norm": "Some", "label": "ORG",
        "start_char": 0, "end_char": 4, "sentence_idx": 0,
    }  # fmt: skip


def _batch(run_id: str, articles: list[str], entities: list[tuple[str, int]]) -> Batch:
    run = {
        "run_id": run_id, "started_at": NOW, "finished_at": NOW, "status": "ok",
        "trigger": "test", "feeds_total": 1, "feeds_failed": 0, "entries_seen": len(articles),
        "entries_dropped": 0, "articles_skipped": 0, "articles_fetched": len(articles),
        "articles_failed": 0, "articles_extracted": len(articles), "articles_short": 0,
        "articles_tagged": len(articles), "entities": len(entities), "events": 0,
        "errors": [],
    }  # fmt: skip
    return Batch(
        run=run,
        articles=[_article(a) for a in articles],
        entities=[_entity(a, i) for a, i in entities],
        tagged=list(articles),
    )


def _count(db: Path, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute(f"select count(*) from {table}").fetchall()[0][0])
    finally:
        con.close()


def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "n.duckdb")
    shipped = sorted(p.stem for p in (store.sql_dir() / "migrations").glob("*.sql"))
    assert shipped[:2] == ["0001_initial", "0002_raw_pages"]
    assert store.migrate(con) == shipped
    assert store.migrate(con) == []
    rows = con.execute("select version, name from schema_migrations order by 1").fetchall()
    assert [name for _, name in rows] == shipped
    assert [v for v, _ in rows] == [int(n[:4]) for n in shipped]
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    assert {"feeds", "fetch_log", "articles", "entities", "places", "events", "runs",
            "raw_pages", "daily_summary"} <= tables  # fmt: skip
    # gap-free but for 0003, which sql/migrations/README.md explains
    numbers = [int(n[:4]) for n in shipped]
    assert sorted(set(range(1, numbers[-1] + 1)) - set(numbers)) == [3]
    assert "no 0003" in (store.sql_dir() / "migrations" / "README.md").read_text()
    assert {
        "event_details",
        "factual_events",
        "actor_pairs",
        "feed_health",
        "host_health",
    } <= tables
    con.close()


def test_load_spool_is_idempotent(tmp_path: Path) -> None:
    db, spool = tmp_path / "n.duckdb", tmp_path / "spool"
    batch = _batch("run-1", ["a1", "a2"], [("a1", 0), ("a1", 1), ("a2", 0)])
    con = store.open_db(db)
    assert store.load_spool(con, store.write_spool(batch, spool)) is True
    # The same run again: recognised and skipped; its spool is removed.
    assert store.load_spool(con, store.write_spool(batch, spool)) is False
    assert not store.pending_spools(spool)
    # A new run carrying the same articles: upserted, entities replaced, not duplicated.
    assert store.load_spool(con, store.write_spool(_batch("run-2", ["a1", "a2"], [("a1", 0)]),
                                                   spool))  # fmt: skip
    con.close()
    assert _count(db, "articles") == 2
    assert _count(db, "entities") == 1
    assert _count(db, "runs") == 2


def test_upsert_keeps_first_seen_at(tmp_path: Path) -> None:
    db, spool = tmp_path / "n.duckdb", tmp_path / "spool"
    con = store.open_db(db)
    store.load_spool(con, store.write_spool(_batch("run-1", ["a1"], []), spool))
    later = _batch("run-2", ["a1"], [])
    later.articles[0].update(first_seen_at=datetime(2030, 1, 1, tzinfo=UTC), title="New title")
    store.load_spool(con, store.write_spool(later, spool))
    title, first = con.execute("select title, first_seen_at from articles").fetchall()[0]
    con.close()
    assert title == "New title"
    assert first == NOW


def test_failed_load_leaves_nothing_and_keeps_the_spool(tmp_path: Path) -> None:
    db, spool = tmp_path / "n.duckdb", tmp_path / "spool"
    # Two entities with the same key: the insert fails after the articles went in.
    bad = _batch("run-bad", ["a1", "a2"], [("a1", 0), ("a1", 0)])
    con = store.open_db(db)
    path = store.write_spool(bad, spool)
    with pytest.raises(duckdb.ConstraintException):
        store.load_spool(con, path)
    assert con.execute("select count(*) from articles").fetchall() == [(0,)]
    assert con.execute("select count(*) from runs").fetchall() == [(0,)]
    assert path.exists()
    con.close()


def _hold_lock(db: Path) -> subprocess.Popen[str]:
    """Another process (an analyst's session) holding the database open."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_locked_database_gives_a_clear_error_after_waiting(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    store.open_db(db).close()
    proc = _hold_lock(db)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseLocked, match="locked by another process"):
            store.connect(db, lock_timeout_s=0.6)
        assert time.monotonic() - started >= 0.5
    finally:
        proc.communicate("")
    store.connect(db).close()  # free again


def test_lock_released_while_waiting_is_taken(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    store.open_db(db).close()
    proc = _hold_lock(db)
    import threading

    threading.Timer(0.5, lambda: proc.communicate("")).start()
    con = store.connect(db, lock_timeout_s=10)
    assert con.execute("select count(*) from articles").fetchall() == [(0,)]
    con.close()


def test_checks_pass_on_consistent_data_and_catch_inconsistent(tmp_path: Path) -> None:
    db, spool = tmp_path / "n.duckdb", tmp_path / "spool"
    con = store.open_db(db)
    store.load_spool(con, store.write_spool(_batch("r1", ["a1"], [("a1", 0)]), spool))
    assert store.run_checks(con) == {}
    # "Some" at 0..4 matches the body; break it and the offsets check must fire.
    con.execute("update articles set body = 'Other body'")
    assert "entity_offsets_in_body" in store.run_checks(con)
    con.close()


def _log(url: str, kind: str, status: int | None, error: str | None = None) -> dict[str, Any]:
    return {"run_id": "run-h", "url": url, "feed": "f", "kind": kind, "status": status,
            "bytes": 10, "duration_ms": 5, "fetched_at": NOW, "final_url": url,
            "content_type": "text/html", "error_class": "HTTPStatus" if error else None,
            "error": error, "retries": 0}  # fmt: skip


def test_host_health_counts_a_robots_404_as_no_rules_not_a_failure(tmp_path: Path) -> None:
    db, spool = tmp_path / "n.duckdb", tmp_path / "spool"
    batch = _batch("run-h", [], [])
    batch.fetch_log = [
        _log("http://127.0.0.1:9/robots.txt", "robots", 404),
        _log("http://127.0.0.1:9/feed.xml", "feed", 200),
        _log("http://127.0.0.1:9/a.html", "article", 200),
        _log("http://127.0.0.1:9/b.html", "article", 404, "HTTP 404"),
        _log("http://127.0.0.1:8/robots.txt", "robots", 503, "HTTP 503"),
    ]
    con = store.open_db(db)
    try:
        store.load_spool(con, store.write_spool(batch, spool))
        rows = dict(
            (host, (fetches, ok))
            for host, fetches, ok in con.execute(
                "select host, fetches, successes from host_health"
            ).fetchall()
        )
    finally:
        con.close()
    # the 404 article is a failure; the 404 robots.txt is not; a 5xx robots.txt is
    assert rows == {"127.0.0.1:9": (4, 3), "127.0.0.1:8": (1, 0)}


def test_actor_pairs_name_domestic_pairs_and_the_saved_query_leaves_them_out(
    tmp_path: Path,
) -> None:
    con = store.open_db(tmp_path / "n.duckdb")
    try:
        con.execute("insert into articles (article_id, url, feed, body, date_source, status, "
                    "word_count, content_hash, first_seen_at, fetched_at, run_id) values "
                    "('a', 'http://127.0.0.1/a', 'f', 'b', 'none', 'ok', 1, 'h', now(), now(), "
                    "'r')")  # fmt: skip
        for i, (src, tgt) in enumerate([("COD", "COD"), ("COD", "RWA")]):
            con.execute(
                "insert into events (event_id, article_id, event_idx, sentence_idx, sentence, "
                "source_text, source_name, source_actor, source_country, source_sector, "
                "source_start, source_end, target_country, target_actor, trigger, "
                "trigger_start, trigger_end, cameo_code, root_code, root_name, plover, "
                "quad_class, goldstein, modality, confidence, date_source, date_precision, "
                "coder_version) values (?, 'a', ?, 0, 's', 'x', 'x', ?, ?, '', 0, 1, ?, ?, "
                "'t', 0, 1, '190', '19', 'Fight', 'ASSAULT', 4, -10, 'asserted', 0.9, 'none', "
                "'day', 'v')",
                [f"a-{i}", i, src, src, tgt, tgt],
            )
        pairs = con.execute(
            "select source_country, target_country, domestic from actor_pairs order by 2"
        ).fetchall()
        top = store.run_query(
            con, (store.sql_dir() / "queries" / "top_actor_pairs.sql").read_text()
        )
    finally:
        con.close()
    assert pairs == [("COD", "COD", True), ("COD", "RWA", False)]
    assert [row[:2] for row in top[1]] == [("COD", "RWA")]


def test_saved_queries_meant_for_export_have_no_hidden_limit() -> None:
    for path in (store.sql_dir() / "queries").glob("*.sql"):
        lines = path.read_text().splitlines()
        header = " ".join(x for x in lines if x.startswith("--")).lower()
        body = " ".join(x for x in lines if not x.startswith("--")).lower()
        if " limit " in f" {body} ":
            assert "limited" in header, f"{path.name}: its header does not say it is limited"
    audit = (store.sql_dir() / "queries" / "event_audit.sql").read_text().splitlines()
    assert not any("limit" in x.lower() for x in audit if not x.startswith("--"))
