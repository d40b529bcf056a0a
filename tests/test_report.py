"""The daily report (pipeline/report.py, pipeline.daily, `newsevents report`): its queries
on every backend, its default day and window, stories before and after the story tables
are filled, hostile text, the atomic write and the command. The page in a real browser:
tests/test_report_browser.py."""

from __future__ import annotations

import html
import importlib.metadata
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import cli, report
from pipeline.config import load_settings
from pipeline.daily import collect_report, report_day, reports_dir, write_report
from pipeline.report import WINDOW_REPORTS, ReportData, render_report, script_json
from pipeline.store import FileStore, Store, open_store
from tests.conftest import db_rows, make_settings

END = date(2025, 11, 8)  # the demo corpus's last publication day


def _json_scripts(page: str) -> list[str]:
    return re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)


@pytest.fixture(scope="module")
def demo_store(demo_run: Any) -> Store:
    settings, _, _ = demo_run
    return open_store(settings)


# --- the queries -----------------------------------------------------------------------------


def test_reports_read_together_get_only_the_parameters_they_name(tmp_path: Path) -> None:
    """DuckDB refuses a parameter a statement does not use; the window's reports and the
    status reports are read in one snapshot with one dict."""
    store = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.5)
    store.prepare()
    params = {"today": END, "start": END, "end": END}
    out = store.reports(["report_latest_day", "report_totals", "status_feeds"], params)
    assert out["report_latest_day"][1] == [(None,)]
    assert out["report_totals"][1] == [(0, 0, 0, 0, 0, 0)]
    with pytest.raises(duckdb.InvalidInputException, match="excess parameters"):
        store.query("select 1", {"today": END})


def test_the_report_reads_and_renders_an_empty_store_on_every_backend(any_store: Store) -> None:
    data = collect_report(any_store, END, 7)
    assert set(WINDOW_REPORTS) <= set(data.tables)
    assert data.start == date(2025, 11, 2)
    page = render_report(data)
    for empty in ("No factual events in this window.", "No located events in this window.",
                  "No articles with a usable body were published in this window."):  # fmt: skip
        assert empty in page
    # no chart, so no scripts at all
    assert "data-chart=" not in page and "vegaEmbed" not in page and "<script" not in page


def test_the_default_day_is_today_or_the_latest_day_with_articles(
    demo_store: Store, tmp_path: Path
) -> None:
    assert report_day(demo_store, today=date(2025, 11, 5)) == date(2025, 11, 5)
    assert report_day(demo_store, today=date(2026, 1, 1)) == END  # the latest day with news
    assert report_day(demo_store, today=date(2025, 1, 1)) == date(2025, 1, 1)  # none before
    empty = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.5)
    assert report_day(empty) == datetime.now(UTC).date()
    assert not empty.exists()  # asking does not create a store


def test_the_window_counts_agree_with_the_events(demo_run: Any, demo_store: Store) -> None:
    """Counted in Python from the raw rows: each event on its article's publication day."""
    settings, _, _ = demo_run
    data = collect_report(demo_store, END, 7)
    raw = db_rows(
        settings.db_path,
        "select cast(coalesce(a.published_at, a.first_seen_at) as date), e.quad_class, "
        "e.latitude from factual_events e join articles a using (article_id)",
    )
    in_window = [r for r in raw if date(2025, 11, 2) <= r[0] <= END]
    assert 0 < len(in_window) < len(raw)  # the window leaves some out
    per_day: dict[tuple[date, int], int] = {}
    for day, quad, _ in in_window:
        per_day[(day, quad)] = per_day.get((day, quad), 0) + 1
    assert {
        (r["day"], r["quad_class"]): r["events"] for r in data.records("report_days")
    } == per_day
    totals = data.records("report_totals")[0]
    assert totals["events"] == len(in_window)
    located = sum(1 for r in in_window if r[2] is not None)
    assert (
        totals["located_events"]
        == located
        == sum(r["events"] for r in data.records("report_places"))
    )
    dyads = data.records("report_dyads")
    assert 0 < len(dyads) <= 12
    assert [d["events"] for d in dyads] == sorted((d["events"] for d in dyads), reverse=True)
    assert all(-10 <= d["mean_goldstein"] <= 10 for d in dyads)
    stories = data.records("report_stories")
    assert len(stories) == 10
    assert all(len(s["top_events"]) == min(4, s["events"]) for s in stories)
    # one day only
    one = collect_report(demo_store, date(2025, 11, 3), 1)
    assert {r["day"] for r in one.records("report_days")} == {date(2025, 11, 3)}
    assert sum(r["events"] for r in one.records("report_days")) == sum(
        n for (day, _), n in per_day.items() if day == date(2025, 11, 3)
    )


def test_stories_fall_back_to_articles_and_use_the_story_tables_once_filled(
    demo_run: Any, tmp_path: Path
) -> None:
    """With stories, articles.story_id and event_rollup empty (as before the loads fill
    them), each article is a story of its own; filled (here by hand), two outlets' copies
    are one story, ranked first, with the stories table's title and the rollup's counts."""
    settings, _, _ = demo_run
    db = tmp_path / "news.duckdb"
    shutil.copyfile(settings.db_path, db)
    store = FileStore(db, lock_timeout_s=5)
    with store.writer() as con:  # empty, whatever the loads put there
        con.execute("delete from stories")
        con.execute("delete from event_rollup")
        con.execute("update articles set story_id = null")
    before = collect_report(store, END, 7)
    assert all(s["articles"] == 1 and s["articles_all_time"] is None
               for s in before.records("report_stories"))  # fmt: skip
    (first, first_feed), (second, second_feed) = db_rows(
        db,
        "select arg_min(article_id, published_at), feed from articles where status = 'ok' "
        "and feed in ('meridian-world', 'ledger-asia') "
        "and published_at >= '2025-11-02' and article_id in (select article_id from "
        "factual_events) group by feed order by feed",
    )
    (event_a,), (event_b,) = db_rows(
        db,
        "select min(event_id) from factual_events where article_id in (?, ?) group by article_id",
        [first, second],
    )
    with store.writer() as con:
        con.execute("update articles set story_id = ? where article_id in (?, ?)",
                    [first, first, second])  # fmt: skip
        con.execute(
            "insert into stories (story_id, first_article_id, title, n_articles, n_outlets, "
            "outlets) values (?, ?, 'One story, <two> outlets', 2, 2, ?)",
            [first, first, sorted([first_feed, second_feed])],
        )
        con.execute(
            "insert into event_rollup (rollup_id, num_mentions, num_articles, num_stories, "
            "num_sources, event_ids) values ('r1', 2, 2, 1, 2, ?)",
            [sorted([event_a, event_b])],
        )
    after = collect_report(store, END, 7)
    top = after.records("report_stories")[0]
    assert top["story_key"] == first and top["title"] == "One story, <two> outlets"
    assert top["articles"] == 2 and top["articles_all_time"] == 2
    assert top["outlet_count"] == 2
    counted = [e for e in top["top_events"] if e["rollup_articles"] is not None]
    assert counted and all(e["rollup_articles"] == 2 and e["rollup_sources"] == 2
                           for e in counted)  # fmt: skip
    totals = (before.records("report_totals")[0], after.records("report_totals")[0])
    assert totals[1]["stories"] == totals[0]["stories"] - 1
    page = render_report(after)
    assert "One story, &lt;two&gt; outlets" in page
    assert "event_rollup: 2 mentions in 2 articles, 1 story, 2 outlets" in page
    assert "2 articles · 2 outlets" in page


# --- hostile text ------------------------------------------------------------------------------

PAYLOAD = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def hostile_report() -> ReportData:
    """A report whose every text from articles or feeds carries PAYLOAD: titles, URLs,
    outlets, sentences, triggers, actor names, feed errors, run errors."""
    now = datetime(2025, 11, 8, 12, tzinfo=UTC)
    event = {
        "source_actor": "USA", "target_actor": "CHN", "cameo_code": "036",
        "sentence": f"Officials {PAYLOAD} agreed to talks.", "source_name": f"Bob {PAYLOAD}",
        "target_name": "China", "source_country": "USA", "target_country": "CHN",
        "trigger": "agreed", "root_name": "Express intent to cooperate", "quad_class": 1,
        "goldstein": 4.0, "event_date": END, "location": f"Here {PAYLOAD}", "mentions": 1,
        "outlets": [PAYLOAD], "rollup_mentions": None, "rollup_articles": None,
        "rollup_stories": None, "rollup_sources": None,
    }  # fmt: skip
    story = ("s1", f"Title {PAYLOAD}", "javascript:window.__pwned = 3", 1, None, 1,
             [f"Outlet {PAYLOAD}"], now, now, 1, [event])  # fmt: skip
    tables = {
        "report_totals": (["articles", "usable_articles", "stories", "feeds", "events",
                           "located_events"], [(1, 1, 1, 1, 1, 1)]),
        "report_days": (["day", "quad_class", "events"], [(END, 1, 1)]),
        "report_dyads": (
            ["source_key", "target_key", "source_name", "target_name", "events",
             "mean_goldstein", "cooperation_events", "conflict_events"],
            [(f"IGO{PAYLOAD}", "CHN", f"Group {PAYLOAD}", "China", 3, 4.0, 3, 0)],
        ),
        "report_places": (
            ["location", "country", "precision", "latitude", "longitude", "events",
             "mean_goldstein", "top_event_type"],
            [(f"Here {PAYLOAD}", "USA", "city", 38.9, -77.0, 1, 4.0, PAYLOAD)],
        ),
        "report_stories": (
            ["story_key", "title", "url", "articles", "articles_all_time", "outlet_count",
             "outlets", "first_published_at", "last_published_at", "events", "top_events"],
            [story],
        ),
        "report_extraction": (["feed", "status", "articles", "example_detail"],
                              [(PAYLOAD, "too_short", 1, PAYLOAD)]),
        "status_feeds": (["name", "failures_in_a_row", "last_error"], [(PAYLOAD, 2, PAYLOAD)]),
        "status_hosts": (["host", "consecutive_failures"], [(PAYLOAD, 1)]),
        "report_runs": (["run_id", "status", "errors"], [("r1", "partial", [PAYLOAD])]),
    }  # fmt: skip
    return ReportData(end=END, days=7, generated_at=now, tables=tables, version="test")


def test_hostile_text_is_escaped_everywhere() -> None:
    page = render_report(hostile_report())
    assert PAYLOAD not in page
    # it is there only escaped: as HTML text, and as JSON in the charts' data
    escaped = page.replace(html.escape(PAYLOAD), "").replace(script_json(PAYLOAD)[1:-1], "")
    assert "__pwned" not in escaped
    assert html.escape(f"Title {PAYLOAD}") in page
    assert "<mark>agreed</mark>" in page
    # chart data: JSON in which no '<' can end its <script> element
    days, dyads, where = _json_scripts(page)
    assert not any("<" in spec for spec in (days, dyads, where))
    assert script_json(PAYLOAD)[1:-1] in dyads and script_json(PAYLOAD)[1:-1] in where
    # a javascript: URL is not a link
    assert "href=" not in page.split('id="stories"')[1].split("</section>")[0]


# --- writing the file --------------------------------------------------------------------------


def test_the_report_goes_beside_the_store(tmp_path: Path) -> None:
    assert reports_dir(make_settings(tmp_path)) == tmp_path / "reports"
    lake = load_settings(None, db=f"ducklake:sqlite:{tmp_path / 'cat.sqlite'}",
                         lake_data_path=tmp_path / "lake" / "data")  # fmt: skip
    assert reports_dir(lake) == tmp_path / "lake" / "reports"


def test_a_failed_write_leaves_the_last_report_whole(
    demo_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _, _ = demo_run
    target = tmp_path / "r.html"
    first = write_report(settings, END, 7, target)
    assert first.path == target and target.stat().st_size == first.size > 500_000
    written = target.read_bytes()

    def broken(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("pipeline.daily.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report(settings, END, 3, target)
    assert target.read_bytes() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temporary left


def test_the_report_command(demo_run: Any, tmp_path: Path, capsys: Any) -> None:
    settings, _, _ = demo_run
    db = str(settings.db_path)
    out = tmp_path / "week.html"
    assert cli.main(["report", "--db", db, "--days", "3", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "report for the 3 day(s) ending 2025-11-08" in printed and str(out) in printed
    page = out.read_text(encoding="utf-8")
    assert "News events, 6 Nov – 8 Nov 2025" in page
    # by default, beside the database, named after its day
    assert cli.main(["report", "--db", db, "--date", "2025-11-04"]) == 0
    assert (settings.db_path.parent / "reports" / "news-2025-11-04.html").is_file()
    assert cli.main(["report", "--db", db, "--date", "4 Nov"]) == 2
    assert "--date '4 Nov': expected YYYY-MM-DD" in capsys.readouterr().err
    assert cli.main(["report", "--db", db, "--days", "0"]) == 2


def test_the_cached_vega_bundle_gives_the_same_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundle is built once and kept in a file, named after the vl-convert and
    Vega-Lite versions; a later process reads it instead of building it, and the page is
    the same byte for byte."""
    import vl_convert

    data = hostile_report()
    built = render_report(data)
    cache = tmp_path / "cache"
    assert render_report(data, bundle_dir=cache) == built
    (file,) = cache.iterdir()
    assert file.name == report.bundle_name()
    assert f"vlc{importlib.metadata.version('vl-convert-python')}-vl" in file.name
    assert file.read_text(encoding="utf-8") == report.vega_bundle()

    def no_build(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the bundle was built again")

    report.vega_bundle.cache_clear()  # as in a new process
    monkeypatch.setattr(vl_convert, "javascript_bundle", no_build)
    try:
        assert render_report(data, bundle_dir=cache) == built
    finally:
        report.vega_bundle.cache_clear()
    assert [p.name for p in cache.iterdir()] == [file.name]  # no temporary file left


def test_write_report_keeps_the_bundle_in_the_users_cache_or_the_store_work_dir(
    demo_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the user's cache, shared by every store (a new store's first report does not
    build it again); where that cannot be written, in the store's work directory."""
    settings, _, _ = demo_run
    work = open_store(settings).work_dir / "cache"
    shutil.rmtree(work, ignore_errors=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write_report(settings, END, 1, tmp_path / "r.html")
    assert (tmp_path / "xdg" / "newsevents" / report.bundle_name()).is_file()
    assert not work.exists()

    (tmp_path / "blocked").write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    write_report(settings, END, 1, tmp_path / "r.html")
    assert (work / report.bundle_name()).is_file()
