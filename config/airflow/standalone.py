"""A development Airflow on this checkout that stops cleanly: `make airflow`.

`airflow standalone` leaves its scheduler, api-server, triggerer, log servers and
LocalExecutor workers running when it is sent SIGTERM, and its log servers listen on
0.0.0.0. This runs the same four components itself:

- in a process group of their own, whose id goes to $AIRFLOW_HOME/standalone.pid, so
  that Ctrl-C, SIGTERM to this process or `make airflow-stop` stops every process in it,
  LocalExecutor workers included (SIGTERM to the group, then SIGKILL after 20 s);
- with the log servers off (`--skip-serve-logs`): with the LocalExecutor every log is a
  local file, which the api-server reads itself, so nothing listens beyond the
  api-server on 127.0.0.1 (config/airflow/env.sh).

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
from pathlib import Path

COMPONENTS = {
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "api-server": ["api-server"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
# How long the components get to exit on SIGTERM before SIGKILL (the scheduler often
# needs it).
GRACE_S = float(os.environ.get("NEWSEVENTS_STOP_GRACE_S", "20"))


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
    for name, args in COMPONENTS.items():
        procs[name] = subprocess.Popen(
            ["airflow", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", process_group=pgid,
        )  # fmt: skip
        pgid = pgid or procs[name].pid
        threading.Thread(target=_pump, args=(name, procs[name].stdout), daemon=True).start()
    path = pid_file()
    path.write_text(f"{pgid} {os.getpid()}\n", encoding="utf-8")
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
