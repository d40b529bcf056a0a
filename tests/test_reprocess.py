"""Coding stored pages again: `newsevents enrich --all` and `newsevents reprocess`, on the
demo corpus through the real pipeline (real DuckDB, real spaCy), without fetching."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings
from pipeline.run import enrich_waiting_to_spool, load_spools, reprocess
from pipeline.store import open_store
from tests.conftest import ROOT, make_settings


@pytest.fixture
def demo_copy(demo_run: Any, tmp_path: Path) -> Settings:
    """A copy of the module's demo store (the database, its spool and archive), so that
    each test starts from one clean pass without running it again."""
    settings, _, _ = demo_run
    shutil.copytree(settings.db_path.parent, tmp_path / "store")
    return make_settings(tmp_path / "store")


def _one(settings: Settings, sql: str, params: list[Any] | None = None) -> Any:
    return open_store(settings).query(sql, params)[1][0][0]


def test_an_article_that_lost_its_usable_body_loses_its_old_rows(
    demo_copy: Settings, nlp: Any
) -> None:
    """Its stored page now holds a consent wall: enriched again, the article is kept as
    unusable, and none of the entities, places or events of the body it had remain."""
    store = open_store(demo_copy)
    aid = _one(demo_copy, "select article_id from events group by 1 order by count(*) desc, 1")
    wall = (
        "select r.body from raw_pages r join articles a using (article_id) where a.status <> 'ok'"
    )
    with store.writer() as con:
        con.execute(f"update raw_pages set body = ({wall}) where article_id = ?", [aid])
    assert store.mark_all_waiting() == _one(demo_copy, "select count(*) from raw_pages")
    result = enrich_waiting_to_spool(demo_copy, nlp=nlp)
    load_spools([result["spool"]], demo_copy)
    assert _one(demo_copy, "select status from articles where article_id = ?", [aid]) != "ok"
    for table in ("entities", "places", "events"):
        sql = f"select count(*) from {table} where article_id = ?"
        assert _one(demo_copy, sql, [aid]) == 0, table
    assert store.run_checks() == {}


OLD = "rules-0.4+0ldc0de"  # a coder version the stored rows pretend to have


def _events(settings: Settings) -> dict[str, tuple[Any, ...]]:
    """Every event, whole, by id."""
    columns, rows = open_store(settings).query("select * from events")
    at = columns.index("event_id")
    return {row[at]: row for row in rows}


def _columns(settings: Settings, table: str) -> list[str]:
    return open_store(settings).query(f"select * from {table} limit 0")[0]


def _reprocess_runs(settings: Settings) -> list[tuple[Any, ...]]:
    return open_store(settings).query(
        "select articles_extracted + articles_short, events, events_replaced, events_kept, "
        "replaced_coder_versions, coder_version, trigger from runs "
        "where trigger = 'reprocess' order by started_at"
    )[1]


def _age(settings: Settings, where: str = "true") -> None:
    """Pretend an older coder coded these articles: their events and the articles carry
    its version."""
    with open_store(settings).writer() as con:
        con.execute(f"update events set coder_version = '{OLD}' where article_id in "
                    f"(select article_id from articles where {where})")  # fmt: skip
        con.execute(f"update articles set coder_version = '{OLD}' where {where}")


def test_reprocess_puts_back_the_current_coders_events_under_the_same_ids(
    demo_copy: Settings, nlp: Any
) -> None:
    """After a simulated coder change (an older version on every stored event, some events
    deleted, some altered), a reprocess gives back exactly the current coder's events,
    under the same ids, and records what it replaced; a second one changes nothing."""
    original = _events(demo_copy)
    current = _one(demo_copy, "select any_value(coder_version) from events")
    fetches = _one(demo_copy, "select count(*) from fetch_log")
    _age(demo_copy)
    with open_store(demo_copy).writer() as con:
        # delete every third event, and alter the first of each article still there
        con.execute("delete from events where hash(event_id) % 3 = 0")
        first = "select min(event_id) from events group by article_id"
        con.execute(f"update events set goldstein = 9.9, modality = 'hypothetical' "
                    f"where event_id in ({first})")  # fmt: skip
    stale = _events(demo_copy)
    altered = sum(row[_columns(demo_copy, "events").index("goldstein")] == 9.9
                  for row in stale.values())  # fmt: skip
    assert 0 < len(stale) < len(original) and altered > 0

    done = reprocess(demo_copy, nlp=nlp, batch=20)
    pages = _one(demo_copy, "select count(*) from raw_pages")
    assert done.pages == pages and len(done.runs) == -(-pages // 20)
    assert _events(demo_copy) == original  # whole rows, ids and coder version included
    assert _one(demo_copy, "select count(*) from events where coder_version <> ?",
                [current]) == 0  # fmt: skip
    assert _one(demo_copy, "select count(*) from articles where coder_version is distinct "
                "from ?", [current]) == 0  # fmt: skip
    assert _one(demo_copy, "select count(*) from fetch_log") == fetches  # nothing fetched
    runs = _reprocess_runs(demo_copy)
    assert [r[0] for r in runs] == [min(20, pages - i) for i in range(0, pages, 20)]  # per run
    assert sum(r[1] for r in runs) == len(original)
    assert sum(r[2] for r in runs) == len(stale)
    assert sum(r[3] for r in runs) == len(stale) - altered  # kept: only the version changed
    assert {tuple(r[4]) for r in runs} == {(OLD,)} and {r[5] for r in runs} == {current}
    # derived by the load itself: the per-day table matches the events again
    assert _one(demo_copy, "select sum(events) from daily_summary") == _one(
        demo_copy, "select count(*) from factual_events"
    )
    assert open_store(demo_copy).run_checks() == {}

    again = reprocess(demo_copy, nlp=nlp)
    assert again.pages == 0 and again.runs == [] and _events(demo_copy) == original
    # coding the same pages again for real (one feed's, to keep the test short)
    redo = reprocess(demo_copy, nlp=nlp, redo_all=True, feed="ledger-asia")
    assert redo.pages >= 10 and redo.events_kept == redo.events > 0
    assert _events(demo_copy) == original


def _content(columns: list[str], row: tuple[Any, ...]) -> tuple[Any, ...]:
    """An event's values but for its id, its place in the article and its coder version."""
    skip = {"event_id", "event_idx", "coder_version"}
    return tuple(tuple(v) if isinstance(v, list) else v
                 for c, v in zip(columns, row, strict=True) if c not in skip)  # fmt: skip


def test_a_real_coder_change_keeps_the_ids_of_the_events_it_did_not_change(
    demo_copy: Settings, nlp: Any, tmp_path: Path
) -> None:
    """The coder loses one trigger rule (a user's triggers file): its events go, and every
    other event keeps its id even where its place in the article (event_idx) moved up,
    which the old `article_id-event_idx` ids could not do. With the shipped rules back,
    a reprocess gives back the original rows exactly."""
    columns = _columns(demo_copy, "events")
    original = _events(demo_copy)
    shipped = Path(str(resources.files("pipeline"))) / "data" / "coder" / "triggers.jsonl"
    hand = {json.loads(line)["id"] for line in shipped.read_text().splitlines() if line}
    # the hand-written rule with the fewest events among those followed in their article
    # by an event of another rule; and that article's feed
    rule, feed = open_store(demo_copy).query(
        "select e.rule_id, any_value(a.feed) from events e join articles a using (article_id) "
        "where list_contains(?, e.rule_id) and exists (select 1 from events l where "
        "l.article_id = e.article_id and l.event_idx > e.event_idx and l.rule_id <> e.rule_id) "
        "group by 1 order by (select count(*) from events x where x.rule_id = e.rule_id), 1 "
        "limit 1", [sorted(hand)])[1][0]  # fmt: skip
    fewer = tmp_path / "triggers.jsonl"
    fewer.write_text("".join(line + "\n" for line in shipped.read_text().splitlines()
                             if line and json.loads(line)["id"] != rule))  # fmt: skip
    changed = make_settings(demo_copy.db_path.parent, triggers_file=str(fewer))

    done = reprocess(changed, nlp=nlp, feed=feed)
    assert done.pages >= 10 and done.coder_version != _one(demo_copy, "select any_value("
                                                          "coder_version) from events")  # fmt: skip
    after = _events(demo_copy)
    in_feed = {r[0] for r in open_store(demo_copy).query(
        "select article_id from articles where feed = ?", [feed])[1]}  # fmt: skip
    at = {c: i for i, c in enumerate(columns)}
    mine = {i: r for i, r in after.items() if r[at["article_id"]] in in_feed}
    assert all(r[at["coder_version"]] == done.coder_version for r in mine.values())
    assert not [r for r in mine.values() if r[at["rule_id"]] == rule]
    # the other feeds' events are as they were
    assert {i: r for i, r in after.items() if i not in mine} == {
        i: r for i, r in original.items() if r[at["article_id"]] not in in_feed}  # fmt: skip
    ids_of: dict[tuple[Any, ...], set[str]] = {}
    for i, r in original.items():
        ids_of.setdefault(_content(columns, r), set()).add(i)
    same = [(i, r) for i, r in mine.items() if _content(columns, r) in ids_of]
    assert len(same) > len(mine) / 2
    assert all(i in ids_of[_content(columns, r)] for i, r in same)
    shifted = [i for i, r in same if original[i][at["event_idx"]] != r[at["event_idx"]]]
    assert shifted, "no event moved up: the test would not tell the id schemes apart"

    back = reprocess(demo_copy, nlp=nlp, feed=feed)
    assert back.pages == done.pages and _events(demo_copy) == original
    runs = _reprocess_runs(demo_copy)
    assert [(tuple(r[4]), r[5]) for r in runs] == [
        ((back.coder_version,), done.coder_version),
        ((done.coder_version,), back.coder_version),
    ]


def test_reprocess_since_a_day_and_of_one_feed(demo_copy: Settings, nlp: Any) -> None:
    """--since takes the pages fetched on or after a day, --feed those of one feed; the
    others keep the older coder's rows."""
    _age(demo_copy)
    with open_store(demo_copy).writer() as con:  # all but five pages fetched in 2024
        five = "select url from raw_pages order by url limit 5"
        con.execute("update raw_pages set fetched_at = timestamptz '2024-03-01 10:00:00+00' "
                    f"where url not in ({five})")  # fmt: skip
    recent = {u for (u,) in open_store(demo_copy).query(
        "select url from raw_pages where fetched_at > '2025-01-01'")[1]}  # fmt: skip
    done = reprocess(demo_copy, nlp=nlp, since=datetime(2025, 1, 1, tzinfo=UTC))
    assert done.pages == len(recent) == 5
    fresh = {u for (u,) in open_store(demo_copy).query(
        "select url from articles where coder_version <> ?", [OLD])[1]}  # fmt: skip
    assert fresh == recent
    assert _one(demo_copy, "select count(*) from events where coder_version = ?", [OLD]) > 0
    one = reprocess(demo_copy, nlp=nlp, feed="wire-diplomacy")
    assert one.pages == _one(
        demo_copy,
        "select count(*) from raw_pages where feed = "
        "'wire-diplomacy' and url not in (select unnest(?))",
        [sorted(recent)],
    )
    assert _one(demo_copy, "select count(*) from articles where feed = 'wire-diplomacy' and "
                "coder_version = ?", [OLD]) == 0  # fmt: skip
    assert _one(demo_copy, "select count(*) from articles where coder_version = ?", [OLD]) > 0


def test_reprocess_from_the_archive_brings_back_pages_no_longer_stored(
    demo_copy: Settings, nlp: Any
) -> None:
    """Raw pages deleted from the store (and their articles' rows aged): --from archive
    takes the pages from the store's WARC files, stores them again as raw pages, and
    gives back the same events; the rest of the store is not touched."""
    original = _events(demo_copy)
    pages = _one(demo_copy, "select count(*) from raw_pages")
    gone = "select url from raw_pages order by url limit 4"
    urls = {u for (u,) in open_store(demo_copy).query(gone)[1]}
    _age(demo_copy, f"url in ({gone})")
    with open_store(demo_copy).writer() as con:
        con.execute(f"delete from raw_pages where url in (select url from ({gone}))")
    done = reprocess(demo_copy, nlp=nlp, source="archive")
    assert done.pages == 4
    assert _events(demo_copy) == original
    back = open_store(demo_copy).query(
        "select url, enriched_at is not null from raw_pages where list_contains(?, url)",
        [sorted(urls)])[1]  # fmt: skip
    assert sorted(back) == [(u, True) for u in sorted(urls)]
    assert _one(demo_copy, "select count(*) from raw_pages") == pages
    assert reprocess(demo_copy, nlp=nlp, source="archive").pages == 0


def test_a_reprocess_killed_midway_keeps_its_loads_and_the_next_one_does_the_rest(
    demo_copy: Settings, nlp: Any
) -> None:
    """kill -9 after the first of its batches loaded: what loaded stays, and the next run
    (loading first a batch the killed one may have left in the spool) redoes only the
    pages still coded by the old coder, to the same rows."""
    original = _events(demo_copy)
    _age(demo_copy)
    feed = "meridian-world"
    total = _one(demo_copy, "select count(*) from raw_pages where feed = ?", [feed])
    cli = [sys.executable, "-m", "pipeline.cli", "reprocess", "--db", str(demo_copy.db_path),
           "--feed", feed, "--batch", "3"]  # fmt: skip
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not _reprocess_runs(demo_copy) and proc.poll() is None:
            assert time.monotonic() < deadline, "the first batch never loaded"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.communicate()
    loaded = len(_reprocess_runs(demo_copy))
    assert 1 <= loaded < -(-total // 3), "killed too late to leave anything to do"
    assert _one(demo_copy, "select count(*) from articles where feed = ? and coder_version "
                "<> ?", [feed, OLD]) == 3 * loaded  # fmt: skip

    rest = reprocess(demo_copy, nlp=nlp, feed=feed, batch=3)
    assert rest.pages + 3 * (loaded + len(rest.earlier_loaded)) == total
    assert _one(demo_copy, "select count(*) from articles where feed = ? and coder_version "
                "= ?", [feed, OLD]) == 0  # fmt: skip
    mine = {r[0] for r in open_store(demo_copy).query(
        "select article_id from articles where feed = ?", [feed])[1]}  # fmt: skip
    after = {i: r for i, r in _events(demo_copy).items() if r[1] in mine}
    assert after == {i: r for i, r in original.items() if r[1] in mine}


STYLE = re.compile(r"\x1b\[[0-9;]*m")  # colours and bold
MOVES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")  # cursor moves, erasing, carriage returns


def in_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run a command with its standard error on a pseudo-terminal 120 columns wide (as in
    an interactive shell) and its standard output on a pipe. Returns the exit code, the
    output, and what the terminal showed, control codes removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=env, cwd=ROOT)  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the command has closed the terminal
            break
        if not data:
            break
        shown += data
    os.close(master)
    out, _ = proc.communicate(timeout=120)
    text = STYLE.sub("", shown.decode(errors="replace"))
    return proc.returncode, out.decode(), MOVES.sub("\n", text)


def test_reprocess_draws_progress_bars_on_a_terminal_and_none_into_a_pipe(
    demo_copy: Settings,
) -> None:
    feed = "ledger-asia"
    n = _one(demo_copy, "select count(*) from raw_pages where feed = ?", [feed])
    argv = [sys.executable, "-m", "pipeline.cli", "reprocess", "--db", str(demo_copy.db_path),
            "--feed", feed, "--all"]  # fmt: skip
    # a terminal outside Airflow (dag.test() in the DAG tests leaves AIRFLOW_CTX_* behind)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TTY_", "COLUMNS", "AIRFLOW_CTX_"))}  # fmt: skip
    env["TERM"] = "xterm-256color"
    code, out, shown = in_terminal(argv, env)
    assert code == 0 and out.startswith(f"reprocessed {n} page(s)"), (out, shown)
    for task in ("extract", "tag and code"):
        bar = [line for line in shown.splitlines() if line.startswith(task) and f"{n}/{n}" in line]
        assert bar and re.search(r"[0-9.]+/s", bar[-1]), shown  # the count and the rate
    assert "━" in shown  # the bar itself

    piped = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert piped.returncode == 0 and piped.stdout.startswith(f"reprocessed {n} page(s)")
    assert piped.stderr == ""  # no bar, no control code, nothing

    # on a terminal, but in an Airflow task (a BashOperator, say): its log gets no bars
    texts = demo_copy.db_path.parent / "texts.jsonl"
    texts.write_text('{"id": 1, "text": "Russia attacked Ukraine."}\n')
    code_argv = [sys.executable, "-m", "pipeline.cli", "code", "--input", str(texts)]
    code, out, shown = in_terminal(code_argv, {**env, "AIRFLOW_CTX_DAG_ID": "news_enrich"})
    assert code == 0 and '"cameo": "190"' in out
    assert "code texts" not in shown and "━" not in shown, shown
    code, out, shown = in_terminal(code_argv, env)  # and the same outside Airflow draws them
    assert code == 0 and re.search(r"code texts .*━.* 1/1", shown), shown
