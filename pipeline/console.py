"""What the command line draws: tables that fit the terminal, and progress bars.

The command line (`pipeline.cli`, and the score tables of `pipeline.evaluate` it prints)
uses this module; the stages never draw anything, and `pipeline.run` only reports
progress through a callback (`pipeline.run.Progress`).

* Tables are text on standard output, without colours or control codes, so they read the
  same on a terminal, in a pipe or in a file. They fit the terminal's width (`COLUMNS`
  when set, 80 without a terminal): long cells wrap inside their column; when even the
  column names cannot fit side by side, each row is printed as a record, one `column
  value` line per column (psql's expanded display). `--format csv|json` is for machines.
* Progress bars go to standard error, and only to a terminal: a pipe, a file and an
  Airflow task log get none. `--progress` forces them, `--no-progress` turns them off.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
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
from rich.table import Table
from rich.text import Text

MAX_CELL = 300  # characters of one cell in a table; longer values end in "…"
GAP = 2  # spaces between columns
MIN_COLUMN = 8  # a column may wrap down to its name's width, or to this many characters

# --- tables -----------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A value as a table shows it: no time zone noise, short floats, one line."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S%z")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "; ".join(cell(v) for v in value)
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _numeric(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present
    )


def terminal_width() -> int:
    """The width tables fit: the terminal's (COLUMNS wins), 80 without a terminal."""
    return Console().width


def _render(renderable: RenderableType, width: int) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                      legacy_windows=False, markup=False, emoji=False, highlight=False)  # fmt: skip
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())


def format_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, width: int | None = None
) -> str:
    """Rows as a table that fits `width` (default: the terminal's), then "(N rows)"."""
    width = width or terminal_width()
    cells = [[cell(v) for v in row] for row in rows]
    natural = [max([cell_len(c), *(cell_len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    floors = [min(n, max(cell_len(c), MIN_COLUMN)) for n, c in zip(natural, columns, strict=True)]
    if sum(floors) + GAP * (len(columns) - 1) <= width:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      padding=(0, GAP - 1, 0, 0), collapse_padding=True)  # fmt: skip
        for i, (name, floor) in enumerate(zip(columns, floors, strict=True)):
            numeric = _numeric([row[i] for row in rows])
            table.add_column(Text(name), min_width=floor, overflow="fold",
                             justify="right" if numeric else "left")  # fmt: skip
        for row in cells:
            table.add_row(*(Text(c) for c in row))
        text = _render(table, width)
    else:
        text = _records(columns, cells, width)
    return f"{text}\n({len(rows)} row{'s' if len(rows) != 1 else ''})"


def _records(columns: Sequence[str], cells: Sequence[Sequence[str]], width: int) -> str:
    """Each row as a record: a `-[ RECORD n ]` line, then one line per column."""
    key = max(cell_len(c) for c in columns)
    out = []
    for n, row in enumerate(cells, 1):
        grid = Table.grid(padding=(0, GAP, 0, 0))
        grid.add_column(no_wrap=True, min_width=key)
        grid.add_column(overflow="fold")
        for name, value in zip(columns, row, strict=True):
            grid.add_row(Text(name), Text(value))
        head = f"-[ RECORD {n} ]"
        out.append(head + "-" * max(0, min(width, 40) - len(head)))
        out.append(_render(grid, width))
    return "\n".join(out)


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
