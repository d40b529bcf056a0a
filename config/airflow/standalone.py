"""A development Airflow on this checkout that stops cleanly: `make airflow`.

`airflow standalone` leaves its scheduler, api-server, triggerer, log servers and
LocalExecutor workers running when it is sent SIGTERM, and its log servers listen on
0.0.0.0. This runs the same four components itself:

- in a process group of their own, whose id goes to $AIRFLOW_HOME/standalone.pid, so
  that Ctrl-C, SIGTERM to this process or `make airflow-stop` stops every process in it,
  LocalExecutor workers included (SIGTERM to the group, then SIGKILL after 20 s);
- with the log servers off (`--skip-serve-logs`): with the LocalExecutor every log is a
  local file, which the api-server reads itself, so nothing listens beyond the
  api-server on 127.0.0.1 (config/airflow/env.sh);
- the scheduler through config/airflow/preload.py, which imports the pipeline's heavy
  libraries first, so that the task processes (forked from it) need not import them;
- on the demo corpus unless NEWS_FEEDS names a registry: config/airflow/env.sh then sets
  NEWSEVENTS_DEMO_FEEDS and NEWSEVENTS_DEMO_PORT, and the corpus server
  (`python -m pipeline.demo`) starts first, on 127.0.0.1, in the same process group, and
  writes the registry that NEWS_FEEDS names before any Airflow component starts.

    python config/airflow/standalone.py          # run (config/airflow/env.sh sourced)
    python config/airflow/standalone.py --stop   # stop a running one
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

COMPONENTS = {
    "api-server": ["api-server"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
    # Started once the api-server answers (wait_for_api): the tasks report to it, and the
    # first news_ingest run, due at once, failed its first try against a cold api-server.
    "scheduler": ["scheduler", "--skip-serve-logs"],
}
# The scheduler runs through preload.py, which imports the pipeline's heavy libraries
# first: the LocalExecutor's workers, and every task process they fork, inherit them.
PRELOAD = Path(__file__).with_name("preload.py")


def command(name: str, args: list[str]) -> list[str]:
    """The command line of a component."""
    if name == "scheduler":
        return [sys.executable, str(PRELOAD), *args]
    return ["airflow", *args]


# How long the components get to exit on SIGTERM before SIGKILL (the scheduler often
# needs it).
GRACE_S = float(os.environ.get("NEWSEVENTS_STOP_GRACE_S", "20"))
# How long the demo corpus server may take to listen and write its registry, and the
# api-server to answer before the scheduler starts anyway.
DEMO_START_S = 30.0
API_START_S = 120.0


def pid_file() -> Path:
    return Path(os.environ["AIRFLOW_HOME"]) / "standalone.pid"


def _alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A zombie does not count: it is dead,
    holds no port, and waits only for its parent (or init) to reap it."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")"
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def stop_group(pgid: int, grace_s: float = GRACE_S) -> bool:
    """SIGTERM to every process of the group, then SIGKILL to what is left after
    grace_s. True if anything had to be killed."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _alive(pgid):
            return False
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    # SIGKILL is delivered at once, but a process takes a moment to die: "stopped" means
    # that nothing of the group runs any more.
    deadline = time.monotonic() + 10
    while _alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def _pump(name: str, stream: object) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:>13} | {line}")
        sys.stdout.flush()


def demo_corpus(env: dict[str, str]) -> tuple[Path, int] | None:
    """The registry to write and the port to serve the demo corpus on, if this is a demo
    run (config/airflow/env.sh: NEWS_FEEDS was not set)."""
    registry = env.get("NEWSEVENTS_DEMO_FEEDS")
    if not registry:
        return None
    return Path(registry), int(env.get("NEWSEVENTS_DEMO_PORT") or "8766")


def _wait_for_demo(proc: subprocess.Popen[str], registry: Path, stopping: threading.Event) -> bool:
    """Whether the corpus server came up: it writes the registry once it listens."""
    deadline = time.monotonic() + DEMO_START_S
    while time.monotonic() < deadline and not stopping.is_set():
        if registry.exists():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return registry.exists()


def wait_for_api(env: dict[str, str], procs: dict[str, subprocess.Popen[str]],
                 stopping: threading.Event) -> bool:  # fmt: skip
    """Wait until the api-server answers its health endpoint (on 127.0.0.1, no proxy),
    while no component has exited. Whether it answered."""
    base = env.get("AIRFLOW__API__BASE_URL") or "http://127.0.0.1:8080"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + API_START_S
    while time.monotonic() < deadline and not stopping.is_set():
        if any(proc.poll() is not None for proc in procs.values()):
            return False
        try:
            with opener.open(base.rstrip("/") + "/api/v2/monitor/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _say_demo(env: dict[str, str], registry: Path, port: int) -> None:
    contact = 'NEWS_USER_AGENT="newsevents (contact: you@example.org)"'
    lines = [
        "standalone: running on the DEMO CORPUS, the one `newsevents demo` uses: it is served",
        f"  at http://127.0.0.1:{port} by this process group, and no other site is fetched.",
        f"  Feed registry: {registry}",
        f"  Database:      {env.get('NEWS_DB', '')}",
        "  To crawl real feeds instead, stop this and run, with your own contact:",
        f"    NEWS_FEEDS=config/feeds.yaml {contact} make airflow",
    ]
    print("\n".join(lines), flush=True)


def run() -> int:
    env = dict(os.environ)
    env.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    env.setdefault(
        "AIRFLOW__CORE__AUTH_MANAGER",
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    )
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # The components go into one new process group (the first one leads it). This
    # process stays in the terminal's, so Ctrl-C reaches it, and it stops the group.
    procs: dict[str, subprocess.Popen[str]] = {}
    pgid = 0
    path = pid_file()

    def start(name: str, argv: list[str]) -> subprocess.Popen[str]:
        nonlocal pgid
        procs[name] = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", process_group=pgid,
        )  # fmt: skip
        if not pgid:  # the group exists from now on: `--stop` can find it
            pgid = procs[name].pid
            path.write_text(f"{pgid} {os.getpid()}\n", encoding="utf-8")
        threading.Thread(target=_pump, args=(name, procs[name].stdout), daemon=True).start()
        return procs[name]

    demo = demo_corpus(env)
    if demo:
        registry, port = demo
        registry.unlink(missing_ok=True)  # a stale one would name a server that is gone
        server = start("demo-corpus", [sys.executable, "-m", "pipeline.demo", "--port",
                                       str(port), "--registry", str(registry)])  # fmt: skip
        if not _wait_for_demo(server, registry, stopping):
            if not stopping.is_set():
                print(f"standalone: the demo corpus could not be served on 127.0.0.1:{port} "
                      "(see above); set NEWSEVENTS_DEMO_PORT to a free port, or NEWS_FEEDS to "
                      "a feed registry", flush=True)  # fmt: skip
            stop_group(pgid)
            server.wait(timeout=5)
            path.unlink(missing_ok=True)
            return 0 if stopping.is_set() else 1
        _say_demo(env, registry, port)
    else:
        from pipeline.config import user_agent_contact

        print(f"standalone: feeds from {env.get('NEWS_FEEDS')}, database {env.get('NEWS_DB')}",
              flush=True)  # fmt: skip
        if not user_agent_contact(env.get("NEWS_USER_AGENT", "")):
            print("standalone: NEWS_USER_AGENT names no contact, and site owners cannot reach "
                  'you: set one, e.g. NEWS_USER_AGENT="newsevents (contact: you@example.org)" '
                  "with your own address", flush=True)  # fmt: skip
    for name, args in COMPONENTS.items():
        if name == "scheduler" and not wait_for_api(env, procs, stopping):
            if stopping.is_set() or any(proc.poll() is not None for proc in procs.values()):
                break  # the loop below reports it and stops the group
            print("standalone: the api-server does not answer yet; starting the scheduler "
                  "anyway", flush=True)  # fmt: skip
        start(name, command(name, args))
    else:
        print(f"standalone: started {', '.join(procs)} (process group {pgid}); Ctrl-C or "
              "`make airflow-stop` stops them all", flush=True)  # fmt: skip
    code = 0
    while not stopping.is_set():
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"standalone: {name} exited with {proc.returncode}; stopping the rest",
                      flush=True)  # fmt: skip
                code = 1
                stopping.set()
                break
        stopping.wait(0.5)
    print("standalone: stopping every process of the group", flush=True)
    killed = stop_group(pgid)
    for proc in procs.values():
        proc.wait(timeout=5)
    path.unlink(missing_ok=True)
    print("standalone: stopped" + (" (some processes needed SIGKILL)" if killed else ""),
          flush=True)  # fmt: skip
    return code


def stop() -> int:
    path = pid_file()
    if not path.exists():
        print(f"no Airflow running from this checkout ({path} not found)")
        return 0
    pgid, supervisor = (int(x) for x in path.read_text(encoding="utf-8").split())
    if not _alive(pgid):
        path.unlink(missing_ok=True)
        print(f"process group {pgid} is gone already")
        return 0
    with contextlib.suppress(ProcessLookupError):
        os.kill(supervisor, signal.SIGTERM)  # it stops the group and prints that it did
    killed = stop_group(pgid, GRACE_S + 10)
    path.unlink(missing_ok=True)
    print(f"stopped process group {pgid}" + (" (some processes needed SIGKILL)" if killed else ""))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stop", action="store_true", help="stop the running one")
    return stop() if parser.parse_args().stop else run()


if __name__ == "__main__":
    sys.exit(main())
