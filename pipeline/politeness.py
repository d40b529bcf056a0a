"""Per-host politeness shared across processes: a directory of small locked files.

A `Fetcher` keeps its per-host limits in memory, so they bind one process. Airflow runs
each mapped `ingest_feed` task in its own process, so without more, eight feeds of one
site would reach it eight times as hard as the settings allow, and a task starting just
after another could send its first request right after the other's last one. A
`HostGate` keeps each host's limits in files under one directory, and every process
given the same directory obeys them together:

* `<host>.next` holds the host's pacing in wall-clock seconds: the last request start,
  the earliest next one, and whether a claimed request is still on its way out. `claim`
  reads and moves it under `fcntl.flock`: a request may start once that time has passed
  and no claimed request is still connecting. `sent` then sets the next start a delay
  after the request's headers really left, since a new connection, TLS, or a fresh
  process's first request can take tens to hundreds of milliseconds between the claim
  and the send, and that time would otherwise come off the next gap. `hold`
  (Retry-After) and `space` (robots.txt Crawl-delay) push the next start back.
* `<host>.slot0` ... `<host>.slot<n-1>`, for `per_host_concurrency` n: a request in
  flight holds one of them under an exclusive, non-blocking flock (`try_slot`); when
  every slot is held, the next request waits. The kernel drops a process's locks when it
  dies, so a killed task never blocks a host: its slots are free at once, and a claim it
  had not sent yet lapses at the claim's deadline (the request's timeout).

The methods are synchronous and short, and none waits for a request: the Fetcher calls
the `.next` ones in a thread and polls `try_slot` with sleeps, so its event loop never
blocks on a lock. The files are never deleted (a lock on a deleted file guards nothing):
there are 1 + n small files per host, kept from run to run, so a run also keeps the
delay after the previous run's last request.

**Limits, honestly.** Times are wall-clock (`time.time()`), the one clock processes
share. Across machines that share the directory, the delay holds only as well as their
clocks agree (milliseconds under NTP). A stamp more than `SKEW_S` ahead of this clock
(written before the clock was set back, or by a machine whose clock runs ahead) is
ignored, not obeyed. Sharing across machines also needs a filesystem whose locks every
client sees: Linux NFS clients (since 2.6.12) and SMB clients (since 5.5) turn flock
into byte-range locks that the server arbitrates (see flock(2)). An NFS mount with
`nolock` or `local_lock`, or a volume that is really local to each machine, keeps the
limits per machine only. If a whole machine dies, not just a process, its NFS locks are
freed when the server's lease expires (NFSv4: 90 s by default on Linux), and under
NFSv3 only when that machine comes back up. Processes given different directories do not
see each other at all. An error in the directory (unwritable, a full disk) is raised,
not ignored: a run that cannot keep the limits fails, and its task retries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# A stamp this far ahead of our clock comes from a clock that was set back (or from a
# machine whose clock runs ahead): it is ignored, so it cannot block a host for long.
SKEW_S = 60.0

# Byte-range locks (what NFS and SMB turn flock into) are held per process, not per open
# file, so two requests of one process would not exclude each other there: this process
# keeps its own record of the slots it holds, and serialises its updates of `.next`.
_held: set[Path] = set()
_held_lock = threading.Lock()
_update_lock = threading.Lock()
os.register_at_fork(after_in_child=_held.clear)  # the parent's slots stay the parent's

_UNSAFE = re.compile(r"[^a-z0-9.-]+")


class Slot:
    """One of a host's in-flight slots, held until `release` (or the process's death)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    def release(self) -> None:
        if self.fd < 0:
            return
        fd, self.fd = self.fd, -1
        try:
            # Unlock before closing: a child forked meanwhile shares the open file, and
            # closing only our copy would leave the slot locked until the child exits.
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            with _held_lock:
                _held.discard(self.path)


class HostGate:
    """Per-host request pacing and in-flight slots, in files under `directory`, shared
    by every process (and every Fetcher) given the same directory. `host` is the
    Fetcher's name for a host ("example.com" or "example.com:8443", lower case)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, host: str, suffix: str) -> Path:
        key = host.lower()
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        return self.directory / f"{_UNSAFE.sub('_', key)[:80]}-{digest}.{suffix}"

    # -- pacing: the .next file ----------------------------------------------------------

    @contextlib.contextmanager
    def _pace(self, host: str, shared: bool = False) -> Iterator[_Pace]:
        """The host's pacing state, under its file lock; changes are written back (an
        exclusive lock is taken for that, unless `shared`)."""
        fd = os.open(self._path(host, "next"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            with _update_lock:
                fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                pace = _Pace.parse(os.pread(fd, 128, 0))
                if pace.last > time.time() + SKEW_S:
                    pace = _Pace()  # stamped by a clock far ahead of ours
                before = dataclasses.replace(pace)
                yield pace
                if not shared and pace != before:
                    text = pace.dump()
                    os.pwrite(fd, text, 0)
                    os.ftruncate(fd, len(text))
        finally:
            os.close(fd)  # and with it the lock

    def wait_s(self, host: str) -> float:
        """Seconds to wait before a request to the host may try to start (0.0: now).
        Changes nothing."""
        with self._pace(host, shared=True) as pace:
            return pace.wait(time.time())

    def claim(self, host: str, delay: float, deadline_s: float) -> float:
        """Start a request now if the host's time has come: then 0.0 is returned, and the
        next start is `delay` after this request is really sent (`sent`). Until then no
        other request may start, for at most `deadline_s` (the claimer's whole-request
        deadline, which also bounds a claim left by a process that died). Otherwise the
        seconds to wait are returned, and nothing changes."""
        with self._pace(host) as pace:
            now = time.time()
            wait = pace.wait(now)
            if wait > 0:
                return wait
            pace.last, pace.next = now, now + delay
            pace.sending_until = now + deadline_s if delay > 0 else 0.0
            return 0.0

    def sent(self, host: str, delay: float) -> None:
        """The claimed request went out now (or failed before it could): the next start
        is `delay` from now, or later."""
        with self._pace(host) as pace:
            now = time.time()
            pace.last, pace.next = max(pace.last, now), max(pace.next, now + delay)
            pace.sending_until = 0.0

    def hold(self, host: str, seconds: float) -> None:
        """No request to the host for `seconds` from now (the host's Retry-After)."""
        with self._pace(host) as pace:
            pace.next = max(pace.next, time.time() + seconds)

    def space(self, host: str, delay: float) -> None:
        """The next request to the host starts at least `delay` after the last one (a
        robots.txt Crawl-delay learnt after that request was sent)."""
        with self._pace(host) as pace:
            pace.next = max(pace.next, pace.last + delay)

    # -- concurrency: the slot files -----------------------------------------------------

    def try_slot(self, host: str, limit: int) -> Slot | None:
        """One of the host's `limit` in-flight slots, or None if every one is held (by
        this process or another). Never waits."""
        for index in range(max(1, limit)):
            path = self._path(host, f"slot{index}")
            with _held_lock:
                if path in _held:
                    continue
                _held.add(path)
            fd = -1
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BaseException as exc:
                if fd >= 0:
                    os.close(fd)
                with _held_lock:
                    _held.discard(path)
                if isinstance(exc, BlockingIOError):
                    continue  # another process holds this one
                raise
            return Slot(path, fd)
        return None


@dataclass
class _Pace:
    """A host's pacing, in wall-clock seconds: the last request start, the earliest next
    one, and, while a claimed request is still being sent (connecting), until when it
    may take."""

    last: float = 0.0
    next: float = 0.0
    sending_until: float = 0.0

    def wait(self, now: float) -> float:
        wait = self.next - now
        if self.sending_until > now:
            # The next start is `delay` after that request leaves, so not before a delay
            # from now; look again then (or soon, for a tiny delay).
            wait = max(wait, self.next - self.last, 0.01)
        return max(0.0, wait)

    @classmethod
    def parse(cls, data: bytes) -> _Pace:
        try:
            last, next_start, sending_until = (float(x) for x in data.split())
        except ValueError:  # empty (a new host) or cut short: start afresh
            return cls()
        return cls(last, next_start, sending_until)

    def dump(self) -> bytes:
        return f"{self.last:.6f} {self.next:.6f} {self.sending_until:.6f}\n".encode()
