"""End to end: the demo corpus over real HTTP on 127.0.0.1, into a temporary DuckDB file."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.demo import CorpusServer, stored_pages
from pipeline.run import run_pass
from pipeline.store import open_store, pending_spools
from tests.conftest import db_rows, make_settings, row_counts

PAGES = stored_pages()  # article pages a pass over the demo corpus stores


def test_demo_pass_loads_articles_entities_and_events(demo_run: Any) -> None:
    settings, result, counts = demo_run
    assert result.loaded
    assert result.status == "partial"  # the corpus carries a 404 and a consent wall on purpose
    usable = db_rows(
        settings.db_path, "select count(*) from articles where status = 'ok' and body <> ''"
    )[0][0]
    assert usable >= 33
    assert counts["entities"] >= 300
    assert counts["events"] >= 20
    assert counts["feeds"] == 3


def test_each_feed_format_contributes(demo_run: Any) -> None:
    settings, _, _ = demo_run
    rows = dict(db_rows(settings.db_path, "select feed, count(*) from articles group by feed"))
    assert set(rows) == {"meridian-world", "ledger-asia", "wire-diplomacy"}
    assert all(n >= 10 for n in rows.values())


def test_relative_atom_links_are_resolved_against_the_feed(demo_run: Any) -> None:
    settings, _, _ = demo_run
    sql = "select url from articles where feed = 'ledger-asia'"
    urls = [r[0] for r in db_rows(settings.db_path, sql)]
    assert urls and all(u.startswith("http://127.0.0.1:") and "/ledger/" in u for u in urls)


def test_failures_are_recorded_and_the_rest_loads(demo_run: Any) -> None:
    settings, result, _ = demo_run
    db = settings.db_path
    missing = db_rows(
        db,
        "select status, error_class, error from fetch_log "
        "where kind = 'article' and url like '%removed-story%'",
    )
    assert missing == [(404, "HTTPStatus", "HTTP 404 Not Found")]
    wall = db_rows(db, "select status, status_detail, body from articles where status <> 'ok'")
    assert len(wall) == 1 and wall[0][0] == "too_short" and "words" in wall[0][1]
    run = db_rows(
        db,
        "select entries_dropped, articles_failed, articles_short, errors from runs "
        "where run_id = ?",
        [result.run_id],
    )[0]
    assert run[0] == 1  # the item without a link
    assert run[1] == 1 and run[2] == 1
    assert any("removed-story" in e and "404" in e for e in run[3])


def test_feed_time_of_day_wins_and_fills_missing_page_dates(demo_run: Any) -> None:
    settings, _, _ = demo_run
    rows = db_rows(
        settings.db_path,
        "select date_source, count(*), count(*) filter (where extract('hour' from published_at) "
        "+ extract('minute' from published_at) > 0) from articles where status = 'ok' group by 1",
    )
    by_source = {r[0]: (r[1], r[2]) for r in rows}
    assert "feed" in by_source, "pages without date metadata must take the feed's date"
    assert "page+feed_time" in by_source
    # Every usable article carries a time of day from its feed, not midnight.
    assert all(total == with_time for total, with_time in by_source.values())


def test_seed_article_is_loaded_verbatim(demo_run: Any) -> None:
    settings, _, _ = demo_run
    seed = (Path(__file__).parent / "data" / "seed_article.txt").read_text(encoding="utf-8")
    body = db_rows(
        settings.db_path, "select body from articles where title like 'US and China agree%'"
    )[0][0]
    first, last = seed.splitlines()[0], seed.strip().splitlines()[-1]
    assert body.startswith(first)
    assert body.rstrip().endswith(last)


def test_data_quality_checks_pass(demo_run: Any) -> None:
    settings, _, _ = demo_run
    assert open_store(settings).run_checks() == {}


def test_same_pass_twice_gives_the_same_counts(
    demo_run: Any, demo_server: CorpusServer, nlp: Any
) -> None:
    settings, _, counts = demo_run
    again = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    assert again.loaded and again.stats.articles_fetched == 0
    # The feeds did not change: conditional GETs answer 304 and nothing else is fetched.
    statuses = db_rows(
        settings.db_path,
        "select status, count(*) from fetch_log where run_id = ? and kind = 'feed' group by 1",
        [again.run_id],
    )
    assert statuses == [(304, 3)]
    rates = db_rows(settings.db_path, "select not_modified_rate from feed_health")
    assert rates == [(0.5,), (0.5,), (0.5,)]  # one 200, then one 304, per feed
    assert row_counts(settings.db_path) == counts
    # Forcing a refetch re-extracts and re-tags everything: upserts, still no duplicates.
    forced = run_pass(
        demo_server.feeds(), dataclasses.replace(settings, refetch=True), nlp=nlp, trigger="test"
    )
    assert forced.loaded and forced.stats.articles_fetched >= PAGES
    assert row_counts(settings.db_path) == counts
    runs = db_rows(settings.db_path, "select count(*) from runs")[0][0]
    assert runs == 3


def test_an_analyst_holding_the_database_never_blocks_a_pass(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path
) -> None:
    """An analyst opens data/news.duckdb as the README says (read-only) and keeps it open
    for the whole pass: the pass loads at once (no lock wait allowed), the analyst sees no
    error, and the rows are those of a clean run. (test_store holds a careless read-write
    session too.)"""
    from tests.test_lake import query_loop, stop_query_loop
    from tests.test_store import _hold

    settings = make_settings(tmp_path, allow=[demo_server.hostport], lock_timeout_s=0.0)
    open_store(settings).prepare()
    analysts = [_hold(settings.db_path, read_only=True)]
    queries = query_loop({"NEWS_DB": str(settings.db_path)})  # and `newsevents query`
    try:
        result = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
        for analyst in analysts:  # still connected, still answering
            assert analyst.poll() is None
    finally:
        asked = stop_query_loop(queries)
        for analyst in analysts:
            analyst.communicate("")
            assert analyst.returncode == 0
    assert asked["codes"] == [0] and asked["n"] > 5, asked
    assert asked["seen"][0] == 0 and set(asked["seen"]) <= {0, PAGES}, asked
    assert result.loaded and result.stats.articles_fetched == PAGES
    counts = row_counts(settings.db_path)
    assert counts["articles"] == PAGES and counts["events"] == result.stats.events


def test_a_busy_writer_loses_nothing_and_never_causes_a_refetch(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another pipeline process holds the working file (a long load): a pass reads what is
    stored without that lock, fetches only what is new, says whom it waits for, and
    leaves its batch in the spool; batches waiting there count as fetched."""
    from tests.test_store import _hold

    settings = make_settings(tmp_path, allow=[demo_server.hostport], lock_timeout_s=0.3)
    st = open_store(settings)
    st.prepare()
    other = _hold(st.writer_path)  # type: ignore[attr-defined]
    try:
        first = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
        second = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    finally:
        other.communicate("")
    for blocked in (first, second):
        assert not blocked.loaded and blocked.spool_path is not None
        assert "another pass or task is loading" in (blocked.message or "")
    assert first.stats.articles_fetched == PAGES
    assert second.stats.articles_fetched == 0  # the first batch's pages are not refetched
    assert "waiting up to 0.3 s for the lock on" in caplog.text and "PID" in caplog.text
    assert row_counts(settings.db_path)["articles"] == 0
    # The next pass loads the waiting batches first, then finds nothing new to fetch.
    after = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    assert after.loaded
    assert after.earlier_loaded == [Path(first.spool_path or "").name,
                                    Path(second.spool_path or "").name]  # fmt: skip
    assert after.stats.articles_fetched == 0
    counts = row_counts(settings.db_path)
    assert counts["articles"] == PAGES and counts["events"] == first.stats.events
    assert not pending_spools(st.spool_dir)


def test_a_busy_writer_leaves_every_chunk_of_a_pass_in_the_spool(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path
) -> None:
    """A pass in chunks of 5 pages, loading every 10, while another process holds the
    working file: every batch of the run waits in the spool, in order; the next pass loads
    them all, and the run has one runs row with its whole stats."""
    from tests.test_store import _hold

    settings = make_settings(tmp_path, allow=[demo_server.hostport], lock_timeout_s=0.3,
                             pass_batch_pages=5, pass_load_pages=10)  # fmt: skip
    st = open_store(settings)
    st.prepare()
    other = _hold(st.writer_path)  # type: ignore[attr-defined]
    try:
        first = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    finally:
        other.communicate("")
    assert not first.loaded and first.stats.articles_fetched == PAGES
    waiting = [p.name for p in pending_spools(st.spool_dir)]
    assert len(waiting) >= 4 and waiting == sorted(waiting)
    assert all(name.startswith(first.run_id + ".") for name in waiting)
    assert f"{len(waiting)} batch(es)" in (first.message or "")
    assert row_counts(settings.db_path)["articles"] == 0

    after = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    assert after.loaded and after.earlier_loaded == waiting
    assert after.stats.articles_fetched == 0
    counts = row_counts(settings.db_path)
    assert counts["articles"] == PAGES and counts["events"] == first.stats.events
    runs = db_rows(settings.db_path, "select run_id, status, articles_fetched from runs "
                   "order by started_at")  # fmt: skip
    assert runs == [(first.run_id, first.status, PAGES), (after.run_id, after.status, 0)]
    assert not pending_spools(st.spool_dir)


def test_demo_events_are_fully_filled(demo_run: Any) -> None:
    settings, _, _ = demo_run
    gaps = db_rows(
        settings.db_path,
        "select count(*) filter (where event_date is null), "
        "count(*) filter (where root_name = '' or cameo_code = '' or coder_version = ''), "
        "count(*) filter (where location_country is not null and latitude is null), "
        "count(*) filter (where source_country <> '' and not starts_with(source_actor, "
        "source_country) and source_actor not like 'IGO%' and source_actor not like 'NGO%'), "
        "count(*) filter (where date_source = 'text'), "
        "count(*) filter (where location is not null), "
        "count(*) filter (where target_actor <> ''), count(*) from events",
    )[0]
    no_date, no_code, no_coords, bad_country, dated, placed, targeted, total = gaps
    assert (no_date, no_code, no_coords, bad_country) == (0, 0, 0, 0)
    assert total >= 20 and dated > 0 and placed > 0 and targeted > total / 2


def test_demo_places_are_resolved_and_events_located(demo_run: Any) -> None:
    settings, _, counts = demo_run
    assert counts["places"] > 100
    resolved, unresolved_without_reason, bad_offsets, total = db_rows(
        settings.db_path,
        "select count(*) filter (where p.geonames_id is not null or p.name is not null), "
        "count(*) filter (where p.name is null and p.reason is null), "
        "count(*) filter (where substr(a.body, p.start_char + 1, p.end_char - p.start_char) "
        "<> p.text), count(*) "
        "from places p join articles a using (article_id)",
    )[0]
    assert unresolved_without_reason == 0 and bad_offsets == 0
    assert resolved > 0.8 * total
    located, precise, linked, events = db_rows(
        settings.db_path,
        "select count(*) filter (where e.latitude is not null), "
        "count(*) filter (where e.location_precision in ('city', 'admin1', 'admin2')), "
        "count(*) filter (where p.place_idx is not null and p.name = e.location), count(*) "
        "from events e left join places p "
        "on p.article_id = e.article_id and p.place_idx = e.location_place_idx",
    )[0]
    assert located > 0.9 * events and precise > 0.5 * events and linked == located


def test_daily_summary_is_there_for_cli_users_and_matches_the_events(demo_run: Any) -> None:
    settings, _, _ = demo_run
    (summed, factual, articles, usable) = db_rows(
        settings.db_path,
        "select (select sum(events) from daily_summary), "
        "(select count(*) from factual_events where coalesce(event_date, "
        "cast(published_at as date)) is not null), "
        "(select sum(articles) from daily_summary), "
        "(select count(*) from articles where status = 'ok' and duplicate_of is null "
        "and published_at is not null)",
    )[0]
    assert summed == factual > 0 and articles == usable > 0


def test_the_readme_duckdb_shell_command_works(demo_run: Any) -> None:
    """README: `duckdb -readonly data/news.duckdb`. The shell is installed into .venv, the
    same version as the library."""
    settings, _, counts = demo_run
    shell = Path(sys.executable).parent / "duckdb"
    assert shell.is_file(), "duckdb-cli is not installed in the venv (requirements.txt)"
    out = subprocess.run(
        [str(shell), "-readonly", str(settings.db_path), "-csv", "-c",
         "select count(*) from articles; select version()"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    assert str(counts["articles"]) in out and f"v{duckdb.__version__}" in out
