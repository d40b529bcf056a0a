"""What the command line draws: progress bars.

Only `pipeline.cli` uses this module; the stages never draw anything, and `pipeline.run`
only reports progress through a callback (`pipeline.run.Progress`).

Progress bars go to standard error, and only to a terminal: a pipe, a file and an
Airflow task log get none. `--progress` forces them, `--no-progress` turns them off.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)  # fmt: skip
from rich.text import Text

# --- progress bars ----------------------------------------------------------------------------


class _Rate(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "", style="progress.data.speed")


class Bars:
    """One bar per task that `pipeline.run` reports: its count, rate, elapsed and
    remaining time. Pass an instance as the `progress` callback."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
            _Rate(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, redirect_stdout=False, redirect_stderr=True,
        )  # fmt: skip
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, task: str, done: int, total: int | None) -> None:
        if task not in self._tasks:
            self._tasks[task] = self.progress.add_task(task, total=total)
        self.progress.update(self._tasks[task], completed=done, total=total)


def under_airflow() -> bool:
    """An Airflow task runs this process: its log is no place for bars."""
    return any(key in os.environ for key in ("AIRFLOW_CTX_DAG_ID", "AIRFLOW_CTX_TASK_ID"))


def _no_bars(task: str, done: int, total: int | None) -> None:
    """Progress that nobody is shown."""


@contextmanager
def progress_bars(choice: bool | None = None) -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress callback for pipeline.run: bars on standard error while the block runs,
    or a callback that draws nothing. `choice`: True forces bars, False refuses them, None
    draws them on an interactive terminal outside Airflow. Log lines written meanwhile go
    above the bars."""
    forced = bool(choice)
    console = Console(stderr=True, force_terminal=forced or None,
                      force_interactive=forced or None)  # fmt: skip
    if choice is False or (choice is None and (not console.is_interactive or under_airflow())):
        yield _no_bars
        return
    bars = Bars(console)
    original = sys.stderr
    with bars.progress:
        # rich has put a proxy in sys.stderr that prints above the bars; logging's handlers
        # still hold the stream they were made with
        handlers = [h for h in logging.getLogger().handlers
                    if isinstance(h, logging.StreamHandler) and h.stream is original]  # fmt: skip
        for handler in handlers:
            handler.setStream(sys.stderr)
        try:
            yield bars
        finally:
            for handler in handlers:
                handler.setStream(original)
