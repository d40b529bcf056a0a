"""The host gate: per-host limits that hold across processes, exercised through its
files, from this process and from a subprocess that is killed while it holds them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.politeness import SKEW_S, HostGate
from tests.conftest import ROOT

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
