"""config/airflow/celery_smoke.py (`make celery-smoke`), its pieces without the run: the
environments and commands it builds (CeleryExecutor, everything on 127.0.0.1, the
pipeline's settings on the worker only), the stores it can name, and the /proc scans
that find its processes and their listening sockets. The run itself needs Redis,
Postgres and minutes, so it is not part of the suite."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "celery_smoke", ROOT / "config" / "airflow" / "celery_smoke.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


smoke = _load()
PORTS = smoke.Ports(postgres=5001, redis=5002, api=5003)
PW = smoke.Secrets("pgpw", "redispw", "j" * 64, "apikey")


def test_airflow_runs_the_celery_executor_on_loopback(tmp_path: Path) -> None:
    base = {"PATH": "/usr/bin", "HOME": "/root", "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "NEWS_DB": "/elsewhere.duckdb"}  # fmt: skip
    env = smoke.airflow_env(tmp_path, PORTS, PW, base)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"  # the caller's does not leak
    assert not any(k.startswith("NEWS_") and k != "NEWS_INGEST_SCHEDULE" for k in env)
    assert env["NEWS_INGEST_SCHEDULE"] == "none"  # only the triggered run
    db = "postgresql+psycopg2://airflow:pgpw@127.0.0.1:5001/airflow"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == db
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{db}"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:redispw@127.0.0.1:5002/0"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:5003/execution/"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(ROOT / "dags")
    assert env["AIRFLOW_HOME"].startswith(str(tmp_path))
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)


def test_only_the_worker_gets_the_pipeline_settings(tmp_path: Path) -> None:
    env = smoke.airflow_env(tmp_path, PORTS, PW, {"PATH": "/usr/bin"})
    store = smoke.store_env("duckdb", tmp_path, PORTS, PW)
    worker = smoke.worker_env(env, store, tmp_path / "feeds.yaml", "127.0.0.1:4242")
    assert worker.items() >= env.items()
    assert worker["NEWS_DB"] == str(tmp_path / "news.duckdb")
    assert worker["NEWS_FEEDS"] == str(tmp_path / "feeds.yaml")
    assert worker["NEWS_ALLOW_PRIVATE_HOSTS"] == "127.0.0.1:4242"  # the demo server only
    assert worker["AIRFLOW__CELERY__POOL"] == "solo"
    prefork = smoke.worker_env(env, store, tmp_path / "f.yaml", "127.0.0.1:1", "prefork")
    assert prefork["AIRFLOW__CELERY__POOL"] == "prefork"


def test_the_stores_it_can_name(tmp_path: Path) -> None:
    def store(db: str, data: str = "") -> dict[str, str]:
        return dict(smoke.store_env(db, tmp_path, PORTS, PW, data))

    assert store("duckdb") == {"NEWS_DB": str(tmp_path / "news.duckdb")}
    assert store("lake") == {"NEWS_DB": f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}",
                             "NEWS_LAKE_DATA_PATH": str(tmp_path / "lake")}  # fmt: skip
    lake_pg = store("lake-postgres")
    assert lake_pg["NEWS_DB"] == ("ducklake:postgres:dbname=newsevents_lake host=127.0.0.1 "
                                  "port=5001 user=airflow password=pgpw")  # fmt: skip
    assert smoke.masked(lake_pg["NEWS_DB"]).endswith("password=***")
    assert store("/srv/x.duckdb") == {"NEWS_DB": "/srv/x.duckdb"}
    assert store("ducklake:sqlite:/srv/c.sqlite", "/srv/lake") == {
        "NEWS_DB": "ducklake:sqlite:/srv/c.sqlite", "NEWS_LAKE_DATA_PATH": "/srv/lake"}  # fmt: skip


def test_the_commands_listen_on_loopback_only(tmp_path: Path) -> None:
    commands = smoke.components()
    assert set(commands) == {"scheduler", "dag-processor", "api-server", "celery-worker"}
    worker = commands["celery-worker"]
    assert worker[:3] == ["airflow", "celery", "worker"]
    # No log server (it would bind 0.0.0.0); the worker's name is what the check expects.
    assert "--skip-serve-logs" in worker and "--skip-serve-logs" in commands["scheduler"]
    assert worker[worker.index("--celery-hostname") + 1] == f"{smoke.WORKER_NAME}@%h"
    redis = smoke.redis_command("redis-server", 5002, "pw", tmp_path)
    assert redis[redis.index("--bind") + 1] == "127.0.0.1"
    assert redis[redis.index("--requirepass") + 1] == "pw"
    pg = smoke.postgres_command(Path("/usr/lib/postgresql/15/bin"), tmp_path, 5001)
    assert pg[0] == "/usr/lib/postgresql/15/bin/postgres"
    assert "listen_addresses=127.0.0.1" in pg and "unix_socket_directories=" in pg


def test_the_row_count_check() -> None:
    pages = smoke.EXPECTED_PAGES
    good = {"raw_pages": pages, "waiting": 0, "articles": pages, "entities": 1628,
            "places": 631, "events": 418, "daily_summary": 44}  # fmt: skip
    smoke.check_counts(good)
    for bad in ({"waiting": 3}, {"articles": 0}, {"events": 5}, {"daily_summary": 0}):
        with pytest.raises(smoke.SmokeError):
            smoke.check_counts({**good, **bad})


def test_it_finds_its_processes_and_their_listening_sockets(tmp_path: Path) -> None:
    token = str(tmp_path)
    child = subprocess.Popen(["sleep", "30"], env={"SMOKE_TOKEN": token})
    other = subprocess.Popen(["sleep", "30"], process_group=0)
    try:
        found = smoke.processes_of(token, {other.pid})
        assert child.pid in found and other.pid in found  # by environment, by group
        assert os.getpid() not in found
    finally:
        for proc in (child, other):
            proc.kill()
            proc.wait()
    assert not set(smoke.processes_of(token, {other.pid})) & {child.pid, other.pid}

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert f"127.0.0.1:{port}" in smoke.listeners_of([os.getpid()])
    assert smoke.is_loopback("127.0.0.1:80") and smoke.is_loopback("[::1]:80")
    assert not smoke.is_loopback("0.0.0.0:8793") and not smoke.is_loopback("[::]:8793")
