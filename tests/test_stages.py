"""The ingest and enrich stages run apart (as the Airflow DAGs run them) give the same
rows as a single pass, load nothing twice, and can re-run from stored raw pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline import cli
from pipeline.demo import CorpusServer, stored_pages
from pipeline.run import enrich_waiting_to_spool, ingest_feeds_to_spool, load_spools, run_pass
from pipeline.store import open_store
from tests.conftest import make_settings, row_counts

PAGES = stored_pages()  # article pages a pass over the demo corpus stores

TABLES = ("articles", "entities", "places", "events", "raw_pages")
# What differs between two passes over the same pages: when, and by which run.
VOLATILE = {"run_id", "fetched_at", "first_seen_at", "enriched_at"}


def _whole_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a pass writes, but for the columns that say when and by
    which run: two ways of running the same pages must give the same values."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in TABLES:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = ? "
                "order by ordinal_position", [table]).fetchall() if c not in VOLATILE]  # fmt: skip
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
