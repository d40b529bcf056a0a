"""Store: migrations, atomic and idempotent loads, the spool and its owner, and locks, on
every backend (the DuckDB file, DuckLake on SQLite, DuckLake on a real Postgres)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.store import (
    Batch,
    DatabaseLocked,
    FileStore,
    Store,
    StoreMismatch,
    pending_spools,
    sql_dir,
)  # fmt: skip
from pipeline.store.schema import COLUMNS, TABLES, stored_columns
from tests.conftest import make_store

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


def _count(st: Store, table: str) -> int:
    return int(st.query(f"select count(*) from {table}")[1][0][0])


def test_migrations_apply_once_and_are_recorded(any_store: Store) -> None:
    shipped = sorted(p.stem for p in (sql_dir() / "migrations").glob("*.sql"))
    assert shipped[:2] == ["0001_initial", "0002_raw_pages"]
    assert any_store.migrate() == shipped
    assert any_store.migrate() == []
    rows = any_store.query("select version, name from schema_migrations order by 1")[1]
    assert [name for _, name in rows] == shipped
    assert [v for v, _ in rows] == [int(n[:4]) for n in shipped]
    tables = {r[0] for r in any_store.query(
        "select table_name from information_schema.tables where table_catalog = "
        "current_database()")[1]}  # fmt: skip
    assert {"feeds", "fetch_log", "articles", "entities", "places", "events", "runs",
            "raw_pages", "daily_summary", "store_info"} <= tables  # fmt: skip
    # gap-free but for 0003, which sql/migrations/README.md explains
    numbers = [int(n[:4]) for n in shipped]
    assert sorted(set(range(1, numbers[-1] + 1)) - set(numbers)) == [3]
    assert "no 0003" in (sql_dir() / "migrations" / "README.md").read_text()
    assert {"event_details", "factual_events", "actor_pairs", "feed_health",
            "host_health"} <= tables  # fmt: skip


def test_every_column_a_batch_carries_exists_with_its_type(any_store: Store) -> None:
    """schema.COLUMNS is the one list of a batch's columns: a migration that forgets one,
    or gives it another type, fails here, on every backend."""
    any_store.migrate()
    found = {
        (t, c): ty
        for t, c, ty in any_store.query(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database()"
        )[1]
    }
    for table in TABLES:
        if table.name in ("raw_done", "feeds"):  # an update of raw_pages; a custom load
            continue
        for column, kind in zip(stored_columns(table.name), COLUMNS[table.name].values(),
                                strict=True):  # fmt: skip
            assert (table.name, column) in found, f"{table.name}.{column} is not in the schema"
            if column != "body":  # raw bodies travel as base64 text, are stored as blobs
                assert found[(table.name, column)].lower().replace("timestamp with time zone",
                       "timestamptz") == kind, (table.name, column)  # fmt: skip


def test_load_is_idempotent(any_store: Store) -> None:
    batch = _batch("run-1", ["a1", "a2"], [("a1", 0), ("a1", 1), ("a2", 0)])
    assert any_store.load(batch).loaded == ["run-1"]
    # The same run again: recognised and skipped; its spool is removed.
    assert any_store.load(batch).skipped == ["run-1"]
    assert not pending_spools(any_store.spool_dir)
    # A new run carrying the same articles: upserted, entities replaced, not duplicated.
    any_store.load(_batch("run-2", ["a1", "a2"], [("a1", 0)]))
    assert _count(any_store, "articles") == 2
    assert _count(any_store, "entities") == 1
    assert _count(any_store, "runs") == 2
    # one row per key, whatever the backend (DuckLake has no primary keys)
    assert any_store.query("select count(distinct article_id) from articles")[1] == [(2,)]


def test_a_run_in_several_batches_has_one_runs_row(any_store: Store) -> None:
    """The batches of one run (run_id.NNNN) load one at a time, each once; runs keeps one
    row, incomplete until the run's last batch writes the whole run's, which a late
    non-final batch never overwrites."""
    parts = [_batch("run-1", [a], [(a, 0)]) for a in ("a1", "a2", "a3")]
    for n, part in enumerate(parts, 1):
        part.batch_id = f"run-1.{n:04d}"
    for part in parts[:2]:
        part.run.update(status="incomplete", finished_at=None, articles_fetched=1)
    parts[2].run["articles_fetched"] = 3
    assert any_store.load(parts[0]).loaded == ["run-1.0001"]
    runs = "select run_id, status, finished_at is null, articles_fetched, load_attempts from runs"
    assert any_store.query(runs)[1] == [("run-1", "incomplete", True, 1, 1)]
    assert any_store.load(parts[2]).loaded == ["run-1.0003"]
    assert any_store.load(parts[1]).loaded == ["run-1.0002"]  # after the last: row kept
    assert any_store.load(parts[1]).skipped == ["run-1.0002"]
    assert any_store.query(runs)[1] == [("run-1", "ok", False, 3, 3)]
    assert _count(any_store, "articles") == 3 and _count(any_store, "loads") == 3
    assert not pending_spools(any_store.spool_dir)


def test_runs_loaded_before_batches_had_ids_are_recorded_as_loaded(any_store: Store) -> None:
    """Migration 0011 records every stored run as its own loaded batch, so a spool of
    such a run (its delete cut short) is still skipped."""
    con = _store_at(any_store, 10)
    try:
        run = _batch("run-old", [], []).run
        con.execute(f"insert into runs ({', '.join(run)}) values ({', '.join('?' for _ in run)})",
                    list(run.values()))  # fmt: skip
    finally:
        con.close()
    assert any_store.migrate() == ["0011_loads"]
    assert any_store.query("select batch_id, run_id from loads")[1] == [("run-old", "run-old")]
    assert any_store.load(_batch("run-old", ["a1"], [])).skipped == ["run-old"]
    assert _count(any_store, "articles") == 0


def test_upsert_keeps_first_seen_at(any_store: Store) -> None:
    any_store.load(_batch("run-1", ["a1"], []))
    later = _batch("run-2", ["a1"], [])
    later.articles[0].update(first_seen_at=datetime(2030, 1, 1, tzinfo=UTC), title="New title")
    any_store.load(later)
    title, first = any_store.query("select title, first_seen_at from articles")[1][0]
    assert title == "New title"
    assert first == NOW


def test_a_kill_while_deleting_a_loaded_spool_leaves_no_half_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load killed while it deleted the loaded batch's folder (its run.json gone, the
    rest still there) must not leave a folder that the next load reads as waiting."""
    st = make_store(tmp_path, "file")
    real_rmtree = shutil.rmtree

    def killed_midway(path: Any, *args: Any, **kwargs: Any) -> None:
        run_json = Path(path) / "run.json"
        if run_json.exists():
            run_json.unlink()  # the first file deleted, then the process dies
            raise KeyboardInterrupt("killed")
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        st.load(_batch("run-1", ["a1"], []))
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)
    assert _count(st, "articles") == 1  # the load itself had committed
    assert not pending_spools(st.spool_dir)  # and the leftover is swept, not pending
    assert not list(st.spool_dir.glob(".*.done"))
    st.load(_batch("run-2", ["a2"], []))  # the next load runs as usual
    assert _count(st, "articles") == 2


def test_failed_load_leaves_nothing_and_keeps_the_spool(any_store: Store) -> None:
    # An entity without its text (not null): the insert fails after the articles went in.
    bad = _batch("run-bad", ["a1", "a2"], [("a1", 0), ("a1", 1)])
    bad.entities[1]["text"] = None
    path = any_store.spool(bad)
    with pytest.raises(duckdb.ConstraintException):
        any_store.load_spools([path])
    assert _count(any_store, "articles") == 0
    assert _count(any_store, "runs") == 0
    assert path.exists()


def test_a_batch_of_another_store_is_refused(tmp_path: Path) -> None:
    """A batch spooled for one database and given to another: refused, nothing loaded.
    And each store has its own folders by default, so this takes a deliberate move."""
    a = FileStore(tmp_path / "a.duckdb", lock_timeout_s=0.5)
    b = FileStore(tmp_path / "b.duckdb", lock_timeout_s=0.5)
    assert a.spool_dir != b.spool_dir and a.archive_dir != b.archive_dir
    a.prepare()
    b.prepare()
    assert a.store_id() != b.store_id()
    path = a.spool(_batch("run-a", ["a1"], []))
    assert path.parent == a.spool_dir
    moved = b.spool_dir / path.name
    moved.parent.mkdir(parents=True, exist_ok=True)
    path.rename(moved)
    with pytest.raises(StoreMismatch, match=r"belongs to store .* not to .*b\.duckdb"):
        b.load_pending()
    assert _count(b, "articles") == 0 and moved.exists()
    moved.rename(path)
    assert a.load_pending().loaded == ["run-a"]
    assert _count(a, "articles") == 1


def test_the_cli_says_which_store_a_batch_belongs_to(tmp_path: Path) -> None:
    a = FileStore(tmp_path / "a.duckdb", lock_timeout_s=0.5)
    b = FileStore(tmp_path / "b.duckdb", lock_timeout_s=0.5)
    b.prepare()
    path = a.spool(_batch("run-a", ["a1"], []))
    b.spool_dir.mkdir(parents=True)
    path.rename(b.spool_dir / path.name)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "load-spool", "--db", str(b.path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "belongs to store" in proc.stderr and "Nothing was loaded" in proc.stderr


def _hold(path: Path, *, read_only: bool = False) -> subprocess.Popen[str]:
    """Another process holding a DuckDB file open."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == '1'); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path), "1" if read_only else "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_an_analyst_holding_the_file_never_blocks_a_load(tmp_path: Path) -> None:
    """The analyst's connection (the README's: read-only on data/news.duckdb), and even a
    careless read-write one, held across loads: every load goes through at once, and the
    analyst's session keeps the snapshot it opened."""
    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.0)  # no waiting at all
    st.load(_batch("run-1", ["a1"], []))
    for read_only in (True, False):
        analyst = _hold(st.path, read_only=read_only)
        try:
            started = time.monotonic()
            st.load(_batch(f"run-{2 + read_only}", [f"b{read_only}"], []))
            assert time.monotonic() - started < 5
        finally:
            analyst.communicate("")
    assert _count(st, "articles") == 3
    con = duckdb.connect(str(st.path), read_only=True)
    before = con.execute("select count(*) from articles").fetchall()
    st.load(_batch("run-4", ["c1"], []))
    assert con.execute("select count(*) from articles").fetchall() == before  # its snapshot
    con.close()
    assert _count(st, "articles") == 4  # and a new connection sees the new one


def test_a_writer_lock_gives_a_clear_error_after_waiting(tmp_path: Path) -> None:
    """Only pipeline processes open the working file; one that holds it past the timeout
    makes another's load fail clearly, and the batch waits in the spool."""
    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.6)
    st.prepare()
    proc = _hold(st.writer_path)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseLocked, match=r"locked by another process.*another pass"):
            st.load(_batch("run-1", ["a1"], []))
        assert time.monotonic() - started >= 0.5
        assert [p.name for p in pending_spools(st.spool_dir)] == ["run-1"]
        # reading never needs that lock
        assert _count(st, "articles") == 0
    finally:
        proc.communicate("")
    assert st.load_pending().loaded == ["run-1"]


def test_a_writer_lock_released_while_waiting_is_taken(tmp_path: Path) -> None:
    import threading

    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=10)
    st.prepare()
    proc = _hold(st.writer_path)
    threading.Timer(0.5, lambda: proc.communicate("")).start()
    assert st.load(_batch("run-1", ["a1"], [])).loaded == ["run-1"]


def test_a_database_of_an_earlier_version_is_adopted(tmp_path: Path) -> None:
    """Before the working file, the pipeline wrote data/news.duckdb in place: that file
    becomes the working file, with its rows, and stays the analysts' copy."""
    old = tmp_path / "n.duckdb"
    FileStore(old, lock_timeout_s=0.5).load(_batch("run-1", ["a1"], []))
    shutil.rmtree(tmp_path / "n.pipeline")
    st = FileStore(old, lock_timeout_s=0.5)
    st.load(_batch("run-2", ["a2"], []))
    assert _count(st, "articles") == 2 and st.writer_path.exists()


def _load_some(st: Store) -> None:
    st.load(_batch("r1", ["a1"], [("a1", 0)]))


def test_checks_pass_on_consistent_data_and_catch_inconsistent(any_store: Store) -> None:
    _load_some(any_store)
    assert any_store.run_checks() == {}
    # "Some" at 0..4 matches the body; break it and the offsets check must fire.
    with any_store.writer() as con:
        con.execute("update articles set body = 'Other body'")
    assert "entity_offsets_in_body" in any_store.run_checks()


def _log(url: str, kind: str, status: int | None, error: str | None = None) -> dict[str, Any]:
    return {"run_id": "run-h", "url": url, "feed": "f", "kind": kind, "status": status,
            "bytes": 10, "duration_ms": 5, "fetched_at": NOW, "final_url": url,
            "content_type": "text/html", "error_class": "HTTPStatus" if error else None,
            "error": error, "retries": 0}  # fmt: skip


def test_host_health_counts_a_robots_404_as_no_rules_not_a_failure(any_store: Store) -> None:
    batch = _batch("run-h", [], [])
    batch.fetch_log = [
        _log("http://127.0.0.1:9/robots.txt", "robots", 404),
        _log("http://127.0.0.1:9/feed.xml", "feed", 200),
        _log("http://127.0.0.1:9/a.html", "article", 200),
        _log("http://127.0.0.1:9/b.html", "article", 404, "HTTP 404"),
        _log("http://127.0.0.1:8/robots.txt", "robots", 503, "HTTP 503"),
        _log("http://127.0.0.1:8/robots.txt", "robots", 503, "HTTP 503"),  # a repeat: once
    ]
    any_store.load(batch)
    rows = {host: (fetches, ok) for host, fetches, ok in any_store.query(
        "select host, fetches, successes from host_health")[1]}  # fmt: skip
    # the 404 article is a failure; the 404 robots.txt is not; a 5xx robots.txt is
    assert rows == {"127.0.0.1:9": (4, 3), "127.0.0.1:8": (1, 0)}


def test_actor_pairs_name_domestic_pairs_and_the_saved_query_leaves_them_out(
    tmp_path: Path,
) -> None:
    st = make_store(tmp_path, "file")
    with st.writer() as con:
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
    pairs = st.query("select source_country, target_country, domestic from actor_pairs order by 2")
    top = st.query((sql_dir() / "queries" / "top_actor_pairs.sql").read_text())
    assert pairs[1] == [("COD", "COD", True), ("COD", "RWA", False)]
    assert [row[:2] for row in top[1]] == [("COD", "RWA")]


def test_saved_queries_meant_for_export_have_no_hidden_limit() -> None:
    for path in (sql_dir() / "queries").glob("*.sql"):
        lines = path.read_text().splitlines()
        header = " ".join(x for x in lines if x.startswith("--")).lower()
        body = " ".join(x for x in lines if not x.startswith("--")).lower()
        if " limit " in f" {body} ":
            assert "limited" in header, f"{path.name}: its header does not say it is limited"
    audit = (sql_dir() / "queries" / "event_audit.sql").read_text().splitlines()
    assert not any("limit" in x.lower() for x in audit if not x.startswith("--"))


def test_no_sql_outside_the_store_and_sql() -> None:
    """Every statement lives in pipeline/store/ or sql/: no con.execute elsewhere."""
    root = Path(__file__).resolve().parent.parent
    offenders = [
        str(p.relative_to(root))
        for p in sorted((root / "pipeline").rglob("*.py"))
        if "store" not in p.relative_to(root / "pipeline").parts
        and (".execute(" in p.read_text() or "import duckdb" in p.read_text())
    ]
    assert offenders == []


def test_the_batches_of_one_load_publish_one_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight feeds' batches copy the file once, not eight times; and what was loaded is
    published even when a later batch fails."""
    import pipeline.store.duckdb_file as backend

    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.5)
    st.prepare()
    copies: list[Path] = []
    real = backend.copy_file

    def counting(src: Path, dst: Path) -> None:
        copies.append(src)
        real(src, dst)

    monkeypatch.setattr(backend, "copy_file", counting)
    paths = [st.spool(_batch(f"run-{i}", [f"a{i}"], [])) for i in range(3)]
    assert st.load_spools(paths).loaded == ["run-0", "run-1", "run-2"]
    assert len(copies) == 1 and _count(st, "articles") == 3
    bad = _batch("run-bad", ["b1"], [("b1", 0)])
    bad.entities[0]["text"] = None  # not null: this batch fails
    paths = [st.spool(_batch("run-3", ["a3"], [])), st.spool(bad)]
    with pytest.raises(duckdb.ConstraintException):
        st.load_spools(paths)
    assert len(copies) == 2 and _count(st, "articles") == 4  # run-3 is published


def _store_at(st: Store, version: int) -> Any:
    """A writer connection on a store migrated up to `version` only: a database as an
    earlier release left it. The caller closes it."""
    from pipeline.store import sql

    con = st._open_writer()
    con.execute("create table schema_migrations (version integer not null, "
                "name varchar not null, applied_at timestamptz not null)")  # fmt: skip
    for number, name, text in sql._migrations():
        if number <= version:
            con.execute(sql.lake_ddl(text) if st.kind == "ducklake" else text)
            con.execute("insert into schema_migrations values (?, ?, now())", [number, name])
    return con


def test_migration_0010_gives_stored_events_the_ids_new_events_get(any_store: Store) -> None:
    """Stored ids `article_id-event_idx` are rewritten to the stable scheme exactly as
    pipeline.dedup.event_ids computes it (the same digest in SQL and Python, a repeated
    sentence's ordinal included), with the rollup's references; articles get the coder
    version of their events."""
    from pipeline.dedup import event_ids
    from pipeline.store import event_row
    from tests.test_dedup import _event

    events = [_event(0, 0), _event(1, 1, target=False), _event(2, 0, code="193"),
              _event(3, 3)]  # fmt: skip
    events = [dataclasses.replace(e, sentence=e.sentence.replace("Ukraine", "Україна"),
                                  coder_version="rules-0.4+old") for e in events]  # fmt: skip
    con = _store_at(any_store, 9)
    try:
        for aid in ("a1", "a2"):
            article = _article(aid)
            con.execute(f"insert into articles ({', '.join(article)}) values "
                        f"({', '.join('?' for _ in article)})", list(article.values()))  # fmt: skip
        for e in events:
            row = event_row(e, f"a1-{e.event_idx}")
            con.execute(f"insert into events ({', '.join(row)}) values "
                        f"({', '.join('?' for _ in row)})", list(row.values()))  # fmt: skip
        con.execute("insert into event_rollup (rollup_id, event_ids, evidence_event_id) "
                    "values ('r1', ['a1-3', 'a1-0'], 'a1-3')")  # fmt: skip
    finally:
        con.close()
    assert any_store.migrate() == ["0010_reprocess", "0011_loads"]
    expected = event_ids(events)
    assert len(set(expected)) == 4
    stored = any_store.query("select event_id from events order by event_idx")[1]
    assert [i for (i,) in stored] == expected
    rollup = any_store.query("select event_ids, evidence_event_id from event_rollup")[1]
    assert rollup == [(sorted([expected[3], expected[0]]), expected[3])]
    versions = any_store.query("select article_id, coder_version from articles order by 1")[1]
    assert versions == [("a1", "rules-0.4+old"), ("a2", None)]
