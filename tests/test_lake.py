"""DuckLake: the demo as on the file, analysts beside a load, concurrent writers, a kill -9
mid-load, maintenance and time travel. Real DuckLake, on SQLite and on a real Postgres."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.demo import stored_pages
from pipeline.store import FileStore, LakeStore, Store
from tests.conftest import ROOT, make_store
from tests.test_store import _batch

PAGES = stored_pages()  # article pages a pass over the demo corpus stores

TABLES = ("feeds", "articles", "entities", "places", "events", "raw_pages", "fetch_log",
          "daily_summary", "stories", "story_bands", "event_rollup")  # fmt: skip
VOLATILE = {"run_id", "fetched_at", "first_seen_at", "enriched_at", "last_fetched_at",
            "last_success_at", "refreshed_at", "duration_ms", "last_seen_at",
            "updated_at"}  # fmt: skip


def _whole_rows(st: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a pass writes, but for when and by which run."""
    out = {}
    for table in TABLES:
        columns = [c for (c,) in st.query(
            "select column_name from information_schema.columns where table_name = ? and "
            "table_catalog = current_database() order by ordinal_position", [table])[1]
            if c not in VOLATILE]  # fmt: skip
        rows = st.query(f"select {', '.join(columns)} from {table} order by all")[1]
        out[table] = [tuple(str(v) for v in r) for r in rows]
    return out


def _python(code: str, *args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,
    )  # fmt: skip


# An analyst: attaches the lake read-only as the README says, opens one transaction and
# keeps querying until told to stop, then reports what it saw and any error.
ANALYST = """
import json, sys, duckdb
from pipeline.store.ducklake import load_extension
attach = sys.argv[1]
con = duckdb.connect()
load_extension(con, "ducklake"); load_extension(con, sys.argv[2])
con.execute(attach); con.execute("use lake")
seen, errors = set(), []
con.execute("begin transaction")
print("ready", flush=True)
import select
while not select.select([sys.stdin], [], [], 0.05)[0]:
    try:
        seen.add(con.execute("select count(*) from articles").fetchall()[0][0])
    except Exception as exc:
        errors.append(str(exc))
con.execute("commit")
after = con.execute("select count(*) from articles").fetchall()[0][0]
print(json.dumps({"seen": sorted(seen), "errors": errors, "after": after}))
"""


# `newsevents query`, again and again in one process until told to stop: the command an
# analyst runs, on whatever store NEWS_DB names. Reports the exit codes and the counts.
QUERIES = """
import json, select, sys, io, contextlib
from pipeline import cli
codes, seen = [], set()
print("ready", flush=True)
while not select.select([sys.stdin], [], [], 0.05)[0]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        codes.append(cli.main(["query", "--format", "csv", "select count(*) from articles"]))
    if codes[-1] == 0:
        seen.add(int(out.getvalue().split()[-1]))
print(json.dumps({"codes": sorted(set(codes)), "n": len(codes), "seen": sorted(seen)}))
"""


def query_loop(env: dict[str, str]) -> subprocess.Popen[str]:
    proc = _python(QUERIES, env={**os.environ, **env})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def stop_query_loop(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate("stop\n", timeout=60)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def _analyst(st: LakeStore) -> subprocess.Popen[str]:
    proc = _python(ANALYST, st.attach_sql(read_only=True), st.catalog_kind)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _demo(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "demo", "--port", str(port)],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def test_demo_on_the_lake_gives_the_file_demo_rows_while_an_analyst_reads(
    tmp_path: Path,
) -> None:
    """`NEWS_DB=ducklake:sqlite:... newsevents demo` gives the rows of the file demo,
    with an analyst attached read-only, inside one open transaction, for the whole pass."""
    from tests.test_cli import _free_port

    port = _free_port()  # one port for both, so that the URLs (and ids) are the same
    on_file = _demo(port, NEWS_DB=str(tmp_path / "file" / "news.duckdb"))
    assert on_file.returncode == 0, on_file.stderr
    st = make_store(tmp_path / "lake", "lake")
    assert isinstance(st, LakeStore)
    st.prepare()
    lake_env = {"NEWS_DB": st.target, "NEWS_LAKE_DATA_PATH": str(st.data_path)}
    analyst = _analyst(st)
    queries = query_loop(lake_env)
    try:
        demo = _demo(port, **lake_env)
    finally:
        out, err = analyst.communicate("stop\n", timeout=30)
        asked = stop_query_loop(queries)
    # `newsevents query` answered all through the pass, with no error, before and after
    assert asked["codes"] == [0] and asked["n"] > 5 and asked["seen"][0] == 0, asked
    assert demo.returncode == 0, demo.stderr
    assert "ok but for the demo's expected failures" in demo.stdout
    report = json.loads(out.strip().splitlines()[-1])
    # one snapshot for the whole transaction (no partial batch), no error, then the new rows
    assert report["errors"] == [] and report["seen"] == [0], (report, err)
    assert report["after"] == PAGES
    # the load never waited for the analyst: one attempt
    assert st.query("select load_attempts from runs")[1] == [(1,)]
    file_store = FileStore(tmp_path / "file" / "news.duckdb", lock_timeout_s=1)
    assert _whole_rows(st) == _whole_rows(file_store)
    # and the summary the demo prints is the file's, line for line, but for the store
    same = [x for x in demo.stdout.splitlines() if "Database:" not in x and "run " not in x]
    assert same == [x for x in on_file.stdout.splitlines()
                    if "Database:" not in x and "run " not in x]  # fmt: skip


WRITER = """
import json, sys
from pathlib import Path
from pipeline.store import LakeStore
from tests.test_store import _batch
uri, data, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
st = LakeStore(uri, Path(data), lock_timeout_s=5)
st.retry_attempts = 30
attempts = {}
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    # every batch carries the same ten articles, one entity of a0, and one of its own
    batch = _batch(f"{tag}-{i}", [f"a{j}" for j in range(10)] + [f"{tag}{i}"], [("a0", 0)])
    attempts.update(st.load(batch).attempts)
print(json.dumps(attempts))
"""


@pytest.mark.parametrize("kind", ["lake", "pg"])
def test_two_concurrent_writers_both_finish_and_duplicate_nothing(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("postgres") if kind == "pg" else None
    st = make_store(tmp_path, kind, pg)
    assert isinstance(st, LakeStore)
    st.prepare()
    n = 6
    writers = [_python(WRITER, st.target, str(st.data_path), tag, str(n)) for tag in "xy"]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    for w in writers:  # start both at once
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    results = [w.communicate(timeout=300) for w in writers]
    for w, (_out, err) in zip(writers, results, strict=True):
        assert w.returncode == 0, err
    attempts = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    loaded = set(attempts[0]) | set(attempts[1])
    assert loaded == {f"{t}-{i}" for t in "xy" for i in range(n)}
    assert st.query("select count(*), count(distinct run_id) from runs")[1] == [(2 * n, 2 * n)]
    total, distinct = st.query("select count(*), count(distinct article_id) from articles")[1][0]
    assert total == distinct == 10 + 2 * n
    assert st.query("select count(*) from entities")[1] == [(1,)]  # a0's, replaced each time
    # the retries are recorded where analysts can see them
    recorded = dict(st.query("select run_id, load_attempts from runs")[1])
    assert recorded == {**attempts[0], **attempts[1]}


KILLED = """
import sys
from pathlib import Path
from pipeline.store import LakeStore
from tests.test_lake import big_batch
st = LakeStore(sys.argv[1], Path(sys.argv[2]), lock_timeout_s=5)
st.spool(big_batch())
print("loading", flush=True)
st.load_pending()
print("loaded", flush=True)
"""


def big_batch() -> Any:
    """A batch large enough that a load takes a while: 3,000 articles, 9,000 entities."""
    ids = [f"k{i:04d}" for i in range(3000)]
    batch = _batch("run-big", ids, [(a, j) for a in ids for j in range(3)])
    for row in batch.articles:
        row["body"] = "Some body text here. " * 200
    return batch


def test_a_kill_during_a_lake_load_leaves_nothing_partial(tmp_path: Path) -> None:
    clean = make_store(tmp_path / "clean", "lake")
    started = time.monotonic()
    clean.load(big_batch())
    took = time.monotonic() - started
    expected = _whole_rows(clean)
    for trial, fraction in enumerate((0.15, 0.5, 0.85)):
        st = make_store(tmp_path / f"t{trial}", "lake")
        assert isinstance(st, LakeStore)
        st.prepare()
        proc = _python(KILLED, st.target, str(st.data_path))
        assert proc.stdout is not None and proc.stdout.readline().strip() == "loading"
        time.sleep(took * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        runs, articles, entities = st.query(
            "select (select count(*) from runs), (select count(*) from articles), "
            "(select count(*) from entities)"
        )[1][0]
        # all of the batch or none of it
        assert (runs, articles, entities) in ((0, 0, 0), (1, 3000, 9000)), trial
        st.load_pending()  # the re-run: the spool waited
        assert _whole_rows(st) == expected


def test_maintenance_merges_files_and_expires_old_snapshots(tmp_path: Path) -> None:
    import duckdb

    from pipeline.store.ducklake import load_extension

    st = make_store(tmp_path, "lake")
    assert isinstance(st, LakeStore)
    st.prepare()
    # An analyst attached read-only before all of it, and kept attached throughout.
    analyst = duckdb.connect()
    load_extension(analyst, "ducklake")
    load_extension(analyst, "sqlite")
    analyst.execute(st.attach_sql(read_only=True))
    analyst.execute("use lake")
    for i in range(4):
        st.load(_batch(f"r{i}", [f"a{i}", "shared"], [("shared", 0)]))
        assert analyst.execute("select count(*) from articles").fetchall() == [(i + 2,)]
    rows = _whole_rows(st)
    snapshots = st.query("select count(*) from lake.snapshots()")[1][0][0]
    kept = st.maintain()  # the default policy keeps 30 days: nothing expires yet
    assert kept["snapshots_expired"] == 0
    st.keep_snapshots_days = 0
    done = st.maintain()
    assert done["snapshots_before"] >= snapshots and done["snapshots_after"] < snapshots
    assert _whole_rows(st) == rows  # the data itself is unchanged
    st.load(_batch("r9", ["a9"], []))  # and the lake takes loads as before
    assert st.query("select count(*) from articles")[1] == [(6,)]
    # the analyst's attach still reads, through loads and maintenance
    assert analyst.execute("select count(*) from factual_events").fetchall() == [(0,)]
    assert analyst.execute("select count(*) from articles").fetchall() == [(6,)]
    analyst.close()


def test_time_travel_by_snapshot_and_by_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline import cli

    st = make_store(tmp_path, "lake")
    assert isinstance(st, LakeStore)
    st.load(_batch("run-1", ["a1"], []))
    st.load(_batch("run-2", ["a2", "a3"], []))
    snapshots = st.query((ROOT / "sql" / "queries" / "lake_snapshots.sql").read_text())[1]
    by_run = {run: snap for snap, _, run, _ in snapshots if run}
    assert set(by_run) == {"run-1", "run-2"}
    asof = "select count(*) from articles at (version => $snapshot)"
    assert st.query(asof, {"snapshot": by_run["run-1"]})[1] == [(1,)]
    assert st.query(asof, {"snapshot": by_run["run-2"]})[1] == [(3,)]
    # the saved query, through the CLI, with its parameter
    monkeypatch.setenv("NEWS_LAKE_DATA_PATH", str(st.data_path))
    code = cli.main(["query", "--db", st.target, "-f", str(ROOT / "sql/queries/events_as_of.sql"),
                     "--param", f"snapshot={by_run['run-1']}", "--format", "json"])  # fmt: skip
    assert code == 0 and json.loads(capsys.readouterr().out) == []  # run-1 had no events


def test_a_query_cannot_change_the_store(
    any_store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`newsevents query` reads: on every backend, a statement that writes is refused."""
    from pipeline import cli

    any_store.load(_batch("run-1", ["a1"], []))
    if isinstance(any_store, LakeStore):
        monkeypatch.setenv("NEWS_LAKE_DATA_PATH", str(any_store.data_path))
    target = any_store.target
    assert cli.main(["query", "--db", target, "delete from articles"]) == 1
    assert "read-only" in capsys.readouterr().err.lower()
    assert any_store.query("select count(*) from articles")[1] == [(1,)]
