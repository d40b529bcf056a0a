"""The ingest and enrich stages run apart (as the Airflow DAGs run them) give the same
rows as a single pass, load nothing twice, and can re-run from stored raw pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline import cli
from pipeline.demo import CorpusServer, stored_pages
from pipeline.run import enrich_waiting_to_spool, ingest_feeds_to_spool, load_spools, run_pass
from pipeline.store import open_store, pending_spools
from tests.conftest import make_settings, row_counts

PAGES = stored_pages()  # article pages a pass over the demo corpus stores

TABLES = ("articles", "entities", "places", "events", "raw_pages")
# What differs between two passes over the same pages: when, and by which run.
VOLATILE = {"run_id", "fetched_at", "first_seen_at", "enriched_at"}
# Which article founds a story, and which earlier one a copy was matched with, depend on
# which load each came in (stories are assigned load by load): passes that load the same
# pages in other batches are compared on the stories' members instead (_story_groups).
BY_LOAD = {"story_id", "story_matched", "story_similarity"}


class _Killed(Exception):
    """A pass stopped from inside (not KeyboardInterrupt, which asyncio's loop treats
    specially and may turn into "Event loop stopped before Future completed")."""


def _story_groups(db: Path) -> set[frozenset[str]]:
    """The stories as sets of their articles."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select list(article_id) from articles where story_id is not null group by story_id"
        ).fetchall()
    finally:
        con.close()
    return {frozenset(ids) for (ids,) in rows}


def _whole_rows(db: Path, loads_differ: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a pass writes, but for the columns that say when and by
    which run: two ways of running the same pages must give the same values.
    `loads_differ`: nor the story columns that depend on the loads (BY_LOAD)."""
    skip = VOLATILE | (BY_LOAD if loads_differ else set())
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in TABLES:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position", [table]).fetchall() if c not in skip]  # fmt: skip
            out[table] = con.execute(
                f"select {', '.join(columns)} from {table} order by all"
            ).fetchall()
        return out
    finally:
        con.close()


def _counts(db: Path) -> dict[str, int]:
    return row_counts(db, TABLES)


def test_split_stages_match_a_single_pass(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path
) -> None:
    single = make_settings(tmp_path / "single", allow=[demo_server.hostport])
    run_pass(demo_server.feeds(), single, nlp=nlp)

    split = make_settings(tmp_path / "split", allow=[demo_server.hostport])
    feeds = demo_server.feeds()
    # One ingest per feed, as the mapped Airflow task does, then one load.
    results = [ingest_feeds_to_spool([f], split) for f in feeds]
    assert sum(r["pages"] for r in results) == PAGES
    # ingesting writes spool files, no rows
    assert _counts(split.db_path) == dict.fromkeys(TABLES, 0)
    assert load_spools([r["spool"] for r in results], split) == {
        "loaded": 3, "skipped": 0, "retries": 0}  # fmt: skip
    waiting = _counts(split.db_path)
    assert waiting["raw_pages"] == PAGES and waiting["articles"] == 0

    enriched = enrich_waiting_to_spool(split, nlp=nlp)
    assert enriched["pages"] == PAGES
    assert load_spools([enriched["spool"]], split)["loaded"] == 1
    assert _counts(split.db_path) == _counts(single.db_path)
    # Whole rows, not counts: the feed summaries reach the articles on both paths.
    assert _whole_rows(split.db_path) == _whole_rows(single.db_path)
    con = duckdb.connect(str(split.db_path), read_only=True)
    assert con.execute("select count(*) from articles where summary is null").fetchall() == [(0,)]
    con.close()

    # A retried load finds its spool gone: nothing is loaded twice.
    assert load_spools([enriched["spool"]], split) == {"loaded": 0, "skipped": 1, "retries": 0}
    # Nothing is waiting any more; a second ingest finds nothing new to fetch.
    assert enrich_waiting_to_spool(split, nlp=nlp)["pages"] == 0
    again = ingest_feeds_to_spool(feeds, split)
    assert again["pages"] == 0
    load_spools([again["spool"]], split)
    assert _whole_rows(split.db_path) == _whole_rows(single.db_path)


def test_enrich_all_recodes_stored_pages_without_fetching(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path, capsys: Any
) -> None:
    settings = make_settings(tmp_path, allow=[demo_server.hostport])
    run_pass(demo_server.feeds(), settings, nlp=nlp)
    before = _whole_rows(settings.db_path)
    with open_store(settings).writer() as con:
        fetches = con.execute("select count(*) from fetch_log").fetchall()[0][0]
        con.execute("delete from events")  # as if the coder had been changed
    assert cli.main(["enrich", "--all", "--db", str(settings.db_path)]) == 0
    assert f"queued {PAGES}" in capsys.readouterr().out
    # the same rows, summaries included (--all used to overwrite them with null)
    assert _whole_rows(settings.db_path) == before
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute("select count(*) from fetch_log").fetchall()[0][0] == fetches
    con.close()


def test_raw_archive_rebuilds_everything_without_fetching(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path, capsys: Any
) -> None:
    from pipeline.archive import read_archive
    from pipeline.run import archive_path

    first = make_settings(tmp_path / "first", allow=[demo_server.hostport])
    result = run_pass(demo_server.feeds(), first, nlp=nlp)
    warc = archive_path(first, result.run_id)
    kinds = [kind for kind, _, _ in read_archive(warc)]
    # Every successful response: robots.txt answered 404, so it is not in the archive.
    assert kinds.count("feed") == 3 and kinds.count("article") == PAGES

    # A second database, rebuilt from the archive alone: same rows, no fetch at all.
    second = make_settings(tmp_path / "second")  # no allow-list: any fetch would fail
    assert cli.main(["archive-import", "--db", str(second.db_path), str(warc)]) == 0
    assert cli.main(["enrich", "--db", str(second.db_path)]) == 0
    capsys.readouterr()
    rebuilt, original = _counts(second.db_path), _counts(first.db_path)
    assert rebuilt == original
    con = duckdb.connect(str(second.db_path), read_only=True)
    assert con.execute("select count(*) from fetch_log").fetchall() == [(0,)]
    bodies = con.execute("select url, body from articles order by url").fetchall()
    con.close()
    con = duckdb.connect(str(first.db_path), read_only=True)
    assert bodies == con.execute("select url, body from articles order by url").fetchall()
    con.close()


# --- a pass in chunks -------------------------------------------------------------------------


def _runs(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select status, finished_at is not null, articles_fetched, articles_failed, "
            "articles_extracted, articles_short, articles_tagged, entities, events, "
            "len(errors) from runs order by started_at"
        ).fetchall()
    finally:
        con.close()


def _one(db: Path, sql: str) -> Any:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def _live_pages() -> int:
    """Page records alive in this process now, wherever they are held."""
    import gc

    from pipeline.records import Page

    return sum(type(o) is Page for o in gc.get_objects())  # no isinstance: lazy proxies import


def test_a_pass_in_small_chunks_gives_the_rows_of_one_chunk_and_holds_one_chunk(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path
) -> None:
    """Chunks of 5 pages (8 chunks), loaded every 12: every article once, the same whole
    rows as a pass in one chunk, one runs row with the whole run's stats, and never more
    pages alive at once than a chunk's (plus the feeds' own responses and robots.txt)."""
    single = make_settings(tmp_path / "single", allow=[demo_server.hostport])
    one = run_pass(demo_server.feeds(), single, nlp=nlp)
    assert _one(single.db_path, "select count(*) from loads") == 1

    chunked = make_settings(tmp_path / "chunked", allow=[demo_server.hostport],
                            pass_batch_pages=5, pass_load_pages=12)  # fmt: skip
    alive: dict[str, int] = {}
    seen: list[tuple[str, int, int | None]] = []

    def watch(task: str, done: int, total: int | None) -> None:
        seen.append((task, done, total))
        if task in ("fetch articles", "tag and code"):
            alive[task] = max(alive.get(task, 0), _live_pages())

    baseline = _live_pages()
    result = run_pass(demo_server.feeds(), chunked, nlp=nlp, progress=watch)
    assert result.loaded and result.status == one.status
    assert _whole_rows(chunked.db_path, True) == _whole_rows(single.db_path, True)
    assert _story_groups(chunked.db_path) == _story_groups(single.db_path)
    assert any(len(group) == 4 for group in _story_groups(chunked.db_path))  # the copies
    assert row_counts(chunked.db_path, ("fetch_log", "feeds")) == row_counts(
        single.db_path, ("fetch_log", "feeds"))  # fmt: skip
    # One run, its whole stats once; loaded in batches of at least 12 pages, then the rest.
    assert _runs(chunked.db_path) == _runs(single.db_path)
    batches = _one(chunked.db_path, "select count(*) from loads where run_id = "
                   f"'{result.run_id}'")  # fmt: skip
    assert batches == PAGES // 15 + 1  # a load after every third chunk of 5, and the last

    # 3 feed responses and one robots.txt beside a chunk of 5: never the run's 37 pages
    assert max(alive.values()) - baseline <= 5 + 3 + 1, alive
    # Progress runs over the whole run, not per chunk: it only grows, up to all pages.
    fetched = [done for task, done, _ in seen if task == "fetch articles"]
    assert fetched == sorted(fetched) and fetched[-1] == PAGES + 1  # and the one 404
    totals = {total for task, _, total in seen if task == "fetch articles"}
    assert totals == {PAGES + 1}
    assert seen[-1] == ("tag and code", PAGES, PAGES)


def test_a_pass_cut_short_in_a_later_chunk_keeps_its_loads_and_a_rerun_completes(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path
) -> None:
    """A pass killed in its fifth chunk (here: an interrupt from its progress callback)
    keeps the two batches it loaded, its runs row says incomplete, and nothing waits in
    the spool; the next pass fetches only the rest, and the store then holds the rows of
    one clean pass, none twice."""
    single = make_settings(tmp_path / "single", allow=[demo_server.hostport])
    run_pass(demo_server.feeds(), single, nlp=nlp)

    settings = make_settings(tmp_path / "cut", allow=[demo_server.hostport],
                             pass_batch_pages=5, pass_load_pages=10)  # fmt: skip

    def killed(task: str, done: int, total: int | None) -> None:
        if task == "fetch articles" and done > 20:
            raise _Killed("killed")

    try:
        run_pass(demo_server.feeds(), settings, nlp=nlp, progress=killed)
    except _Killed:
        pass
    else:
        raise AssertionError("the pass was not interrupted")
    kept = _counts(settings.db_path)
    assert 10 <= kept["articles"] < PAGES and kept["raw_pages"] == kept["articles"]
    assert _runs(settings.db_path)[0][:2] == ("incomplete", False)
    assert row_counts(settings.db_path, ("feeds",)) == {"feeds": 0}  # validators: not yet
    assert not pending_spools(open_store(settings).spool_dir)

    again = run_pass(demo_server.feeds(), settings, nlp=nlp)
    assert again.loaded and again.stats.articles_fetched == PAGES - kept["articles"]
    assert _whole_rows(settings.db_path, True) == _whole_rows(single.db_path, True)
    assert _story_groups(settings.db_path) == _story_groups(single.db_path)
    assert [r[:2] for r in _runs(settings.db_path)] == [("incomplete", False),
                                                        (again.status, True)]  # fmt: skip


def test_enrich_in_chunks_gives_the_rows_of_one_chunk(
    demo_server: CorpusServer, nlp: Any, tmp_path: Path
) -> None:
    """The Airflow enrich task reads and tags its waiting pages a chunk at a time into one
    batch: the same rows as a single pass."""
    single = make_settings(tmp_path / "single", allow=[demo_server.hostport])
    run_pass(demo_server.feeds(), single, nlp=nlp)
    split = make_settings(tmp_path / "split", allow=[demo_server.hostport], pass_batch_pages=4)
    ingested = ingest_feeds_to_spool(demo_server.feeds(), split)
    assert ingested["pages"] == PAGES
    load_spools([ingested["spool"]], split)
    enriched = enrich_waiting_to_spool(split, nlp=nlp)
    assert enriched["pages"] == enriched["articles"] == PAGES
    assert load_spools([enriched["spool"]], split)["loaded"] == 1
    assert _whole_rows(split.db_path) == _whole_rows(single.db_path)


def test_duplicates_across_chunks_are_caught_as_in_one_chunk(
    httpserver: Any, nlp: Any, tmp_path: Path
) -> None:
    """Two stories, each under two URLs with the same body: in chunks of one page each,
    every copy is in a chunk of its own, and the same copy is marked the duplicate as in a
    pass of one chunk."""
    from pipeline.records import Feed
    from tests.test_failures import ARTICLE, PARAS, _rss

    base = httpserver.url_for("").rstrip("/")
    bodies = {"one": PARAS, "two": PARAS.replace("round", "phase")}
    items = []
    for slug, paras in bodies.items():
        for copy in ("a", "b"):
            path = f"/{copy}/{slug}.html"
            items.append((f"Story {slug} {copy}", path))
            httpserver.expect_request(path).respond_with_data(
                ARTICLE.format(title=f"Story {slug}", paras=paras), content_type="text/html"
            )
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/d.rss").respond_with_data(
        _rss(base, items), content_type="application/rss+xml"
    )
    feeds = [Feed("d", f"{base}/d.rss")]
    allow = [f"127.0.0.1:{httpserver.port}"]
    dup = "select url, duplicate_of is not null from articles order by url"
    marked = {}
    for name, size in (("one", 200), ("each", 1)):
        settings = make_settings(tmp_path / name, allow=allow, pass_batch_pages=size)
        result = run_pass(feeds, settings, nlp=nlp)
        assert result.loaded and result.stats.articles_fetched == 4
        con = duckdb.connect(str(settings.db_path), read_only=True)
        marked[name] = [(u.replace(base, ""), d) for u, d in con.execute(dup).fetchall()]
        con.close()
    assert marked["each"] == marked["one"]
    assert sum(d for _, d in marked["each"]) == 2  # one copy of each story
