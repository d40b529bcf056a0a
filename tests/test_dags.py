"""The Airflow DAGs: integrity at parse time, and real runs with dag.test().

The real runs use a temporary Airflow home with a SQLite metadata database (made once per
session), the demo corpus served on 127.0.0.1, and a temporary DuckDB file per test.
dag.test() runs the tasks in this process, so the tests can make a load fail on purpose.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import pipeline.run
import pipeline.store.sql
from pipeline.demo import CorpusServer, stored_pages
from pipeline.store import FileStore
from tests.conftest import ROOT

PAGES = stored_pages()  # article pages a pass over the demo corpus stores

DAGS = ROOT / "dags"
DAG_IDS = {"news_ingest", "news_enrich", "news_daily"}
POOL = "duckdb_writer"
# The tasks that write DuckDB, and so take the pool's single slot.
WRITERS = {"load_raw_pages", "load_events", "refresh_daily_summary", "maintain_store"}
LOGICAL_DATE = datetime(2025, 11, 2, tzinfo=UTC)
TABLES = ("raw_pages", "articles", "entities", "places", "events")


# --- the Airflow environment ---------------------------------------------------------------


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point Airflow at a temporary home and our dags folder. This must happen before
    airflow is first imported: its configuration is read once, at import."""
    home = tmp_path_factory.mktemp("airflow_home")
    if "airflow" in sys.modules:
        pytest.fail("airflow was imported before the test environment was set up")
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("AIRFLOW")]:
            mp.delenv(key)
        mp.setenv("AIRFLOW_HOME", str(home))
        mp.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS))
        mp.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        # As `make airflow`: an Asset event queues only DAGs that are not paused.
        mp.setenv("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
        mp.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
        from airflow.configuration import AIRFLOW_HOME

        assert Path(AIRFLOW_HOME) == home
        yield home


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """The metadata database, created once, with the DuckDB writer pool."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.initdb()
    Pool.create_or_update_pool(POOL, slots=1, description="DuckDB writer", include_deferred=False)
    return airflow_home


def _parse_dags() -> Any:
    from airflow.dag_processing.dagbag import BundleDagBag

    sys.modules.pop("_newsevents", None)  # import the shared module afresh, too
    return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS, known_pools={"default_pool", POOL})


@pytest.fixture(scope="session")
def dags(airflow_home: Path) -> dict[str, Any]:
    return dict(_parse_dags().dags)


@pytest.fixture
def fast_retries(dags: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries as configured, but without waiting: dag.test() honours retry delays."""
    for dag in dags.values():
        for t in dag.tasks:
            monkeypatch.setattr(t, "retry_delay", timedelta(0))
            monkeypatch.setattr(t, "retry_exponential_backoff", 0)


# --- integrity -----------------------------------------------------------------------------


def _no_io(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("I/O while parsing a DAG file")


def test_dag_files_import_without_errors_warnings_or_io(
    airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(socket.socket, "connect", _no_io)
        m.setattr(socket.socket, "connect_ex", _no_io)
        m.setattr(socket, "create_connection", _no_io)
        m.setattr(duckdb, "connect", _no_io)
        with pytest.raises(AssertionError, match="I/O while parsing"):
            socket.create_connection(("127.0.0.1", 9))  # the guard is in place
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bag = _parse_dags()
    assert bag.import_errors == {}
    assert bag.captured_warnings == {}
    assert set(bag.dag_ids) == DAG_IDS
    # One DAG per file, named after it; modules starting with "_" are shared helpers.
    files = {p.stem for p in DAGS.glob("*.py") if not p.name.startswith("_")}
    assert files == DAG_IDS
    assert {Path(bag.dags[d].fileloc).stem for d in DAG_IDS} == DAG_IDS


def test_dag_files_leave_heavy_libraries_to_the_tasks(tmp_path: Path) -> None:
    """A fresh interpreter imports every DAG file with pipeline, DuckDB, spaCy,
    trafilatura and feedparser made unimportable: the DAG files must not need them."""
    script = f"""
import importlib.abc, sys
FORBIDDEN = {{"pipeline", "duckdb", "spacy", "thinc", "trafilatura", "feedparser"}}
attempts = []
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            attempts.append(name)
            raise ImportError(f"{{name}} imported while parsing a DAG file")
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(DAGS)!r})
import news_ingest, news_enrich, news_daily
print(sorted(set(attempts)))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_"))}
    env.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_task_imports_leave_the_model_and_the_story_libraries_to_who_needs_them() -> None:
    """What the tasks import (pipeline.run for ingest, enrich and the loads; pipeline.daily
    for news_daily) imports no spaCy and no datasketch (whose package pulls in scipy and
    redis, 1.7 s): spaCy comes with the model, when there are pages to tag, and datasketch
    with the first story signature, when a load has new articles. No gazetteer is read."""
    script = """
import sys
import pipeline.run, pipeline.daily
from pipeline.geo import gazetteer
heavy = {"spacy", "thinc", "datasketch", "scipy", "redis", "altair", "vl_convert"}
print(sorted({m.split(".")[0] for m in sys.modules} & heavy))
print(gazetteer.load_gazetteer.cache_info().currsize)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["[]", "0"]


def test_dags_have_production_settings(dags: dict[str, Any]) -> None:
    from _newsevents import NEW_EVENTS, RAW_ARTICLES

    for dag in dags.values():
        assert dag.tags and "newsevents" in dag.tags, dag.dag_id
        assert dag.doc_md and dag.doc_md.strip().startswith(f"### {dag.dag_id}:"), dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        for t in dag.tasks:
            where = f"{dag.dag_id}.{t.task_id}"
            assert t.retries >= 2, where
            assert t.retry_exponential_backoff > 1, where
            assert t.max_retry_delay is not None, where
            assert timedelta(0) < t.execution_timeout <= timedelta(hours=1), where
            assert t.doc_md and len(t.doc_md) > 40, where
    pooled = {t.task_id for d in dags.values() for t in d.tasks if t.pool == POOL}
    assert pooled == WRITERS

    ingest, enrich, daily = dags["news_ingest"], dags["news_enrich"], dags["news_daily"]
    assert ingest.schedule == "@daily"
    assert ingest.get_task("ingest_feed").is_mapped
    assert ingest.get_task("load_raw_pages").outlets == [RAW_ARTICLES]
    assert enrich.schedule == [RAW_ARTICLES]
    assert enrich.get_task("load_events").outlets == [NEW_EVENTS]
    assert daily.schedule == [NEW_EVENTS]


@pytest.mark.parametrize(("value", "schedule"), [("0 * * * *", "0 * * * *"), ("none", None)])
def test_ingest_schedule_comes_from_the_environment(
    airflow_home: Path, monkeypatch: pytest.MonkeyPatch, value: str, schedule: str | None
) -> None:
    monkeypatch.setenv("NEWS_INGEST_SCHEDULE", value)
    assert _parse_dags().dags["news_ingest"].schedule == schedule


# --- real runs -----------------------------------------------------------------------------


@pytest.fixture
def news_env(
    airflow_db: Path,
    fast_retries: None,
    demo_server: CorpusServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Path]:
    """Point the pipeline at a temporary DuckDB file and a registry of demo feeds."""

    def configure(feeds: int = 3) -> Path:
        registry = tmp_path / "feeds.yaml"
        entries = [dataclasses.asdict(f) for f in demo_server.feeds()[:feeds]]
        registry.write_text(yaml.safe_dump({"feeds": entries}), encoding="utf-8")
        monkeypatch.setenv("NEWS_FEEDS", str(registry))
        monkeypatch.setenv("NEWS_DB", str(tmp_path / "news.duckdb"))
        monkeypatch.setenv("NEWS_TIMEOUT", "5")
        monkeypatch.setenv("NEWS_LOCK_TIMEOUT", "2")
        # The demo server is a private address, and one host: allow it, without delays.
        monkeypatch.setenv("NEWS_ALLOW_PRIVATE_HOSTS", demo_server.base_url.split("//")[1])
        monkeypatch.setenv("NEWS_PER_HOST_DELAY", "0")
        monkeypatch.setenv("NEWS_PER_HOST_CONCURRENCY", "4")
        return tmp_path / "news.duckdb"

    return configure


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in TABLES}
        out["waiting"] = con.execute(
            "select count(*) from raw_pages where enriched_at is null"
        ).fetchall()[0][0]
        return out
    finally:
        con.close()


def _states(dr: Any) -> dict[str, str]:
    return {
        f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: str(ti.state)
        for ti in dr.get_task_instances()
    }


def _run(dag: Any, **kwargs: Any) -> Any:
    dr = dag.test(**kwargs)
    assert str(dr.state) == "success", _states(dr)
    assert set(_states(dr).values()) == {"success"}, _states(dr)
    return dr


def _asset_events(uri: str, dr: Any) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == uri, AssetEvent.source_run_id == dr.run_id)
        ).all()
        return [dict(e.extra) | {"task": e.source_task_id} for e in rows]


def _queued_for(dag_id: str) -> list[str]:
    """Assets that have queued a run of dag_id (what the scheduler turns into a run)."""
    from airflow.models.asset import AssetDagRunQueue, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    with create_session() as session:
        uris = session.scalars(
            select(AssetModel.uri)
            .join(AssetDagRunQueue, AssetDagRunQueue.asset_id == AssetModel.id)
            .where(AssetDagRunQueue.target_dag_id == dag_id)
        ).all()
        session.execute(delete(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == dag_id))
        return list(uris)


def test_ingest_then_enrich_loads_the_demo_corpus_and_emits_assets(
    dags: dict[str, Any], news_env: Callable[..., Path]
) -> None:
    from _newsevents import NEW_EVENTS, RAW_ARTICLES

    db = news_env()
    _queued_for("news_enrich")

    dr = _run(dags["news_ingest"], logical_date=LOGICAL_DATE)
    feeds = {ti.rendered_map_index for ti in dr.get_task_instances() if ti.map_index >= 0}
    assert feeds == {"meridian-world", "ledger-asia", "wire-diplomacy"}
    assert _counts(db) == {"raw_pages": PAGES, "articles": 0, "entities": 0, "places": 0,
                           "events": 0, "waiting": PAGES}  # fmt: skip
    (event,) = _asset_events(RAW_ARTICLES.uri, dr)
    assert event["task"] == "load_raw_pages"
    assert event["pages"] == PAGES and event["loaded"] == 3 and len(event["runs"]) == 3
    # The event queues a run of news_enrich: the scheduler would start it now.
    assert _queued_for("news_enrich") == [RAW_ARTICLES.uri]

    dr = _run(dags["news_enrich"])
    counts = _counts(db)
    assert counts["raw_pages"] == counts["articles"] == PAGES
    assert counts["waiting"] == 0
    assert counts["entities"] >= 300 and counts["events"] >= 20
    # The Airflow enrich path geoparses with the feeds' countries, as a pass does.
    assert counts["places"] >= 100
    (event,) = _asset_events(NEW_EVENTS.uri, dr)
    assert event["articles"] == PAGES and event["events"] == counts["events"]
    assert _queued_for("news_daily") == [NEW_EVENTS.uri]

    # The same logical date again (dag.test clears and re-runs it), then enrich: the
    # articles are known, nothing is fetched or loaded twice.
    dr = _run(dags["news_ingest"], logical_date=LOGICAL_DATE)
    assert _asset_events(RAW_ARTICLES.uri, dr)[0]["pages"] == 0
    _run(dags["news_enrich"])
    assert _counts(db) == counts
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("select trigger, count(*) from runs group by all").fetchall()
    finally:
        con.close()
    assert runs == [("airflow", 3 + 1 + 3 + 1)]  # one record per batch, including empty ones

    # The daily rollup: one row per day, and every dated factual event counted once.
    _run(dags["news_daily"])
    con = duckdb.connect(str(db), read_only=True)
    try:
        summed, days = con.execute("select sum(events), count(*) from daily_summary").fetchall()[0]
        expected = con.execute(
            "select count(*) from factual_events "
            "where coalesce(event_date, cast(published_at as date)) is not null"
        ).fetchall()[0][0]
        articles = con.execute("select sum(articles) from daily_summary").fetchall()[0][0]
        latest = con.execute("select max(cast(published_at as date)) from articles").fetchall()
    finally:
        con.close()
    assert summed == expected > 0
    assert days > 0 and 0 < articles <= PAGES
    # The day's report, beside the database: the demo's news ends before today, so its
    # day is the latest publication day (pipeline.daily.report_day).
    report = db.parent / "reports" / f"news-{latest[0][0].isoformat()}.html"
    assert report.is_file() and report.stat().st_size > 500_000
    page = report.read_text(encoding="utf-8")
    assert "window.vegaEmbed" in page and 'data-chart="map"' in page
    assert not list(report.parent.glob(".*.tmp"))  # written beside it, then renamed


def test_ingest_refuses_to_crawl_without_a_contact_when_it_is_required(
    dags: dict[str, Any],
    news_env: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As in docker compose: NEWS_REQUIRE_CONTACT on and no contact in NEWS_USER_AGENT. The
    run fails in read_registry, once (a retry cannot fix a setting), and fetches nothing."""
    db = news_env(feeds=1)
    monkeypatch.setenv("NEWS_REQUIRE_CONTACT", "true")
    # The feeds are the demo server's, on loopback; without the address-guard exception it
    # counts as somebody else's site (and the fetcher would refuse it anyway).
    monkeypatch.delenv("NEWS_ALLOW_PRIVATE_HOSTS")
    capsys.readouterr()

    dr = dags["news_ingest"].test(logical_date=LOGICAL_DATE)
    assert str(dr.state) == "failed"
    states = _states(dr)
    assert states.pop("read_registry") == "failed" and _load_try(dr, "read_registry") == 1
    assert set(states.values()) == {"upstream_failed"}, states
    out = capsys.readouterr()
    log = out.out + out.err
    assert "newsevents settings: refusing to crawl: require_contact is on" in log
    assert "Set NEWS_USER_AGENT to one with your e-mail address or an http(s) URL" in log
    assert not db.exists()  # nothing fetched, nothing stored


TASK_PROCESS = """
# Stands in for an Airflow task process: its __main__ is the `airflow` command, which
# imports airflow, and the supervisor blocks the metadata database before task code runs.
import json
import airflow  # noqa: F401
from airflow.sdk.execution_time.supervisor import block_orm_access

if __name__ == "__main__":
    block_orm_access()
    from pipeline.config import load_settings
    from pipeline.feeds import load_registry
    from pipeline.run import enrich_waiting_to_spool, ingest_feeds_to_spool, load_spools

    settings = load_settings()
    ingested = ingest_feeds_to_spool(load_registry(settings.feeds_path), settings)
    load_spools([ingested["spool"]], settings)
    enriched = enrich_waiting_to_spool(settings)
    load_spools([enriched["spool"]], settings)
    print(json.dumps({"pages": ingested["pages"], "events": enriched["events"]}))
"""


def test_the_dags_run_on_a_ducklake_store(
    dags: dict[str, Any], news_env: Callable[..., Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The same DAGs, with NEWS_DB a DuckLake URI: ingest, enrich, the daily rollup and
    the lake's maintenance, with the rows of the file store."""
    from pipeline.store import LakeStore

    db = news_env(feeds=1)
    _run(dags["news_ingest"], logical_date=LOGICAL_DATE)
    _run(dags["news_enrich"])
    on_file = _counts(db)
    lake = LakeStore(f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}", tmp_path / "lake",
                     lock_timeout_s=5)  # fmt: skip
    monkeypatch.setenv("NEWS_DB", lake.target)
    monkeypatch.setenv("NEWS_LAKE_DATA_PATH", str(lake.data_path))
    _run(dags["news_ingest"], logical_date=LOGICAL_DATE)
    _run(dags["news_enrich"])
    dr = _run(dags["news_daily"])
    on_lake = {t: lake.query(f"select count(*) from {t}")[1][0][0] for t in TABLES}
    assert on_lake == {t: on_file[t] for t in TABLES} and on_lake["events"] > 0
    (ti,) = [ti for ti in dr.get_task_instances() if ti.task_id == "maintain_store"]
    assert ti.state == "success"
    assert lake.query("select count(*) from daily_summary")[1][0][0] > 0
    # The report goes beside the lake's Parquet folder.
    (report,) = (tmp_path / "reports").glob("news-*.html")
    assert report.stat().st_size > 500_000


def test_the_pipeline_runs_inside_an_airflow_task_process(
    news_env: Callable[..., Path], tmp_path: Path
) -> None:
    """dag.test() runs tasks in this process; a worker runs them in a task process whose
    __main__ is the airflow command and whose metadata database is blocked. Code that
    starts subprocesses (e.g. spawn or forkserver pools, which re-import __main__) must
    still work there."""
    db = news_env(feeds=1)
    script = tmp_path / "airflow_task.py"
    script.write_text(TASK_PROCESS, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    con = duckdb.connect(str(db), read_only=True)
    try:
        statuses = dict(con.execute("select status, count(*) from articles group by 1").fetchall())
        events = con.execute("select count(*) from events").fetchall()[0][0]
    finally:
        con.close()
    assert sum(statuses.values()) == result["pages"] > 5
    assert statuses.get("ok", 0) >= result["pages"] - 2, statuses
    assert events == result["events"] > 0


class DieBeforeCommit:
    """Wraps `pipeline.store.sql.load_batch`: the `fail_on`-th batch of the first try dies after
    all its rows are inserted, just before commit. The counts in the database are recorded
    when the retry starts."""

    def __init__(self, db: Path, fail_on: int) -> None:
        self.db, self.fail_on, self.calls = db, fail_on, 0
        self.failed = False
        self.at_retry: dict[str, Any] | None = None
        self.real = pipeline.store.sql.load_batch

    def __call__(self, con: duckdb.DuckDBPyConnection, batch: Any, **kw: Any) -> bool:
        self.calls += 1
        if self.failed and self.at_retry is None:
            self.at_retry = {
                **{t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in TABLES},
                "raw_runs": {r[0] for r in con.execute("select run_id from raw_pages").fetchall()},
                "runs": {r[0] for r in con.execute("select run_id from runs").fetchall()},
            }
        if not self.failed and self.calls == self.fail_on:
            self.failed = True
            return self.real(_RaiseOnRunsInsert(con), batch, **kw)  # type: ignore[arg-type]
        return self.real(con, batch, **kw)


class _RaiseOnRunsInsert:
    """A connection whose insert into runs (the last statement of a batch) fails."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().startswith("insert into runs"):
            raise RuntimeError("injected failure: the load died before commit")
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _load_try(dr: Any, task_id: str) -> int:
    (ti,) = [ti for ti in dr.get_task_instances() if ti.task_id == task_id]
    return int(ti.try_number)


def test_a_failed_enrich_load_leaves_none_of_the_batch_and_its_retry_loads_all(
    dags: dict[str, Any], news_env: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = news_env(feeds=1)  # one feed keeps the tagging short
    _run(dags["news_ingest"], logical_date=LOGICAL_DATE)
    pages = _counts(db)["waiting"]
    assert pages > 5

    flaky = DieBeforeCommit(db, fail_on=1)
    monkeypatch.setattr(pipeline.store.sql, "load_batch", flaky)
    dr = _run(dags["news_enrich"])

    assert _load_try(dr, "load_events") == 2
    # After the failed try: none of the batch, and every page still waiting.
    assert flaky.at_retry is not None
    assert {t: flaky.at_retry[t] for t in TABLES} == {
        "raw_pages": pages, "articles": 0, "entities": 0, "places": 0, "events": 0
    }  # fmt: skip
    # After the retry: all of it.
    counts = _counts(db)
    assert counts["articles"] == pages and counts["waiting"] == 0
    assert counts["entities"] > 0 and counts["places"] > 0 and counts["events"] > 0


def test_a_failed_ingest_load_leaves_each_batch_whole_or_absent(
    dags: dict[str, Any], news_env: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = news_env()
    flaky = DieBeforeCommit(db, fail_on=2)  # the second of the three feeds' batches
    monkeypatch.setattr(pipeline.store.sql, "load_batch", flaky)
    dr = _run(dags["news_ingest"], logical_date=LOGICAL_DATE)

    assert _load_try(dr, "load_raw_pages") == 2
    con = duckdb.connect(str(db), read_only=True)
    try:
        per_run = dict(con.execute("select run_id, count(*) from raw_pages group by 1").fetchall())
    finally:
        con.close()
    assert sum(per_run.values()) == PAGES and len(per_run) == 3
    # After the failed try: the first batch whole, the second (failed) and third absent.
    assert flaky.at_retry is not None
    (first,) = flaky.at_retry["raw_runs"]
    assert flaky.at_retry["raw_pages"] == per_run[first]
    assert flaky.at_retry["runs"] == {first}


def _add_unexplained_failures(db: Path, n: int) -> None:
    """Failed fetches without a reason: the check fetch_failures_explained flags them."""
    with FileStore(db, lock_timeout_s=5).writer() as con:
        for i in range(n):
            con.execute(
                "insert into fetch_log by name select 'bad-run' as run_id, "
                f"'http://127.0.0.1/bad-{i}' as url, 'article' as kind, now() as fetched_at, "
                "500 as status, 0 as bytes, 1 as duration_ms"
            )


def test_daily_fails_on_a_bad_row_and_logs_it(
    dags: dict[str, Any], news_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db = news_env()
    _run(dags["news_daily"])  # an empty database passes every check
    _add_unexplained_failures(db, 1)
    capsys.readouterr()

    dr = dags["news_daily"].test()
    assert str(dr.state) == "failed"
    assert _states(dr) == {"refresh_daily_summary": "success", "check_data_quality": "failed",
                           "maintain_store": "success", "write_report": "success"}  # fmt: skip
    # A data-quality failure is not retried: a retry would find the same rows.
    assert _load_try(dr, "check_data_quality") == 1
    out = capsys.readouterr()
    log = out.out + out.err
    assert "fetch_failures_explained: 1 row" in log
    assert "('bad-run', 'http://127.0.0.1/bad-0', 'article')" in log


def test_check_failures_list_the_offending_rows(tmp_path: Path) -> None:
    from pipeline.daily import DataQualityError, check_quality
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    _add_unexplained_failures(settings.db_path, 3)
    with pytest.raises(DataQualityError) as exc:
        check_quality(settings, max_rows=2)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith("1 of ") and "data-quality checks failed" in lines[0]
    assert lines[1] == "- fetch_failures_explained: 3 rows, first 2 shown"
    assert len(lines) == 4 and "bad-0" in lines[2] and "bad-1" in lines[3]


# --- politeness across the mapped tasks ----------------------------------------------------

ONE_HOST_DELAY_S = 0.8


def _one_host_site(server: HTTPServer, base: str) -> Callable[[], list[tuple[float, str]]]:
    """Two feeds of two articles each and a robots.txt, all on one host; returns a
    function that gives the server's own log: (arrival, path), in arrival order."""
    lock = threading.Lock()
    seen: list[tuple[float, str]] = []

    def page(body: str, content_type: str) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            with lock:
                seen.append((time.monotonic(), request.path))
            return Response(body, content_type=content_type)

        return handler

    server.expect_request("/robots.txt").respond_with_handler(
        page("User-agent: *\nAllow: /\n", "text/plain")
    )
    for name in ("a", "b"):
        items = "".join(
            f"<item><title>{name} {n}</title><link>{base}/{name}/{n}.html</link>"
            "<pubDate>Sun, 02 Nov 2025 09:15:00 +0000</pubDate></item>"
            for n in (1, 2)
        )
        rss = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{name}</title><link>{base}/</link><description>d</description>"
            f"{items}</channel></rss>"
        )
        server.expect_request(f"/{name}.rss").respond_with_handler(page(rss, "application/rss+xml"))
        for n in (1, 2):
            html = f"<html><body><article><p>Story {name} {n}.</p></article></body></html>"
            server.expect_request(f"/{name}/{n}.html").respond_with_handler(page(html, "text/html"))

    def log() -> list[tuple[float, str]]:
        with lock:
            return sorted(seen)

    return log


def test_per_host_delay_holds_across_the_mapped_ingest_tasks(
    dags: dict[str, Any],
    airflow_db: Path,
    fast_retries: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two feeds on one host are two mapped task instances, each with its own fetcher:
    the host's delay must still hold between every two request starts the server saw,
    including the last request of one task and the first of the next. (dag.test() runs
    the two one after the other; tests/test_politeness.py runs fetchers in processes at
    the same time.)"""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        log = _one_host_site(server, base)
        feeds = [{"name": f"site-{n}", "url": f"{base}/{n}.rss"} for n in ("a", "b")]
        registry = tmp_path / "feeds.yaml"
        registry.write_text(yaml.safe_dump({"feeds": feeds}), encoding="utf-8")
        monkeypatch.setenv("NEWS_FEEDS", str(registry))
        monkeypatch.setenv("NEWS_DB", str(tmp_path / "news.duckdb"))
        monkeypatch.setenv("NEWS_TIMEOUT", "5")
        monkeypatch.setenv("NEWS_LOCK_TIMEOUT", "2")
        monkeypatch.setenv("NEWS_ALLOW_PRIVATE_HOSTS", f"127.0.0.1:{server.port}")
        monkeypatch.setenv("NEWS_PER_HOST_DELAY", str(ONE_HOST_DELAY_S))
        monkeypatch.setenv("NEWS_PER_HOST_CONCURRENCY", "2")

        dr = _run(dags["news_ingest"], logical_date=LOGICAL_DATE)
        seen = log()
    finally:
        server.stop()
    mapped = {ti.rendered_map_index for ti in dr.get_task_instances() if ti.map_index >= 0}
    assert mapped == {"site-a", "site-b"}
    paths = [p for _, p in seen]
    # Each task's fetcher reads robots.txt, its feed and the feed's two articles.
    articles = [f"/{site}/{n}.html" for site in "ab" for n in (1, 2)]
    assert sorted(paths) == sorted(["/robots.txt", "/robots.txt", "/a.rss", "/b.rss", *articles])
    gaps = [round(b - a, 3) for (a, _), (b, _) in itertools.pairwise(seen)]
    assert min(gaps) >= ONE_HOST_DELAY_S - 0.05, list(zip(paths[1:], gaps, strict=True))
    assert _counts(tmp_path / "news.duckdb")["raw_pages"] == 4
