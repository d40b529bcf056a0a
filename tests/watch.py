"""What a CI log needs when a run goes wrong on a machine we cannot see: the machine's
state at the start (cores, load, free memory and disk, the open-files limit), why a test
failed at the moment it fails (pytest tells only at the end, which a run cut short by its
time limit never reaches), and any process a test module left running once its fixtures
are torn down, which is stopped then, before it slows or breaks the modules after it.

Loaded by conftest.py as a plugin."""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
STARTED = time.time()
# Started by session fixtures, and needed until the session ends: the throwaway Postgres
# (tests/conftest.py) and multiprocessing's helper process.
KEPT_NAMES = ("postgres", "pg_ctl")
KEPT_COMMANDS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")

_config: pytest.Config | None = None


def machine_state() -> str:
    """One line: cores, load, memory and disk free, the open-files limit."""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    memory = psutil.virtual_memory()
    tmp = tempfile.gettempdir()
    free = shutil.disk_usage(tmp).free
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return (f"{os.cpu_count()} cores, load {load}, {memory.available / 2**30:.1f} of "
            f"{memory.total / 2**30:.1f} GiB memory available, {free / 2**30:.1f} GiB free "
            f"in {tmp}, open files limit {files}")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config


def pytest_report_header(config: pytest.Config) -> str:
    return f"machine: {machine_state()}"


def _say(line: str) -> None:
    reporter = _config.pluginmanager.get_plugin("terminalreporter") if _config else None
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(line)
    else:
        print(line, file=sys.stderr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Why a test failed, as soon as it fails, with the machine's state then."""
    if not report.failed:
        return
    crash = getattr(report.longrepr, "reprcrash", None)
    reason = crash.message if crash is not None else str(report.longrepr)
    reason = " ".join(reason.split())[:400]
    _say(f"! {report.nodeid} failed in {report.when} at {time.time() - STARTED:.0f} s: "
         f"{reason} [{machine_state()}]")  # fmt: skip


def _stray(proc: psutil.Process, child: bool) -> bool:
    """Whether a process is one this session started and left: a descendant of the test
    process, or an orphan (its parent gone) started since the session began from this
    checkout or its virtual environment; never what the session still needs."""
    try:
        command = " ".join(proc.cmdline())
        if proc.name().startswith(KEPT_NAMES) or any(k in command for k in KEPT_COMMANDS):
            return False
        if child:
            return proc.status() != psutil.STATUS_ZOMBIE
        return (proc.create_time() >= STARTED and proc.ppid() == 1
                and (str(ROOT) in command or sys.prefix in command))  # fmt: skip
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def left_running() -> list[psutil.Process]:
    me = psutil.Process()
    found = {p.pid: p for p in me.children(recursive=True) if _stray(p, child=True)}
    for proc in psutil.process_iter():
        if proc.pid not in found and proc.pid != me.pid and _stray(proc, child=False):
            found[proc.pid] = proc
    return list(found.values())


def _describe(proc: psutil.Process) -> str:
    try:
        cpu = sum(proc.cpu_times()[:2])
        command = " ".join(proc.cmdline())[:160]
        return f"pid {proc.pid} ({cpu:.0f} CPU-s): {command}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return f"pid {proc.pid} (gone)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a module's last test (its module fixtures torn down): stop what it left."""
    result = yield
    if nextitem is None or nextitem.module is not item.module:
        stray = left_running()
        if stray:
            _say(f"! {item.module.__name__ if item.module else item.nodeid} left "
                 f"{len(stray)} process(es) running; stopping them: "
                 + "; ".join(_describe(p) for p in stray))  # fmt: skip
            stop(stray)
    return result


def stop(procs: list[Any]) -> None:
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            continue
