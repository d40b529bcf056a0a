"""The host gate: per-host limits that hold across Fetchers and across processes.

The gate's files are exercised directly, then through Fetchers in separate processes
(started with `spawn`, like fresh task processes) sending requests to one threaded
pytest-httpserver on 127.0.0.1, whose handler records when each request arrived and how
many were in flight. Every assertion is about what the server saw.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.config import Settings
from pipeline.fetch import Fetcher, make_client
from pipeline.politeness import SKEW_S, HostGate
from pipeline.records import Page
from tests.conftest import ROOT
from tests.test_fetch_polite import Recorder

SETTINGS = replace(
    Settings(),
    timeout_s=10.0,
    concurrency=16,
    per_host_concurrency=2,
    per_host_delay_s=0.0,
    retries=0,
    respect_robots=False,
    user_agent="newsevents-test/1.0",
)
TOLERANCE_S = 0.05  # the server sees a request a little after the client claimed its start


# --- the gate's files ----------------------------------------------------------------------


def test_a_claim_sets_the_next_start_a_delay_after_the_send(tmp_path: Path) -> None:
    gate = HostGate(tmp_path / "hosts")
    assert gate.wait_s("example.org") == 0.0
    assert gate.claim("example.org", 0.5, 10.0) == 0.0
    # Until the request is sent, the next start is a delay away, whenever one looks.
    time.sleep(0.2)
    assert 0.45 < gate.claim("example.org", 0.5, 10.0) <= 0.5
    gate.sent("example.org", 0.5)
    assert 0.45 < gate.wait_s("example.org") <= 0.5
    assert gate.claim("example.net", 0.5, 10.0) == 0.0  # another host has its own time
    time.sleep(0.5)
    assert gate.claim("example.org", 0.5, 10.0) == 0.0


def test_a_claim_never_sent_lapses_at_its_deadline(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    assert gate.claim("example.org", 0.1, 0.3) == 0.0
    time.sleep(0.15)
    assert gate.wait_s("example.org") > 0.09  # past the delay, but still being sent
    time.sleep(0.2)
    assert gate.wait_s("example.org") == 0.0


def test_without_a_delay_claims_do_not_wait_for_sends(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    assert gate.claim("example.org", 0.0, 10.0) == 0.0
    assert gate.claim("example.org", 0.0, 10.0) == 0.0


def test_another_gate_on_the_same_directory_sees_the_claim(tmp_path: Path) -> None:
    first, second = HostGate(tmp_path / "hosts"), HostGate(tmp_path / "hosts")
    assert first.claim("example.org", 1.0, 10.0) == 0.0
    first.sent("example.org", 1.0)
    assert 0.9 < second.wait_s("example.org") <= 1.0
    assert HostGate(tmp_path / "elsewhere").claim("example.org", 1.0, 10.0) == 0.0


def test_hold_and_space_push_the_next_start_back(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    assert gate.claim("example.org", 0.1, 10.0) == 0.0
    gate.sent("example.org", 0.1)
    gate.space("example.org", 2.0)  # a Crawl-delay of 2 s, learnt after the request
    assert 1.8 < gate.wait_s("example.org") <= 2.0
    gate.hold("example.org", 5.0)  # a Retry-After of 5 s
    assert 4.8 < gate.wait_s("example.org") <= 5.0
    gate.space("example.org", 1.0)  # never brings the next start forward
    gate.hold("example.org", 1.0)
    assert gate.wait_s("example.org") > 4.5


def test_a_stamp_from_a_clock_far_ahead_is_ignored(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    assert gate.claim("example.org", 1.0, 10.0) == 0.0
    (state,) = tmp_path.glob("*.next")
    ahead = time.time() + SKEW_S + 3600  # as if the clock had since been set back an hour
    state.write_text(f"{ahead} {ahead + 1} {ahead + 10}\n", encoding="ascii")
    assert gate.claim("example.org", 1.0, 10.0) == 0.0


def test_a_damaged_state_file_starts_afresh(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    gate.claim("example.org", 1.0, 10.0)
    (state,) = tmp_path.glob("*.next")
    state.write_bytes(b"17")
    assert gate.claim("example.org", 1.0, 10.0) == 0.0


def test_host_names_become_safe_file_names(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    for host in ("Example.org:8443", "[::1]:8765", "../../etc/passwd", "a" * 300):
        assert gate.claim(host, 0.0, 10.0) == 0.0
    names = [p.name for p in tmp_path.iterdir()]
    assert len(names) == 4 and all(len(n) < 110 and "/" not in n for n in names)
    assert any(n.startswith("example.org_8443-") for n in names)
    assert list(tmp_path.rglob("*")) == list(tmp_path.iterdir())  # nothing outside it


def test_slots_cap_the_requests_in_flight(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    first, second = gate.try_slot("example.org", 2), gate.try_slot("example.org", 2)
    assert first is not None and second is not None
    assert gate.try_slot("example.org", 2) is None
    assert HostGate(tmp_path).try_slot("example.org", 2) is None  # another gate, too
    other = gate.try_slot("example.net", 2)
    assert other is not None
    first.release()
    first.release()  # releasing twice is harmless
    again = gate.try_slot("example.org", 2)
    assert again is not None
    for slot in (second, other, again):
        slot.release()


HOLD_SLOTS = """
import sys, time
from pipeline.politeness import HostGate
gate = HostGate(sys.argv[1])
slots = [gate.try_slot("example.org", 2) for _ in range(2)]
gate.claim("example.org", 0.1, 0.5)  # and never sent
print("held" if all(slots) else "refused", flush=True)
time.sleep(60)
"""


def test_a_killed_process_leaves_no_slot_held(tmp_path: Path) -> None:
    gate = HostGate(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_SLOTS, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert gate.try_slot("example.org", 2) is None  # held by the other process
        assert gate.wait_s("example.org") > 0  # and its claim counts here
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    slots = [gate.try_slot("example.org", 2) for _ in range(2)]
    assert all(slots)  # free as soon as the kernel closed the dead process's files
    for slot in slots:
        assert slot is not None
        slot.release()
    time.sleep(0.5)
    assert gate.wait_s("example.org") == 0.0  # its claim lapsed at its deadline


# --- Fetchers in separate processes -------------------------------------------------------


@pytest.fixture
def server(threaded_server: HTTPServer) -> HTTPServer:
    """A threaded server on 127.0.0.1, so requests from several processes overlap."""
    return threaded_server


def _allow(settings: Settings, server: HTTPServer) -> Settings:
    return replace(settings, allow_private_hosts=(f"127.0.0.1:{server.port}",))


async def _fetch(urls: Sequence[str], settings: Settings, gate: HostGate | None) -> list[Page]:
    async with make_client(settings) as client:
        fetcher = Fetcher(settings, client, gate=gate)
        return list(await asyncio.gather(*(fetcher.get(u) for u in urls)))


def _fetch_in_a_process(
    urls: list[str], settings: Settings, gate_dir: str | None, start_at: float
) -> None:
    """A process's whole run: one Fetcher, its own event loop; all processes begin at
    `start_at` (wall clock), so their requests overlap. Exits 1 if a page failed."""
    time.sleep(max(0.0, start_at - time.time()))
    gate = HostGate(gate_dir) if gate_dir else None
    pages = asyncio.run(_fetch(urls, settings, gate))
    sys.exit(0 if all(p.ok for p in pages) else 1)


def _run_processes(
    server: HTTPServer, settings: Settings, gate_dir: Path | None, processes: int, each: int
) -> None:
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # after every process has imported the pipeline
    where = str(gate_dir) if gate_dir else None
    base = f"http://127.0.0.1:{server.port}"
    procs = [
        context.Process(
            target=_fetch_in_a_process,
            args=([f"{base}/p{n}?i={i}" for i in range(each)], settings, where, start_at),
        )
        for n in range(processes)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0] * processes


def test_per_host_delay_holds_across_processes(server: HTTPServer, tmp_path: Path) -> None:
    rec = Recorder()
    server.expect_request("/p0").respond_with_handler(rec.slow(0.0))
    server.expect_request("/p1").respond_with_handler(rec.slow(0.0))
    server.expect_request("/p2").respond_with_handler(rec.slow(0.0))
    settings = _allow(replace(SETTINGS, per_host_delay_s=0.4), server)
    _run_processes(server, settings, tmp_path / "hosts", processes=3, each=3)
    assert len(rec.starts) == 9
    assert min(rec.gaps()) >= 0.4 - TOLERANCE_S, rec.gaps()
    assert {path[:3] for _, path in rec.starts} == {"/p0", "/p1", "/p2"}


def test_per_host_concurrency_holds_across_processes(server: HTTPServer, tmp_path: Path) -> None:
    rec = Recorder()
    for n in range(3):
        server.expect_request(f"/p{n}").respond_with_handler(rec.slow(0.2))
    settings = _allow(replace(SETTINGS, per_host_concurrency=2), server)
    _run_processes(server, settings, tmp_path / "hosts", processes=3, each=4)
    assert len(rec.starts) == 12
    assert rec.max_in_flight == 2  # never more, and it did use both


# --- one Fetcher after another, as mapped tasks run -------------------------------------


def test_a_second_fetcher_waits_for_the_delay_after_the_first(
    server: HTTPServer, tmp_path: Path
) -> None:
    rec = Recorder()
    server.expect_request("/p").respond_with_handler(rec.slow(0.0))
    settings = _allow(replace(SETTINGS, per_host_delay_s=0.5), server)
    url = f"http://127.0.0.1:{server.port}/p"
    for n in range(2):
        (page,) = asyncio.run(_fetch([f"{url}?n={n}"], settings, HostGate(tmp_path)))
        assert page.ok
    assert rec.gaps()[0] >= 0.5 - TOLERANCE_S


def test_retry_after_holds_the_host_for_another_fetcher(server: HTTPServer, tmp_path: Path) -> None:
    limited: list[float] = []

    def slow_down(request: Request) -> Response:
        limited.append(time.monotonic())
        return Response("slow down", status=429, headers={"Retry-After": "1"})

    rec = Recorder()
    server.expect_request("/limited").respond_with_handler(slow_down)
    server.expect_request("/other").respond_with_handler(rec.slow(0.0))
    settings = _allow(replace(SETTINGS, retries=1), server)
    base = f"http://127.0.0.1:{server.port}"

    async def main() -> tuple[list[Page], list[Page]]:
        async def later() -> list[Page]:
            while not limited:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the first fetcher has read the 429 by now
            return await _fetch([f"{base}/other"], settings, HostGate(tmp_path))

        return await asyncio.gather(
            _fetch([f"{base}/limited"], settings, HostGate(tmp_path)), later()
        )

    (first,), (second,) = asyncio.run(main())
    assert first.status == 429 and second.ok
    assert rec.starts[0][0] - limited[0] >= 1.0 - TOLERANCE_S


def test_crawl_delay_holds_for_the_next_fetcher(server: HTTPServer, tmp_path: Path) -> None:
    rec = Recorder()
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nCrawl-delay: 1\nAllow: /\n", content_type="text/plain"
    )
    server.expect_request("/p").respond_with_handler(rec.slow(0.0))
    settings = _allow(replace(SETTINGS, respect_robots=True), server)
    url = f"http://127.0.0.1:{server.port}/p"
    (page,) = asyncio.run(_fetch([url], settings, HostGate(tmp_path)))
    assert page.ok
    # A second run that has not read robots.txt yet (its own robots.txt request waits too).
    (page,) = asyncio.run(_fetch([url], replace(settings, respect_robots=False),
                                 HostGate(tmp_path)))  # fmt: skip
    assert page.ok
    assert rec.gaps()[0] >= 1.0 - TOLERANCE_S
