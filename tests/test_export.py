"""Export: Hive-partitioned Parquet and CSV from a reader snapshot, read back equal to the
tables; re-running replaces and never duplicates; --since leaves earlier days alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import cli
from pipeline.store import FileStore, Store
from tests.conftest import copy_demo_store
from tests.test_store import _batch, _hold


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _read_back(folder: Path, fmt: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """The files' rows as an analyst reads them. CSV: by column name (DuckDB's reader
    guesses each small file's layout apart and may misread one otherwise), every value as
    text (their types are guessed per file too)."""
    reader = ("read_parquet" if fmt == "parquet"
              else "read_csv")  # fmt: skip
    options = "" if fmt == "parquet" else ", union_by_name = true, all_varchar = true"
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        shown = columns if fmt == "parquet" else [f"cast({c} as varchar)" for c in columns]
        return con.execute(
            f"select {', '.join(shown)} from {reader}('{folder}/**/*.{fmt}', "
            f"hive_partitioning = 1{options}) order by all"
        ).fetchall()
    finally:
        con.close()


def _table(st: Store, table: str, columns: list[str], text: bool = False) -> list[tuple[Any, ...]]:
    shown = [f"cast({c} as varchar)" if text else c for c in columns]
    return st.query(f"select {', '.join(shown)} from {table} order by all")[1]


def _columns(st: Store, table: str) -> list[str]:
    names, _ = st.query(f"select * from {table} limit 0")
    return names


def test_events_and_articles_read_back_equal_to_their_tables(
    demo_run: Any, tmp_path: Path, capsys: Any
) -> None:
    """Every row and every column, the partition column from the folder names included."""
    st = FileStore(demo_run[0].db_path, lock_timeout_s=0.5)
    out = tmp_path / "out"
    code, printed, _ = _run(capsys, "export", "events", "articles", "--db", str(st.path),
                            "-o", str(out))  # fmt: skip
    assert code == 0 and "events: " in printed and "articles: " in printed
    events = _columns(st, "events")
    assert _read_back(out / "events", "parquet", events) == _table(st, "events", events)
    days = {p.name for p in (out / "events").iterdir()}
    stored = {r[0] for r in st.query("select distinct event_date from events")[1]}
    assert days == {f"event_date={d}" for d in stored} and len(days) > 5
    articles = _columns(st, "articles")
    assert _read_back(out / "articles", "parquet", articles) == _table(st, "articles", articles)
    by_day = _read_back(out / "articles", "parquet", ["published_date", "published_at"])
    assert all(day == when.date() for day, when in by_day)  # the UTC day of publication


def test_csv_carries_the_same_rows(demo_run: Any, tmp_path: Path, capsys: Any) -> None:
    st = FileStore(demo_run[0].db_path, lock_timeout_s=0.5)
    code, _, _ = _run(capsys, "export", "events", "--db", str(st.path), "-o", str(tmp_path),
                      "--format", "csv")  # fmt: skip
    assert code == 0 and all(f.endswith(".csv") for f in _files(tmp_path / "events"))
    columns = ["event_id", "cameo_code", "event_date", "goldstein", "sentence"]
    assert _read_back(tmp_path / "events", "csv", columns) == _table(st, "events", columns, True)


def test_rerunning_replaces_and_since_leaves_earlier_days_alone(
    demo_run: Any, tmp_path: Path
) -> None:
    """The same export twice: the same files, no duplicate row. After the store changes,
    an export from --since rewrites those days (a day with no rows left is removed) and
    keeps the earlier ones as they were."""
    st = copy_demo_store(demo_run, tmp_path / "store")
    out = tmp_path / "out"
    first = st.export("events", out)
    files = _files(out / "events")
    total = st.query("select count(*) from events")[1][0][0]
    again = st.export("events", out)
    assert _files(out / "events") == files and again.rows == first.rows == total
    assert len(_read_back(out / "events", "parquet", ["event_id"])) == total
    assert not [p for p in out.iterdir() if p.name.startswith(".events.") and p.is_dir()]

    days = sorted(r[0] for r in st.query("select distinct event_date from events")[1])
    early, last = days[0], days[-1]
    on_last = st.query("select count(*) from events where event_date = ?", [last])[1][0][0]
    with st.writer() as con:  # events re-coded: the last day's are gone, the first day's too
        con.execute("delete from events where event_date in (?, ?)", [last, early])
    st.export("events", out, since=last)
    assert not (out / "events" / f"event_date={last}").exists()  # in range, no rows now
    assert (out / "events" / f"event_date={early}").exists()  # before since: kept as it was
    assert len(_read_back(out / "events", "parquet", ["event_id"])) == total - on_last
    # a full export again makes the files equal the table
    result = st.export("events", out)
    assert f"event_date={early}" in result.removed
    assert len(_read_back(out / "events", "parquet", ["event_id"])) == result.rows


def test_rollup_export_and_an_export_never_waits_for_the_writer(
    any_store: Store, tmp_path: Path
) -> None:
    """On every backend, from a reader: the rollup's rows come back partitioned by day,
    and (the file backend) a load holding the working file does not stop an export."""
    st = any_store
    st.load(_batch("r1", ["a1"], []))
    with st.writer() as con:
        con.execute(
            "insert into event_rollup (rollup_id, event_date, source_actor, target_actor, "
            "cameo_code, num_sources) values ('x1', date '2025-11-02', 'CHN', 'USA', '040', 3), "
            "('x2', date '2025-11-03', 'USA', 'CHN', '040', 1), ('x3', null, 'RUS', '', '190', 2)"
        )  # fmt: skip
    holder = _hold(st.writer_path) if isinstance(st, FileStore) else None
    try:
        result = st.export("rollup", tmp_path)
    finally:
        if holder is not None:
            holder.communicate("")
    assert result.rows == 3 and sorted(result.written) == [
        "event_date=2025-11-02", "event_date=2025-11-03",
        "event_date=__HIVE_DEFAULT_PARTITION__",
    ]  # fmt: skip
    back = _read_back(tmp_path / "rollup", "parquet", ["rollup_id", "event_date", "num_sources"])
    assert [(r[0], str(r[1]), r[2]) for r in back] == [
        ("x1", "2025-11-02", 3), ("x2", "2025-11-03", 1), ("x3", "None", 2)
    ]  # fmt: skip


def test_a_bad_since_is_a_usage_error(tmp_path: Path, capsys: Any) -> None:
    code, _, err = _run(capsys, "export", "events", "-o", str(tmp_path), "--since", "yesterday")
    assert code == 2 and "expected a date" in err
