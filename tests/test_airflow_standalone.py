"""`make airflow` stops cleanly: config/airflow/standalone.py runs the scheduler,
dag-processor, api-server and triggerer in one process group, stops the whole group on
SIGTERM or `--stop`, and nothing but the api-server on 127.0.0.1 listens. A real Airflow,
started in a temporary AIRFLOW_HOME with an empty DAG folder."""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    """Local addresses (host:port) that the group's processes listen on, from /proc."""
    inodes: dict[str, str] = {}
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            hexaddr, hexport = fields[1].split(":")
            raw = bytes.fromhex(hexaddr)
            if v6:
                words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
                host = "[" + str(ipaddress.IPv6Address(b"".join(words))) + "]"
            else:
                host = str(ipaddress.IPv4Address(raw[::-1]))
            inodes[fields[9]] = f"{host}:{int(hexport, 16)}"
    out = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or _pgid(int(proc.name)) != pgid:
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except (FileNotFoundError, PermissionError):
            continue
        for link in links:
            if link.startswith("socket:[") and link[8:-1] in inodes:
                out.add(inodes[link[8:-1]])
    return out


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
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
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)  # fmt: skip
    return env


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, str(SCRIPT)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    pid_file = Path(env["AIRFLOW_HOME"]) / "standalone.pid"
    port = int(env["AIRFLOW__API__PORT"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (pid_file.exists() and _listening(port)):
        assert proc.poll() is None, "standalone.py exited early"
        time.sleep(0.5)
    assert _listening(port), "the api-server did not come up"
    pgid = int(pid_file.read_text().split()[0])
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
    assert not _listening(port)
    assert not (Path(airflow_env["AIRFLOW_HOME"]) / "standalone.pid").exists()


def test_stop_from_another_shell_stops_the_group(airflow_env: dict[str, str]) -> None:
    proc, pgid = _start(airflow_env)
    try:
        done = subprocess.run([sys.executable, str(SCRIPT), "--stop"], env=airflow_env,
                              capture_output=True, text=True, timeout=90)  # fmt: skip
        assert done.returncode == 0 and f"stopped process group {pgid}" in done.stdout
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not _group_alive(pgid)
    assert not _listening(int(airflow_env["AIRFLOW__API__PORT"]))
