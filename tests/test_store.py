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
    assert {"feeds", "fetch_log", "articles", "entities", "events", "runs", "raw_pages"} <= tables
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
