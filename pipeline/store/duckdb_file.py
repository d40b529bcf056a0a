"""The DuckDB file backend: the pipeline writes a file of its own, analysts read a copy.

DuckDB allows one read-write process and no readers beside it, so an analyst who kept
the pipeline's file open would stop every load. Here the pipeline is the only process
that ever opens its working file (`<name>.pipeline/writer.duckdb`); after each write it
checkpoints that file and publishes a copy at the configured path (`data/news.duckdb`),
written beside it and renamed over it, which is atomic. Analysts open the published copy,
read-only, for as long as they like:

* a load never waits for an analyst, and an analyst never sees an error or a half-loaded
  batch: an open session keeps the snapshot it opened (the replaced file lives on until
  it closes it), and sees the new one when it reconnects;
* the pipeline reads its own state (stored URLs, validators, waiting pages) from the copy
  too, so only loads take the writer's lock, and only pipeline processes ever hold it.

The cost is one copy of the file per load (one for all the batches of a load): about 1 s
per GB on a local SSD, none where the filesystem clones (XFS, Btrfs:
`os.copy_file_range`). docs/ARCHITECTURE.md has the
measured figures and when to move to DuckLake instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from pipeline.store import search
from pipeline.store.base import DatabaseLocked, Store
from pipeline.store.sql import Connection

log = logging.getLogger(__name__)


def connect_file(
    path: Path, *, read_only: bool = False, lock_timeout_s: float = 0.0, role: str = ""
) -> Connection:
    """Open a DuckDB file, waiting up to lock_timeout_s for another process's lock, and
    saying once that it waits and for whom."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(f"no database at {path}; run `newsevents run` or `demo` first")
    deadline = time.monotonic() + lock_timeout_s
    delay, said = 0.1, False
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            holder = str(exc).split("Conflicting lock is held in", 1)[-1].strip()
            if time.monotonic() >= deadline:
                raise DatabaseLocked(
                    f"{path} is locked by another process ({holder}). {role}"
                ) from exc
            if not said:
                log.warning("waiting up to %.3g s for the lock on %s, held by %s",
                            lock_timeout_s, path, holder)  # fmt: skip
                said = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0)
    con.execute("set TimeZone = 'UTC'")
    return con


def copy_file(src: Path, dst: Path) -> None:
    """Copy src to dst and flush it to disk; a clone where the filesystem can."""
    with src.open("rb") as fin, dst.open("wb") as fout:
        size = os.fstat(fin.fileno()).st_size
        try:
            done = 0
            while done < size:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError:
            fin.seek(0)
            fout.seek(0)
            fout.truncate()
            shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())


class FileStore(Store):
    kind = "duckdb"

    def __init__(self, path: Path, *, work_dir: Path | None = None, lock_timeout_s: float) -> None:
        self.path = path  # the analysts' copy
        super().__init__(
            str(path), work_dir or path.with_suffix(".pipeline"), lock_timeout_s=lock_timeout_s
        )
        self.writer_path = self.work_dir / "writer.duckdb"
        self._held = 0  # inside many_writes(): publish once, at its end
        self._unpublished = False

    def describe(self) -> str:
        return str(self.path.resolve())

    def exists(self) -> bool:
        return self.path.exists() or self.writer_path.exists()

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        if not self.path.exists() and self.writer_path.exists():
            with self.writer():  # a publish was lost (say, a full disk): publish again
                pass
        try:
            con = connect_file(self.path, read_only=True)
        except duckdb.IOException as exc:
            raise DatabaseLocked(
                f"{self.path} is open read-write in another process ({exc}). Analysts open "
                f"it read-only (`duckdb -readonly {self.path}`); the pipeline replaces it "
                "after every load."
            ) from exc
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _search_reader(self) -> Iterator[Connection]:
        """The index is inside the file (search.article_text, fts_search_article_text), so the
        published copy carries it, consistent with the rows it indexes."""
        with self.reader() as con:
            yield con

    def refresh_search_index(self, *, force: bool = False) -> dict[str, Any] | None:
        """Rebuilt inside the working file, in one transaction, before the copy that the
        session's end (or the end of many_writes) publishes."""
        with self.writer() as con:
            if not force and search.is_current(con, con):
                return None
            return search.refresh(con, force=force)

    def _open_writer(self) -> Connection:
        if not self.writer_path.exists() and self.path.exists():
            # A database written in place by an earlier version: it becomes the working
            # file, and the path stays the analysts' copy.
            self.writer_path.parent.mkdir(parents=True, exist_ok=True)
            log.warning("adopting %s as the pipeline's working file %s", self.path,
                        self.writer_path)  # fmt: skip
            copy_file(self.path, self.writer_path)
        return connect_file(
            self.writer_path, lock_timeout_s=self.lock_timeout_s,
            role="Only pipeline processes open this file (analysts read "
            f"{self.path}): another pass or task is loading. Retry when it has finished.",
        )  # fmt: skip

    @contextmanager
    def many_writes(self) -> Iterator[None]:
        """The batches of one load publish one copy, at the end: eight feeds' batches
        copy the file once, not eight times. Whatever was loaded is published even if a
        later batch fails."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._unpublished:
                try:
                    with self.writer():
                        pass  # its end publishes
                except DatabaseLocked as exc:  # the next write publishes instead
                    log.warning("could not publish %s yet: %s", self.path, exc)

    def _after_write(self, con: Connection) -> None:
        if self._held:
            self._unpublished = True
            return
        self._unpublished = False
        con.execute("checkpoint")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            copy_file(self.writer_path, tmp)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
