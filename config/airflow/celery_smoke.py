"""`make celery-smoke`: the DAGs under Airflow's CeleryExecutor, for real, on one machine.

There is no Docker engine on the machines that run the tests, so the compose profile
`celery` cannot be started there. This starts the same kind of stack from the machine's
own packages, every piece listening on 127.0.0.1 only, in a temporary directory:

- Redis (Debian's redis-server), the Celery broker, with a random password;
- a throwaway PostgreSQL (Debian's postgresql, run as its `postgres` user), holding
  Airflow's metadata database, Celery's result backend and an empty `newsevents_lake`
  database for a DuckLake catalog (`--db lake-postgres`);
- Airflow's scheduler (CeleryExecutor), dag-processor and api-server, and one `airflow
  celery worker`: the only process with the pipeline's NEWS_* settings;
- the demo corpus, served by this process (pipeline.demo) on 127.0.0.1.

Then it triggers news_ingest, waits (bounded) for it and for the Asset-scheduled
news_enrich and news_daily to succeed, checks that every task ran on the Celery worker
(Celery's result backend holds a SUCCESS written by that worker for each task instance)
and the row counts in the store, checks that nothing listened beyond 127.0.0.1, stops
everything (each component's process group: SIGTERM, then SIGKILL) and checks that no
process and no port is left. Exit status 0 only if all of that held; the summary says
what was checked. The temporary directory is removed after a success, and kept (with
every component's log) after a failure.

    python config/airflow/celery_smoke.py                 # ducklake:sqlite:<tmp>/lake.sqlite
    python config/airflow/celery_smoke.py --db duckdb     # a DuckDB file, <tmp>/news.duckdb
    python config/airflow/celery_smoke.py --db lake-postgres   # catalog in the Postgres
    python config/airflow/celery_smoke.py --db /srv/news.duckdb   # any NEWS_DB value
    python config/airflow/celery_smoke.py --pool prefork  # Celery's default pool

A missing redis-server or postgresql is installed with apt-get (as root), since a fresh
machine of this project's kind may not have them.

Why Postgres for the metadata database: Airflow 3.3.2 accepts SQLite with the
CeleryExecutor (neither Airflow nor the Celery provider checks), and a probe with one
worker on this machine ran the three DAGs through it. But a SQLite file serves one
machine, while Celery's workers, which write the result backend, are there to run on
others; Airflow documents SQLite for development only, and the compose profile uses
Postgres. So does this. Debian's
postgresql rather than the pip package pgserver: the machine image already has it (a
supported version, 15, with Debian's security updates), and it adds nothing to the lock.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import ipaddress
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from standalone import stop_group  # noqa: E402  (config/airflow is not a package)

from pipeline.demo import stored_pages  # noqa: E402

DAGS = ("news_ingest", "news_enrich", "news_daily")
# What the demo corpus gives (as tests/test_dags.py checks it): every page stored and
# enriched, and at least this many entities and events.
EXPECTED_PAGES = stored_pages()
MIN_ENTITIES, MIN_EVENTS = 300, 20
WORKER_NAME = "newsevents-smoke"
LAKE_DB = "newsevents_lake"
GRACE_S = 20.0


class SmokeError(RuntimeError):
    """A check failed or a component did not come up; the message says which."""


# ---------------------------------------------------------------------------- settings


@dataclasses.dataclass(frozen=True)
class Ports:
    postgres: int
    redis: int
    api: int


@dataclasses.dataclass(frozen=True)
class Secrets:
    postgres: str
    redis: str
    jwt: str
    api: str

    @classmethod
    def fresh(cls) -> Secrets:
        return cls(secrets.token_hex(16), secrets.token_hex(16), secrets.token_urlsafe(64),
                   secrets.token_urlsafe(32))  # fmt: skip


def store_env(db: str, tmp: Path, ports: Ports, pw: Secrets, lake_data: str = "") -> dict[str, str]:
    """NEWS_DB (and NEWS_LAKE_DATA_PATH for a DuckLake store) for a --db value: `duckdb`
    (a DuckDB file), `lake` (DuckLake, SQLite catalog), `lake-postgres` (DuckLake, catalog
    in the smoke's Postgres, as in the compose profile), or a path or URI used as it is."""
    if db == "duckdb":
        return {"NEWS_DB": str(tmp / "news.duckdb")}
    if db == "lake":
        uri = f"ducklake:sqlite:{tmp / 'lake.sqlite'}"
    elif db == "lake-postgres":
        uri = (f"ducklake:postgres:dbname={LAKE_DB} host=127.0.0.1 port={ports.postgres} "
               f"user=airflow password={pw.postgres}")  # fmt: skip
    else:
        uri = db
    if not uri.startswith("ducklake:"):
        return {"NEWS_DB": uri}
    return {"NEWS_DB": uri, "NEWS_LAKE_DATA_PATH": lake_data or str(tmp / "lake")}


def masked(value: str) -> str:
    return re.sub(r"(password=)\S+", r"\1***", value)


def airflow_env(tmp: Path, ports: Ports, pw: Secrets, base: dict[str, str]) -> dict[str, str]:
    """The environment of every Airflow component: the CeleryExecutor, with Redis as the
    broker and Postgres as the metadata database and result backend, all on 127.0.0.1."""
    db = f"postgresql+psycopg2://airflow:{pw.postgres}@127.0.0.1:{ports.postgres}/airflow"
    api = f"http://127.0.0.1:{ports.api}"
    env = {k: v for k, v in base.items() if not k.startswith(("AIRFLOW", "NEWS_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp / "airflow_home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://:{pw.redis}@127.0.0.1:{ports.redis}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db}",
        # The result backend then records which worker ran each task (checked at the end).
        "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"result_extended": True}),
        # Longer than the longest task timeout (1 h), so no task is delivered twice.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "7200",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ports.api),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API_AUTH__JWT_SECRET": pw.jwt,
        "AIRFLOW__API__SECRET_KEY": pw.api,
        # Read when the DAG files are parsed: no scheduled run, only the triggered one.
        "NEWS_INGEST_SCHEDULE": "none",
        "PATH": f"{Path(sys.executable).parent}:{base.get('PATH', '/usr/bin:/bin')}",
    })  # fmt: skip
    return env


def worker_env(airflow: dict[str, str], store: dict[str, str], feeds: Path, hostport: str,
               pool: str = "solo") -> dict[str, str]:  # fmt: skip
    """The worker's environment: Airflow's plus the pipeline's settings. Only the worker
    runs tasks, so only it gets them; the demo server is the one private host allowed.

    The pool is `solo` by default, as in the compose profile; `prefork` (Celery's
    default, whose processes are daemonic) works as well."""
    return {
        **airflow, **store,
        "AIRFLOW__CELERY__POOL": pool,
        "NEWS_FEEDS": str(feeds),
        "NEWS_ALLOW_PRIVATE_HOSTS": hostport,
        "NEWS_PER_HOST_DELAY": "0",
        "NEWS_USER_AGENT": "newsevents celery-smoke (local demo corpus only)",
    }  # fmt: skip


def components() -> dict[str, list[str]]:
    """The Airflow processes: no triggerer (no task defers), no log servers (every log is
    a local file under AIRFLOW_HOME, and they would listen on 0.0.0.0)."""
    return {
        "scheduler": ["airflow", "scheduler", "--skip-serve-logs"],
        "dag-processor": ["airflow", "dag-processor"],
        "api-server": ["airflow", "api-server"],
        "celery-worker": ["airflow", "celery", "worker", "--celery-hostname",
                          f"{WORKER_NAME}@%h", "--skip-serve-logs", "--without-mingle",
                          "--without-gossip"],
    }  # fmt: skip


def redis_command(binary: str, port: int, password: str, data: Path) -> list[str]:
    return [binary, "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password,
            "--protected-mode", "yes", "--save", "", "--appendonly", "no", "--dir", str(data),
            "--daemonize", "no"]  # fmt: skip


def postgres_command(bindir: Path, data: Path, port: int) -> list[str]:
    """TCP on 127.0.0.1 only (no Unix socket); durability off: the cluster is thrown away."""
    return [str(bindir / "postgres"), "-D", str(data), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200"]  # fmt: skip


# ---------------------------------------------------------------------------- machine


def say(start: float, message: str) -> None:
    print(f"[{time.monotonic() - start:6.1f}s] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def apt_install(package: str) -> None:
    """Install a Debian package (as root) with tools/debian_packages.py, which also
    installs what `make test` needs: one place for the machine's packages."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "debian_packages.py"), package],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SmokeError(done.stderr.strip().removeprefix("debian_packages: "))


def find_redis() -> str:
    found = shutil.which("redis-server")
    if not found:
        apt_install("redis-server")
        found = shutil.which("redis-server")
    if not found:
        raise SmokeError("redis-server is not on PATH after installing it")
    return found


def find_postgres() -> Path:
    """The bin directory of Debian's newest installed PostgreSQL."""

    def newest() -> Path | None:
        dirs = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
        return max(dirs, key=lambda p: int(p.parent.name), default=None)

    bindir = newest()
    if bindir is None:
        apt_install("postgresql")
        bindir = newest()
    if bindir is None:
        raise SmokeError("no /usr/lib/postgresql/*/bin/postgres after installing postgresql")
    return bindir


def _proc_stat(pid: str) -> tuple[str, int] | None:
    try:
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")"
        stat = (Path("/proc") / pid / "stat").read_text()
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
    except (OSError, ValueError):
        return None
    return state, int(pgrp)


def processes_of(token: str, pgids: set[int]) -> list[int]:
    """Live processes (not zombies) in one of the process groups, or whose command line or
    environment names `token` (the temporary directory): every process this smoke
    started, and any that left its group."""
    out = []
    needle = token.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        stat = _proc_stat(entry.name)
        if stat is None or stat[0] == "Z":
            continue
        if stat[1] in pgids:
            out.append(int(entry.name))
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in blob:
            out.append(int(entry.name))
    return out


def listening_sockets() -> dict[str, str]:
    """Socket inode -> "host:port" of every TCP socket in LISTEN state."""
    out = {}
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] != "0A":
                    continue
                hexaddr, hexport = fields[1].split(":")
                raw = bytes.fromhex(hexaddr)
                if v6:
                    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
                    host = "[" + str(ipaddress.IPv6Address(b"".join(words))) + "]"
                else:
                    host = str(ipaddress.IPv4Address(raw[::-1]))
                out[fields[9]] = f"{host}:{int(hexport, 16)}"
    return out


def listeners_of(pids: list[int]) -> set[str]:
    inodes = listening_sockets()
    found = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in (Path("/proc") / str(pid) / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    found.add(inodes[link[8:-1]])
    return found


def is_loopback(hostport: str) -> bool:
    host = hostport.rsplit(":", 1)[0].strip("[]")
    return ipaddress.ip_address(host).is_loopback


# ---------------------------------------------------------------------------- the stack


@dataclasses.dataclass
class Group:
    """Processes started in one new process group, stopped together."""

    name: str
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = dataclasses.field(default_factory=dict)
    pgid: int = 0

    def start(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path,
              **kw: Any) -> subprocess.Popen[bytes]:  # fmt: skip
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, process_group=self.pgid,
                                **kw)  # fmt: skip
        log.close()
        self.pgid = self.pgid or proc.pid
        self.procs[name] = proc
        return proc

    def running(self) -> bool:
        return any(proc.poll() is None for proc in self.procs.values())

    def check_running(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                log = self.logs / f"{name}.log"
                raise SmokeError(f"{name} exited with {proc.returncode} (log: {log})")

    def stop(self, first_signal: int = signal.SIGTERM) -> bool:
        """`first_signal` to the group leader (or SIGTERM to the group), then what
        standalone.stop_group does. True if something had to be killed."""
        if not self.pgid:
            return False
        if first_signal != signal.SIGTERM:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pgid, first_signal)
            deadline = time.monotonic() + GRACE_S
            while time.monotonic() < deadline and self.running():
                time.sleep(0.2)
        killed = stop_group(self.pgid, GRACE_S)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        return killed


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5,
             alive: Callable[[], None] = lambda: None) -> Any:  # fmt: skip
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        alive()
        try:
            result = check()
        except SmokeError:
            raise
        except Exception as exc:  # a component that is not up yet refuses or errs
            last, result = exc, None
        if result:
            return result
        time.sleep(every)
    raise SmokeError(f"timed out after {timeout:.0f} s waiting for {what}"
                     + (f" (last error: {last})" if last else ""))  # fmt: skip


def start_postgres(group: Group, bindir: Path, tmp: Path, port: int, password: str) -> Path:
    """initdb a new cluster in tmp/postgres (owned by the `postgres` user when run as
    root, since PostgreSQL refuses to run as root), then start it."""
    data = tmp / "postgres"
    data.mkdir(mode=0o700)
    pwfile = data / "pwfile"
    pwfile.write_text(password + "\n")
    kw: dict[str, Any] = {}
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(data, user.pw_uid, user.pw_gid)
        os.chown(pwfile, user.pw_uid, user.pw_gid)
        kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    cluster = data / "cluster"
    done = subprocess.run(
        [str(bindir / "initdb"), "-D", str(cluster), "-U", "airflow", f"--pwfile={pwfile}",
         "--auth=scram-sha-256", "--no-locale", "-E", "UTF8", "--no-sync"],
        capture_output=True, text=True, cwd=data, **kw,
    )  # fmt: skip
    pwfile.unlink()
    if done.returncode != 0:
        raise SmokeError(f"initdb failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    group.start("postgres", postgres_command(bindir, cluster, port), dict(os.environ), data, **kw)
    return cluster


def pg_connect(port: int, password: str, dbname: str = "postgres") -> Any:
    import psycopg2

    return psycopg2.connect(host="127.0.0.1", port=port, user="airflow", password=password,
                            dbname=dbname, connect_timeout=3)  # fmt: skip


def query(port: int, password: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(pg_connect(port, password, "airflow")) as con, con.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def redis_ping(port: int, password: str) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()


def api_healthy(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    with urllib.request.urlopen(url, timeout=3) as response:
        return bool(response.status == 200)


def airflow_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(["airflow", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise SmokeError(f"airflow {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


@contextlib.contextmanager
def demo_feeds(tmp: Path) -> Iterator[tuple[Path, str]]:
    """Serve the demo corpus on 127.0.0.1 and write its feed registry, pointing there."""
    from pipeline.demo import TOKEN, serve_corpus

    with serve_corpus() as server:
        feeds = tmp / "feeds.yaml"
        text = (server.corpus / "feeds.yaml").read_text(encoding="utf-8")
        feeds.write_text(text.replace(TOKEN, server.base_url), encoding="utf-8")
        yield feeds, server.hostport


# ---------------------------------------------------------------------------- the checks


def run_states(port: int, pw: str, since: Any) -> dict[str, tuple[str, str, float | None]]:
    """dag_id -> (run_id, state, seconds) of each DAG's first run started after `since`."""
    rows = query(port, pw, "select dag_id, run_id, state, extract(epoch from end_date - "
                 "start_date) from dag_run where dag_id = any(%s) and run_after >= %s "
                 "order by run_after", list(DAGS), since)  # fmt: skip
    out: dict[str, tuple[str, str, float | None]] = {}
    for dag_id, run_id, state, seconds in rows:
        out.setdefault(dag_id, (run_id, state, float(seconds) if seconds is not None else None))
    return out


def worker_results(port: int, pw: str, runs: dict[str, tuple[str, str, float | None]]
                   ) -> tuple[list[tuple[Any, ...]], list[str]]:  # fmt: skip
    """The task instances of the runs, with what Celery's result backend says of each,
    and the problems: a task instance that did not succeed, or has no SUCCESS written by
    our worker. The worker writes that result when the task's process has exited, a
    moment after the task instance is marked success."""
    pairs = [(dag_id, run_id) for dag_id, (run_id, _, _) in runs.items()]
    rows = query(port, pw, """
        select ti.dag_id, ti.task_id, ti.map_index, ti.state, ti.queue, ti.external_executor_id,
               m.status, m.worker
        from task_instance ti
        left join celery_taskmeta m on m.task_id = ti.external_executor_id
        where (ti.dag_id, ti.run_id) in %s""", tuple(pairs))  # fmt: skip
    problems = []
    for dag_id, task_id, map_index, state, _queue, celery_id, status, worker in rows:
        name = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index >= 0 else "")
        if state != "success":
            problems.append(f"{name}: state {state}")
        elif not celery_id or status != "SUCCESS" or not str(worker).startswith(WORKER_NAME + "@"):
            problems.append(f"{name}: celery task {celery_id}, result {status}, worker {worker}")
    return rows, problems or ([] if rows else ["no task instances found"])


def check_tasks_ran_on_worker(port: int, pw: str, runs: dict[str, tuple[str, str, float | None]]
                              ) -> tuple[int, set[str], set[str]]:  # fmt: skip
    """Every task instance of the runs succeeded through Celery: it has a Celery task id,
    and Celery's result backend holds SUCCESS for that id, written by our worker (waited
    for up to 60 s). Returns the number of task instances, the workers and the queues."""
    deadline = time.monotonic() + 60
    rows, problems = worker_results(port, pw, runs)
    while problems and time.monotonic() < deadline:
        time.sleep(1)
        rows, problems = worker_results(port, pw, runs)
    if problems:
        detail = "\n  ".join(problems)
        raise SmokeError(f"tasks not run by the Celery worker:\n  {detail}")
    return len(rows), {str(r[7]) for r in rows}, {str(r[4]) for r in rows}


def store_counts(env: dict[str, str], cwd: Path) -> dict[str, int]:
    """Row counts through the CLI (`newsevents query`), whatever backend NEWS_DB names."""
    sql = ("select (select count(*) from raw_pages) as raw_pages, "
           "(select count(*) from raw_pages where enriched_at is null) as waiting, "
           "(select count(*) from articles) as articles, "
           "(select count(*) from entities) as entities, "
           "(select count(*) from places) as places, "
           "(select count(*) from events) as events, "
           "(select count(*) from daily_summary) as daily_summary")  # fmt: skip
    done = subprocess.run([str(Path(sys.executable).parent / "newsevents"), "query", "--format",
                           "json", sql], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    if done.returncode != 0:
        raise SmokeError(f"newsevents query failed:\n{(done.stdout + done.stderr)[-2000:]}")
    rows = json.loads(done.stdout)
    return {k: int(v) for k, v in rows[0].items()}


def check_counts(counts: dict[str, int]) -> None:
    problems = []
    if counts["raw_pages"] != EXPECTED_PAGES or counts["articles"] != EXPECTED_PAGES:
        problems.append(f"expected {EXPECTED_PAGES} raw pages and articles")
    if counts["waiting"]:
        problems.append("raw pages left waiting for enrichment")
    if counts["entities"] < MIN_ENTITIES or counts["events"] < MIN_EVENTS:
        problems.append(f"expected at least {MIN_ENTITIES} entities and {MIN_EVENTS} events")
    if counts["daily_summary"] < 1:
        problems.append("daily_summary is empty")
    if problems:
        raise SmokeError(f"row counts {counts}: " + "; ".join(problems))


# ---------------------------------------------------------------------------- main


@dataclasses.dataclass
class Stack:
    """The process groups started so far, stopped in reverse order, each after its own
    first signal (Postgres: SIGINT, a fast shutdown)."""

    groups: list[tuple[Group, int]] = dataclasses.field(default_factory=list)

    def add(self, name: str, logs: Path, first_signal: int = signal.SIGTERM) -> Group:
        group = Group(name, logs)
        self.groups.append((group, first_signal))
        return group

    def pgids(self) -> set[int]:
        return {g.pgid for g, _ in self.groups if g.pgid}

    def stop(self, token: str) -> tuple[list[str], list[int]]:
        """Stop every group; return the groups that needed SIGKILL and the processes of
        the smoke still alive after that (none, if the stop worked)."""
        killed = [g.name for g, first in reversed(self.groups) if g.stop(first)]
        pgids = self.pgids()
        deadline = time.monotonic() + 10
        left = processes_of(token, pgids)
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = processes_of(token, pgids)
        return killed, left


def smoke(args: argparse.Namespace, tmp: Path, start: float, stack: Stack) -> list[str]:
    """Start the stack, run the DAGs, check; the summary lines. The caller stops it."""
    ports = Ports(free_port(), free_port(), free_port())
    pw = Secrets.fresh()
    logs = tmp / "logs"
    logs.mkdir()
    redis_bin, pg_bin = find_redis(), find_postgres()
    say(start, f"using {redis_bin} and {pg_bin}; everything in {tmp}")

    pg = stack.add("postgres", logs, signal.SIGINT)
    start_postgres(pg, pg_bin, tmp, ports.postgres, pw.postgres)
    wait_for("postgres", lambda: pg_connect(ports.postgres, pw.postgres).close() or True,
             60, alive=pg.check_running)  # fmt: skip
    with contextlib.closing(pg_connect(ports.postgres, pw.postgres)) as con:
        con.autocommit = True
        with con.cursor() as cur:
            for name in ("airflow", LAKE_DB):
                cur.execute(f"create database {name}")
            cur.execute("show server_version")
            pg_version = cur.fetchall()[0][0].split()[0]
    say(start, f"postgres {pg_version} on 127.0.0.1:{ports.postgres} "
               f"(databases airflow and {LAKE_DB})")  # fmt: skip

    rd = stack.add("redis", logs)
    (tmp / "redis").mkdir()
    rd.start("redis", redis_command(redis_bin, ports.redis, pw.redis, tmp / "redis"),
             dict(os.environ), tmp / "redis")  # fmt: skip
    wait_for("redis", lambda: redis_ping(ports.redis, pw.redis), 30, alive=rd.check_running)
    say(start, f"redis on 127.0.0.1:{ports.redis} (the Celery broker)")

    env = airflow_env(tmp, ports, pw, dict(os.environ))
    store = store_env(args.db, tmp, ports, pw, args.lake_data_path)
    with demo_feeds(tmp) as (feeds, hostport):
        say(start, f"demo corpus on http://{hostport}")
        wenv = worker_env(env, store, feeds, hostport, args.pool)
        work = tmp / "work"  # the worker's directory: relative paths land in tmp
        work.mkdir()
        airflow_cli(["db", "migrate"], env, tmp, 600)
        airflow_cli(["pools", "set", "duckdb_writer", "1", "one writer at a time"], env, tmp, 120)
        say(start, "airflow db migrate; pool duckdb_writer")

        af = stack.add("airflow", logs)
        for name, cmd in components().items():
            worker = name == "celery-worker"
            af.start(name, cmd, wenv if worker else env, work if worker else tmp)
        wait_for("the api-server", lambda: api_healthy(ports.api), 180, 1, af.check_running)
        parsed = "select count(*) from dag where dag_id = any(%s) and not is_paused"
        wait_for("the three DAGs parsed and unpaused",
                 lambda: query(ports.postgres, pw.postgres, parsed, list(DAGS))[0][0] == 3,
                 180, 1, af.check_running)  # fmt: skip
        say(start, "scheduler, dag-processor, api-server and celery worker up; DAGs parsed")

        since = query(ports.postgres, pw.postgres, "select now()")[0][0]
        airflow_cli(["dags", "trigger", "news_ingest", "--run-id",
                     f"celery_smoke__{int(time.time())}"], env, tmp, 120)  # fmt: skip
        triggered = time.monotonic()
        say(start, "triggered news_ingest; waiting for news_ingest, news_enrich, news_daily")

        def finished() -> dict[str, tuple[str, str, float | None]] | None:
            runs = run_states(ports.postgres, pw.postgres, since)
            failed = [(d, r[0]) for d, r in runs.items() if r[1] == "failed"]
            if failed:
                tasks = query(ports.postgres, pw.postgres, "select dag_id, task_id from "
                              "task_instance where (dag_id, run_id) in %s and state = 'failed'",
                              tuple(failed))  # fmt: skip
                raise SmokeError(
                    f"failed: {', '.join(f'{d}.{t}' for d, t in tasks) or failed}; the task "
                    f"logs are in {env['AIRFLOW_HOME']}/logs"
                )
            done = len(runs) == len(DAGS) and all(r[1] == "success" for r in runs.values())
            return runs if done else None

        runs = wait_for("the three runs", finished, args.timeout, 1, af.check_running)
        took = time.monotonic() - triggered
        say(start, f"all three runs succeeded, {took:.1f} s after the trigger")
        count, workers, queues = check_tasks_ran_on_worker(ports.postgres, pw.postgres, runs)
        counts = store_counts(wenv, work)
        check_counts(counts)
        listening = listeners_of([*processes_of(str(tmp), stack.pgids()), os.getpid()])
        outside = sorted(h for h in listening if not is_loopback(h))
        if outside:
            raise SmokeError(f"listening beyond loopback: {', '.join(outside)}")

    names = {f"127.0.0.1:{ports.redis}": "redis", f"127.0.0.1:{ports.postgres}": "postgres",
             f"127.0.0.1:{ports.api}": "api-server", hostport: "demo corpus"}  # fmt: skip
    lake = store.get("NEWS_LAKE_DATA_PATH")
    durations = "; ".join(f"{d} {r[1]} in {r[2]:.1f} s" for d, r in runs.items() if r[2])
    return [
        f"store: {masked(store['NEWS_DB'])}" + (f" (data: {lake})" if lake else ""),
        f"executor: CeleryExecutor, one worker (pool {args.pool}); broker redis on "
        f"127.0.0.1:{ports.redis}; metadata database and result backend postgres "
        f"{pg_version} on 127.0.0.1:{ports.postgres}",
        f"runs: {durations}; {took:.1f} s from the trigger to the end of news_daily",
        f"tasks: all {count} task instances ran on the Celery worker "
        f"({', '.join(sorted(workers))}, queue {', '.join(sorted(queues))}), each with "
        "SUCCESS in Celery's result backend",
        "rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        "listening during the run (loopback only): "
        + ", ".join(f"{h} ({names.get(h, '?')})" for h in sorted(listening)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CELERY_SMOKE_DB", "lake"),
                        help="the store: lake (default), duckdb, lake-postgres, or a NEWS_DB "
                        "value (path or ducklake: URI); env CELERY_SMOKE_DB")  # fmt: skip
    parser.add_argument(
        "--lake-data-path",
        default="",
        help="NEWS_LAKE_DATA_PATH for a ducklake: store (default <tmp>/lake)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="seconds to wait for the three runs (default 600)",
    )
    parser.add_argument(
        "--pool",
        default="solo",
        choices=("solo", "prefork"),
        help="the Celery worker's pool (default solo; see worker_env)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    start = time.monotonic()
    old_umask = os.umask(0o077)  # the directory holds passwords and the data
    tmp = Path(tempfile.mkdtemp(prefix="newsevents-celery-smoke-"))
    os.umask(old_umask)
    tmp.chmod(0o711)  # the postgres user enters its own subdirectory; nobody lists this one
    report: list[str] = []
    stack = Stack()
    ok = False
    try:
        report = smoke(args, tmp, start, stack)
        ok = True
    except SmokeError as exc:
        report.append(f"FAILED: {exc}")
    except KeyboardInterrupt:
        report.append("FAILED: interrupted")
    finally:
        killed, left = stack.stop(str(tmp))
    if left:
        ok = False
        report.append(f"FAILED: processes left running after the stop: {left}")
    else:
        forced = f" (SIGKILL needed in: {', '.join(killed)})" if killed else ""
        report.append(
            f"stopped: every process group ended, no process of the smoke is left{forced}"
        )
    elapsed = time.monotonic() - start
    print(f"\ncelery-smoke: {'OK' if ok else 'FAILED'} in {elapsed:.0f} s")
    for line in report:
        print(f"  {line}")
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"  kept {tmp} (component logs in {tmp}/logs, task logs in "
              f"{tmp}/airflow_home/logs)")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
