"""Benchmark: where the time of one Airflow cycle goes, from the start of `news_ingest` to
the success of `news_daily`, on the `make airflow` instance (docs/AIRFLOW.md, Measured).

    make airflow-bench                                  # uses a running `make airflow`
    .venv/bin/python bench/bench_airflow.py --start --cycles 2 --stop
    .venv/bin/python bench/bench_airflow.py --fresh-db  # the first cycle on an empty store

With `--start` it starts `make airflow` in the background when nothing answers (its output
goes to $AIRFLOW_HOME/bench-airflow.log) and waits until the api-server answers and the
run at start-up is over; `--stop` runs `make airflow-stop` at the end. `--fresh-db`
removes the demo store (data/airflow-demo.duckdb and its work directory) before the first
cycle, so that it fetches and codes the whole corpus again; the next cycles find nothing
new. Only the api-server on 127.0.0.1 is asked (no proxy).

Each cycle triggers `news_ingest` through the REST API, then waits for the
Asset-triggered `news_enrich` and `news_daily` runs that follow it. For every task
instance it prints, from the API and the task's log:

- `wait`: from the moment it could be scheduled (its run's start, or the end of the last
  upstream task) to its start: the scheduler's loop, the queue and the pool slot;
- `start-up`: from its start to the first line of its body (the task process, Airflow's
  task runner and the parse of its DAG file);
- `body`: the task function itself: the imports of `pipeline`, any model, gazetteer or
  bundle it loads, and the work;
- `finish`: from the end of its body to its end (XCom and the state reported).

and the gaps between the DAG runs (the Asset event to the next run's start). Then
`--probe` (the default; `--no-probe` skips it) measures, each in a fresh interpreter with
the same environment, what a task body pays before doing any work: the imports the DAGs'
tasks do, the spaCy model, the gazetteer, the event coder and the report's Vega bundle.
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAGS = ("news_ingest", "news_enrich", "news_daily")
ACTIVE = {"queued", "running"}


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Api:
    """The Airflow REST API of the dev instance, with a token from the simple auth manager."""

    def __init__(self, base: str, home: Path) -> None:
        self.base = base.rstrip("/")
        self.home = home
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.token = ""

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with self.opener.open(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def healthy(self) -> bool:
        try:
            self._request("GET", "/api/v2/monitor/health")
            return True
        except (OSError, ValueError):
            return False

    def login(self) -> None:
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text(encoding="utf-8"))["admin"]
        self.token = self._request(
            "POST", "/auth/token", {"username": "admin", "password": password}
        )["access_token"]

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params)
        return self._request("GET", path + (f"?{query}" if query else ""))

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v2/dags/{dag_id}/dagRuns", limit=20,
                             order_by="-run_after")["dag_runs"])  # fmt: skip

    def trigger(self, dag_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                                  {"logical_date": None, "conf": {}}))  # fmt: skip

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances"
        return list(self.get(path, limit=100)["task_instances"])

    def log(self, ti: dict[str, Any]) -> list[dict[str, Any]]:
        path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{urllib.parse.quote(ti['dag_run_id'])}"
                f"/taskInstances/{ti['task_id']}/logs/{ti['try_number']}")  # fmt: skip
        answer = self.get(path, map_index=ti["map_index"], full_content="true")
        content = answer.get("content") or []
        return [line for line in content if isinstance(line, dict)]


@dataclass
class Task:
    dag_id: str
    name: str
    ready: float  # when it could have been scheduled
    start: float
    end: float
    body_start: float | None
    body_end: float | None
    state: str

    @property
    def wait(self) -> float:
        return self.start - self.ready

    @property
    def startup(self) -> float | None:
        return None if self.body_start is None else self.body_start - self.start

    @property
    def body(self) -> float | None:
        if self.body_start is None or self.body_end is None:
            return None
        return self.body_end - self.body_start

    @property
    def finish(self) -> float | None:
        return None if self.body_end is None else self.end - self.body_end


@dataclass
class Cycle:
    label: str
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)

    @property
    def start(self) -> float:
        return _ts(self.runs["news_ingest"]["start_date"]) or 0.0

    @property
    def end(self) -> float:
        return _ts(self.runs["news_daily"]["end_date"]) or 0.0


def body_bounds(lines: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """The task body's start (the end of the runner's "Pre Execute" group) and its end (the
    runner's "Done. Returned value" line) in a task log."""
    start = end = None
    for line in lines:
        event, when = str(line.get("event", "")), _ts(line.get("timestamp"))
        if start is None and event == "::endgroup::":
            start = when
        if event.startswith("Done. Returned value") or event.startswith("Task failed"):
            end = when
    return start, end


def _upstream(dag_id: str, task_id: str) -> list[str]:
    """The DAGs' shapes (dags/): each task's upstream tasks."""
    return {
        "ingest_feed": ["read_registry"],
        "load_raw_pages": ["ingest_feed"],
        "load_events": ["enrich_waiting"],
        "check_data_quality": ["refresh_daily_summary"],
        "maintain_store": ["refresh_daily_summary"],
        "write_report": ["refresh_daily_summary"],
    }.get(task_id, [])


def collect(api: Api, cycle: Cycle) -> None:
    for dag_id in DAGS:
        run = cycle.runs[dag_id]
        tis = api.task_instances(dag_id, run["dag_run_id"])
        ends: dict[str, float] = {}
        for ti in tis:
            ends[ti["task_id"]] = max(ends.get(ti["task_id"], 0.0), _ts(ti["end_date"]) or 0.0)
        run_start = _ts(run["start_date"]) or 0.0
        for ti in sorted(tis, key=lambda t: (_ts(t["start_date"]) or 0, t["map_index"])):
            ups = [ends[u] for u in _upstream(dag_id, ti["task_id"]) if u in ends]
            name = ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else "")
            try:
                bounds = body_bounds(api.log(ti))
            except (OSError, ValueError):
                bounds = (None, None)
            cycle.tasks.append(Task(
                dag_id, name, max(ups) if ups else run_start, _ts(ti["start_date"]) or 0.0,
                _ts(ti["end_date"]) or 0.0, *bounds, ti["state"],
            ))  # fmt: skip


def _wait_idle(api: Api, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(r["state"] in ACTIVE for d in DAGS for r in api.runs(d)):
            return
        time.sleep(1)
    raise SystemExit("bench_airflow: runs still active after the timeout")


def _wait_run(api: Api, dag_id: str, after: float, timeout: float) -> dict[str, Any]:
    """The first run of dag_id that was due at or after `after`, once it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        due = [r for r in api.runs(dag_id) if (_ts(r["run_after"]) or 0) >= after - 0.001]
        done = [r for r in due if r["state"] not in ACTIVE and r["end_date"]]
        if done:
            return min(done, key=lambda r: _ts(r["run_after"]) or 0)
        time.sleep(0.5)
    raise SystemExit(f"bench_airflow: no {dag_id} run ended within {timeout:.0f} s")


def run_cycle(api: Api, label: str, timeout: float) -> Cycle:
    cycle = Cycle(label)
    ingest = api.trigger("news_ingest")
    cycle.runs["news_ingest"] = _wait_run(api, "news_ingest", _ts(ingest["run_after"]) or 0,
                                          timeout)  # fmt: skip
    after = _ts(cycle.runs["news_ingest"]["start_date"]) or 0
    cycle.runs["news_enrich"] = _wait_run(api, "news_enrich", after, timeout)
    after = _ts(cycle.runs["news_enrich"]["start_date"]) or 0
    cycle.runs["news_daily"] = _wait_run(api, "news_daily", after, timeout)
    for dag_id, run in cycle.runs.items():
        if run["state"] != "success":
            print(f"bench_airflow: {dag_id} run {run['dag_run_id']} ended {run['state']}")
    collect(api, cycle)
    return cycle


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def cycle_table(cycle: Cycle) -> str:
    out = [
        f"**{cycle.label}**: {cycle.end - cycle.start:.1f} s from the start of news_ingest "
        "to the end of news_daily",
        "",
        "| DAG | task | at, s | wait | start-up | body | finish | total | state |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    previous_end = None
    for dag_id in DAGS:
        run = cycle.runs[dag_id]
        run_start = _ts(run["start_date"]) or 0.0
        if previous_end is not None:
            out.append(f"| {dag_id} | (from the last task's end to the run's start) | "
                       f"{previous_end - cycle.start:.2f} | {run_start - previous_end:.2f} "
                       "| | | | | |")  # fmt: skip
        for task in (t for t in cycle.tasks if t.dag_id == dag_id):
            out.append(
                f"| {dag_id} | {task.name} | {task.start - cycle.start:.2f} | {task.wait:.2f} "
                f"| {_s(task.startup)} | {_s(task.body)} | {_s(task.finish)} "
                f"| {task.end - task.start:.2f} | {task.state} |"
            )
        run_end = _ts(run["end_date"]) or 0.0
        last_task_end = max((t.end for t in cycle.tasks if t.dag_id == dag_id), default=run_end)
        out.append(f"| {dag_id} | (the run: last task's end to the run's end) | "
                   f"{last_task_end - cycle.start:.2f} | {run_end - last_task_end:.2f} "
                   f"| | | | {run_end - run_start:.2f} | {run['state']} |")  # fmt: skip
        previous_end = run_end
    return "\n".join(out)


def summary_table(cycle: Cycle) -> str:
    """The cycle's wall time split along its critical path: waiting for the scheduler,
    task start-up, task bodies and finishing, and the gaps between the runs."""
    sums = {"wait": 0.0, "start-up": 0.0, "body": 0.0, "finish": 0.0, "between runs": 0.0}
    previous_end = None
    for dag_id in DAGS:
        run = cycle.runs[dag_id]
        if previous_end is not None:
            sums["between runs"] += (_ts(run["start_date"]) or 0) - previous_end
        tasks = [t for t in cycle.tasks if t.dag_id == dag_id]
        # The critical path: walk back from the task that ended last.
        by_name = {t.name.split("[")[0]: t for t in sorted(tasks, key=lambda t: t.end)}
        path = []
        node = max(tasks, key=lambda t: t.end) if tasks else None
        while node:
            path.append(node)
            ups = _upstream(dag_id, node.name.split("[")[0])
            node = by_name.get(ups[0]) if ups else None
        for task in path:
            sums["wait"] += task.wait
            sums["start-up"] += task.startup or 0.0
            sums["body"] += task.body or 0.0
            sums["finish"] += task.finish or 0.0
        run_end = _ts(run["end_date"]) or 0.0
        sums["between runs"] += run_end - max((t.end for t in tasks), default=run_end)
        previous_end = run_end
    total = cycle.end - cycle.start
    rows = [
        f"| {name} | {value:.2f} | {100 * value / total:.0f}% |" for name, value in sums.items()
    ]
    return "\n".join(["| on the critical path | s | share |", "|---|---:|---:|", *rows,
                      f"| **cycle** | **{total:.2f}** | |"])  # fmt: skip


# What a task body pays before its work, each measured in a fresh interpreter.
PROBES = {
    "import what ingest_feed, load_raw_pages and load_events import (pipeline.run)":
        "import pipeline.run",
    "import what the news_daily tasks import (pipeline.daily)": "import pipeline.daily",
    "import spacy": "import spacy",
    "spaCy model (pipeline.tag.load_nlp), after import spacy":
        "import spacy\n!\nfrom pipeline.tag import load_nlp\n"
        "from pipeline.config import load_settings\nload_nlp(load_settings().spacy_model)",
    "gazetteer (pipeline.geo.gazetteer.load_gazetteer)":
        "from pipeline.geo.gazetteer import load_gazetteer\n!\nload_gazetteer()",
    "event coder (pipeline.run.coder_for)":
        "from pipeline.run import coder_for\nfrom pipeline.config import load_settings\n"
        "s = load_settings()\n!\ncoder_for(s)",
    "the report's Vega bundle (pipeline.report.vega_bundle)":
        "from pipeline import report\n!\nreport.vega_bundle()",
}  # fmt: skip


def probe(repeat: int) -> str:
    """Median seconds of each probe over `repeat` fresh interpreters. A probe's code is
    timed from the `!` line on (the lines before it are set-up)."""
    out = ["| in a fresh process | median s | runs |", "|---|---:|---|"]
    for name, code in PROBES.items():
        setup, _, timed = code.rpartition("!\n") if "!\n" in code else ("", "", code)
        script = (f"{setup}\nimport time\n_t = time.perf_counter()\n{timed}\n"
                  "print(time.perf_counter() - _t)")  # fmt: skip
        times = []
        for _ in range(repeat):
            done = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                  text=True, cwd=ROOT, check=False)  # fmt: skip
            if done.returncode:
                times = []
                out.append(f"| {name} | failed: {done.stderr.strip().splitlines()[-1:]} | |")
                break
            times.append(float(done.stdout.strip().splitlines()[-1]))
        if times:
            median = sorted(times)[len(times) // 2]
            out.append(f"| {name} | {median:.2f} | {', '.join(f'{t:.2f}' for t in times)} |")
    return "\n".join(out)


def start_airflow(api: Api, home: Path, timeout: float) -> None:
    if api.healthy():
        return
    log = (home / "bench-airflow.log").open("ab")
    subprocess.Popen(["make", "airflow"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                     start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + timeout
    while not api.healthy():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_airflow: no api-server after {timeout:.0f} s ({log.name})")
        time.sleep(1)
    api.login()
    # The scheduled run at start-up, and the runs it triggers.
    deadline = time.monotonic() + timeout
    while not all(api.runs(d) for d in DAGS) and time.monotonic() < deadline:
        time.sleep(2)
    _wait_idle(api, timeout)


def fresh_store() -> None:
    db = Path(os.environ.get("NEWS_DB", ROOT / "data" / "airflow-demo.duckdb"))
    if db.name != "airflow-demo.duckdb":
        raise SystemExit(f"bench_airflow: --fresh-db removes only the demo store, not {db}")
    for path in (db, db.with_name(db.name + ".wal"), db.with_suffix(".pipeline")):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    for path in db.parent.glob(db.stem + ".published*"):
        path.unlink() if path.is_file() else shutil.rmtree(path)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--start", action="store_true", help="start `make airflow` if needed")
    parser.add_argument("--stop", action="store_true", help="`make airflow-stop` at the end")
    parser.add_argument("--fresh-db", action="store_true", help="empty the demo store first")
    parser.add_argument("--probe", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--probe-repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    home = Path(os.environ.get("AIRFLOW_HOME", ROOT / "airflow_home"))
    api = Api(os.environ.get("AIRFLOW__API__BASE_URL", "http://127.0.0.1:8080"), home)
    try:
        if args.start:
            start_airflow(api, home, args.timeout)
        elif not api.healthy():
            raise SystemExit("bench_airflow: no Airflow answers: `make airflow`, or --start")
        api.login()
        _wait_idle(api, args.timeout)
        if args.fresh_db:
            fresh_store()
        print(f"load average before: {load_average()}\n")
        for n in range(args.cycles):
            new = "first cycle, empty store" if args.fresh_db and n == 0 else "cycle"
            cycle = run_cycle(api, f"{new} {n + 1}", args.timeout)
            print(cycle_table(cycle), "\n", sep="")
            print(summary_table(cycle), "\n", sep="")
            print(f"load average after: {load_average()}\n", flush=True)
        if args.probe:
            print(probe(args.probe_repeat))
            print(f"\nload average after the probes: {load_average()}")
    finally:
        if args.stop:
            subprocess.run(["make", "airflow-stop"], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
