"""Full-text search: BM25 over usable articles, kept current by every load, on every
backend; the CLI's formats; and plain SQL on the published file, as the README says."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import cli
from pipeline.store import FileStore, LakeStore, SearchIndexMissing, Store
from pipeline.store import search as search_mod
from tests.test_store import _batch

RARE = "China restricted exports of rare earths on Monday. Talks on tariffs followed in Geneva."
WALL = "Accept cookies to keep reading about rare earths and other critical minerals here."


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _articles_batch(run_id: str, bodies: dict[str, str], **changes: Any) -> Any:
    batch = _batch(run_id, list(bodies), [])
    for row in batch.articles:
        row["body"] = bodies[row["article_id"]]
        row["content_hash"] = hashlib.sha1(row["body"].encode()).hexdigest()[:16]
        row.update(changes.get(row["article_id"], {}))
    return batch


def _ids(st: Store, query: str, **kw: Any) -> list[str]:
    """The hits' article ids, every matching article (these tests' articles are near-copies
    of one text, which search otherwise shows as one story)."""
    return [h.article_id for h in st.search(query, every=True, **kw).hits]


def test_the_index_follows_every_load_on_every_backend(any_store: Store) -> None:
    """Only usable articles are found; an article loaded later is found after its load;
    a changed body is found by its new words and no longer by its old ones; a load that
    brings no article (an ingest's raw pages) leaves the index as it was."""
    st = any_store
    st.load(_articles_batch("r1", {"a1": RARE, "a2": WALL, "a3": "Ministers met in Paris."},
                            a2={"status": "too_short"}))  # fmt: skip
    result = st.search("rare earth")
    assert [h.article_id for h in result.hits] == ["a1"]  # the consent wall is not indexed
    assert result.indexed == 2 and not result.stale
    assert result.terms == ["earth", "rare"]
    assert result.hits[0].snippet == "China restricted exports of rare earths on Monday."
    built = result.built_at

    st.load(_articles_batch("r2", {"b1": "Rare earth magnets are scarce in Europe."}))
    assert set(_ids(st, "rare earth")) == {"a1", "b1"}

    st.load(_articles_batch("r3", {"a1": "Wheat harvests fell across the plains."}))
    assert _ids(st, "rare earth") == ["b1"] and _ids(st, "wheat") == ["a1"]
    built_after_change = st.search("wheat").built_at

    st.load(_batch("r4", [], []))  # no articles: nothing to index
    assert st.search("wheat").built_at == built_after_change != built


def test_a_load_of_many_batches_updates_the_index_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight feeds' batches (an Airflow load task, load-spool) update it once, at the end,
    and the file's published copy carries the updated index."""
    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.5)
    st.prepare()
    builds: list[int] = []
    real = search_mod.refresh

    def counting(con: Any, **kw: Any) -> Any:
        builds.append(1)
        return real(con, **kw)

    monkeypatch.setattr(search_mod, "refresh", counting)
    paths = [st.spool(_articles_batch(f"run-{i}", {f"a{i}": f"{RARE} Number {i}."}))
             for i in range(3)]  # fmt: skip
    assert st.load_spools(paths).loaded == ["run-0", "run-1", "run-2"]
    assert len(builds) == 1
    assert sorted(_ids(st, "rare earth")) == ["a0", "a1", "a2"]
    con = duckdb.connect(str(st.path), read_only=True)  # the analysts' copy
    try:
        assert con.execute("select count(*) from search.article_text").fetchall()[0][0] == 3
    finally:
        con.close()


def _index_contents(st: Store) -> dict[str, Any]:
    """What BM25 reads from the index, without fts's internal numbering."""
    f = "fts_search_article_text"
    with st._search_reader() as con:
        search_mod.load_fts(con)

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return sorted(con.execute(sql).fetchall())

        return {
            "stats": rows(f"select num_docs, round(avgdl, 9) from {f}.stats"),
            "dict": rows(f"select term, df from {f}.dict"),
            "docs": rows(f"select name, len from {f}.docs"),
            "terms": rows(f"select d.name, t.fieldid, w.term, count(*) from {f}.terms t "
                          f"join {f}.docs d using (docid) join {f}.dict w using (termid) "
                          "group by all"),
            "text": rows(f"select * from {search_mod.TABLE}"),
        }  # fmt: skip


@pytest.mark.parametrize("kind", ["file", "lake"])
def test_a_load_updates_the_index_in_place_and_scores_equal_a_full_build(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first build, a load indexes only what it changed (added, rewritten, no
    longer usable), and the index then holds what a build from scratch would: the same
    terms, lengths, document frequencies and statistics, so the same BM25 scores."""
    from tests.conftest import make_store

    calls: list[str] = []
    for name in ("build", "update"):
        real = getattr(search_mod, name)
        monkeypatch.setattr(search_mod, name, lambda con, _r=real, _n=name, **kw: (
            calls.append(_n), _r(con, **kw))[1])  # fmt: skip
    st = make_store(tmp_path, kind)
    bodies = {f"a{i}": f"{RARE} Item {i} of the rare earth series, on magnets." for i in range(6)}
    st.load(_articles_batch("r1", bodies))
    st.load(_articles_batch("r2", {
        "a1": "Wheat harvests fell across the plains; rare frosts.",   # rewritten
        "a2": WALL,                                                     # now a consent wall
        "b1": "Rare earth magnets are scarce in Europe, ministers said.",  # new
        "b2": "Ministers met in Paris to discuss critical minerals.",      # new
    }, a2={"status": "too_short"}, b2={"title": "Minerals talks"}))  # fmt: skip
    assert calls == ["build", "update"]  # the second load indexed only its own articles
    queries = ["rare earth", "wheat frosts", "ministers minerals", "magnets europe"]
    updated = _index_contents(st)
    scores = {q: [(h.article_id, round(h.score, 9)) for h in st.search(q, limit=20).hits]
              for q in queries}  # fmt: skip
    assert ("a2", "") not in {(r[0], "") for r in updated["docs"]}
    assert len(updated["docs"]) == 7 and st.search("wheat").hits[0].article_id == "a1"
    st.refresh_search_index(force=True)  # a build from scratch of the same rows
    assert _index_contents(st) == updated
    assert {q: [(h.article_id, round(h.score, 9)) for h in st.search(q, limit=20).hits]
            for q in queries} == scores  # fmt: skip


def test_an_update_of_real_text_equals_a_full_build(tmp_path: Path) -> None:
    """The same, over text with punctuation, numbers, quotes and accents: the 246 bodies
    of the story pair set, half of them loaded first, then the other half and rewrites of
    ten of the first (the update stems each distinct word once, fts's build every word)."""
    from tests.conftest import make_store

    pairs = [json.loads(line) for line in (Path(__file__).parent / "data" /
             "story_pairs.jsonl").read_text(encoding="utf-8").splitlines() if line]  # fmt: skip
    bodies = {f"{p['pair_id']}{side}": p[side]["body"] for p in pairs for side in ("a", "b")}
    ids = sorted(bodies)
    first, second = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    st = make_store(tmp_path, "file")
    st.load(_articles_batch("r1", {a: bodies[a] for a in first}))
    rewritten = {a: bodies[a] + " Édition révisée: 3 new words." for a in first[:10]}
    st.load(_articles_batch("r2", {**{a: bodies[a] for a in second}, **rewritten}))
    updated = _index_contents(st)
    assert len(updated["docs"]) == len(ids)
    scores = [(h.article_id, round(h.score, 9)) for h in st.search("copper mines", limit=50).hits]
    st.refresh_search_index(force=True)
    assert _index_contents(st) == updated
    assert [(h.article_id, round(h.score, 9))
            for h in st.search("copper mines", limit=50).hits] == scores  # fmt: skip


def test_since_feed_and_limit_filter_the_hits(tmp_path: Path) -> None:
    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.5)
    old = datetime(2025, 10, 1, 8, tzinfo=UTC)
    st.load(_articles_batch(
        "r1", {"a1": RARE, "a2": f"{RARE} Again.", "a3": f"{RARE} And rare earth again."},
        a1={"published_at": old}, a2={"feed": "other"},
    ))  # fmt: skip
    assert _ids(st, "rare earth")[0] == "a3"  # the most mentions ranks first
    assert set(_ids(st, "rare earth", since=date(2025, 11, 1))) == {"a2", "a3"}
    assert _ids(st, "rare earth", feed="other") == ["a2"]
    assert len(_ids(st, "rare earth", limit=2)) == 2
    assert st.search("the and of").hits == []  # only stop words: nothing to look for


def test_a_store_without_an_index_says_how_to_build_one(tmp_path: Path, capsys: Any) -> None:
    st = FileStore(tmp_path / "n.duckdb", lock_timeout_s=0.5)
    st.prepare()  # created, never loaded
    with pytest.raises(SearchIndexMissing, match="newsevents reindex"):
        st.search("rare earth")
    code, _, err = _run(capsys, "search", "--db", str(st.path), "rare", "earth")
    assert code == 2 and "no search index yet" in err
    code, out, _ = _run(capsys, "reindex", "--db", str(st.path))
    assert code == 0 and "0 usable article(s)" in out
    code, out, _ = _run(capsys, "search", "--db", str(st.path), "rare", "earth")
    assert code == 0 and "(0 hits" in out


def test_a_lake_index_behind_the_store_is_flagged_and_reindex_catches_up(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On DuckLake the index is a file of its own: if a write reached the lake without a
    index update (a crash between the two), search says the index is stale, and `newsevents
    reindex` (or the next load) catches up."""
    from tests.conftest import make_store

    st = make_store(tmp_path, "lake")
    assert isinstance(st, LakeStore)
    st.load(_articles_batch("r1", {"a1": RARE}))
    assert st.search_index_path.is_file() and not st.search("rare").stale
    with st.writer() as con:  # a write that no load_spools followed
        con.execute("update articles set title = 'Rare earth magnets', content_hash = 'new'")
    monkeypatch.setenv("NEWS_LAKE_DATA_PATH", str(st.data_path))
    code, out, err = _run(capsys, "search", "--db", st.target, "magnets")
    assert code == 0 and "index is older than the store" in err
    assert "(0 hits" in out  # the title's new word is not in the index yet
    code, out, _ = _run(capsys, "reindex", "--db", st.target)
    assert code == 0 and "1 usable article(s)" in out
    code, out, err = _run(capsys, "search", "--db", st.target, "magnets")
    assert code == 0 and err == "" and "1. Rare earth magnets" in out


def test_fts_cannot_keep_its_index_in_a_ducklake_catalog(tmp_path: Path) -> None:
    """Why the lake's index is a file of its own: create_fts_index inside a DuckLake
    catalog fails at commit (DuckDB 1.5.5, DuckLake 1.5.5). If this starts to pass, the
    index can move into the lake."""
    from pipeline.store.ducklake import load_extension

    con = duckdb.connect()
    for name in ("ducklake", "sqlite", "fts"):
        load_extension(con, name)
    con.execute(f"attach 'ducklake:sqlite:{tmp_path / 'm.sqlite'}' as lake "
                f"(data_path '{tmp_path / 'data'}/')")  # fmt: skip
    con.execute("use lake")
    con.execute("create table docs (id varchar, body varchar)")
    con.execute("insert into docs values ('d1', 'rare earth exports')")
    with pytest.raises(duckdb.Error, match="Failed to commit DuckLake transaction"):
        con.execute("pragma create_fts_index('docs', 'id', 'body')")


# --- on the demo store -------------------------------------------------------------------


def test_search_the_demo_store_in_every_format(demo_run: Any, capsys: Any) -> None:
    """The demo's article on rare earths ranks first for "rare earth", with the sentence
    that says so and its events; csv and json carry the same hits."""
    db = str(demo_run[0].db_path)
    code, out, err = _run(capsys, "search", "--db", db, "rare earth")
    assert code == 0 and err == ""
    first = out.split("\n2. ")[0]
    assert first.startswith("1. Japan and Australia sign agreement on critical minerals")
    assert "rare earths" in first.splitlines()[2]  # the snippet
    assert "057 Engage in diplomatic cooperation: Japan (JPN) -> Australia (AUS)" in first
    assert out.rstrip().endswith("usable articles)") and "terms: earth, rare" in out

    code, out, _ = _run(capsys, "search", "--db", db, "rare earth", "--format", "json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["title"].startswith("Japan and Australia")
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert all(h["score"] > 0 for h in hits) and hits[0]["score"] >= hits[-1]["score"]
    top = hits[0]
    assert 0 < len(top["events"]) <= 3 and top["n_events"] >= len(top["events"])
    for e in top["events"]:
        assert set(e) >= {"cameo_code", "source_actor", "target_actor", "sentence"}
    # events whose sentence carries the search terms come first
    assert top["events"][0]["matched"] >= top["events"][-1]["matched"] > 0

    code, out, _ = _run(capsys, "search", "--db", db, "rare earth", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "rank,score,published_at,feed,title,url,snippet,n_events,top_events,copies"
    assert len(lines) == len(hits) + 1 and top["url"] in lines[1]


def test_every_hit_is_a_usable_article_and_the_events_are_its_own(demo_run: Any) -> None:
    settings = demo_run[0]
    st = FileStore(settings.db_path, lock_timeout_s=0.5)
    result = st.search("sanctions drones ceasefire talks", limit=50, events_per_hit=100)
    assert len(result.hits) >= 5
    usable = {r[0] for r in st.query("select article_id from articles where status = 'ok'")[1]}
    assert {h.article_id for h in result.hits} <= usable
    for hit in result.hits:
        factual = st.query("select count(*) from factual_events where article_id = ?",
                           [hit.events_of])[1][0][0]  # fmt: skip
        assert hit.n_events == factual == len(hit.events)


def test_a_story_reprinted_by_other_outlets_is_one_hit(demo_run: Any, capsys: Any) -> None:
    """The demo's Lithuania story is carried by four articles on three outlets (one
    story): a search shows it once, the best of them, and counts the other three."""
    st = FileStore(demo_run[0].db_path, lock_timeout_s=0.5)
    hits = st.search("Belarusian diplomats balloons Vilnius", limit=20).hits
    stories = [st.query("select coalesce(story_id, article_id) from articles "
                        "where article_id = ?", [h.article_id])[1][0][0] for h in hits]  # fmt: skip
    assert len(stories) == len(set(stories))  # never two hits of one story
    top = hits[0]
    assert "Belarusian diplomats" in top.title and top.copies == 3
    db = str(demo_run[0].db_path)
    code, out, _ = _run(capsys, "search", "--db", db, "balloons Vilnius")
    assert code == 0 and "(and 3 other article(s) of the same story)" in out.split("\n2. ")[0]
    every = st.search("Belarusian diplomats balloons Vilnius", limit=20, every=True).hits
    assert {h.article_id for h in hits} < {h.article_id for h in every}
    assert sum(h.title == top.title for h in every) >= 1 and all(h.copies == 0 for h in every)


def test_analysts_call_match_bm25_in_plain_sql_on_the_published_file(
    demo_run: Any, capsys: Any
) -> None:
    """README: fts_search_article_text.match_bm25(article_id, 'rare earth') in the duckdb
    shell, read-only on data/news.duckdb, and through `newsevents query`."""
    db = demo_run[0].db_path
    sql = ("select title from (select title, fts_search_article_text.match_bm25(article_id, "
           "'rare earth') as score from articles) where score is not null "
           "order by score desc limit 1")  # fmt: skip
    shell = Path(sys.executable).parent / "duckdb"
    out = subprocess.run([str(shell), "-readonly", str(db), "-csv", "-c", sql],
                         capture_output=True, text=True, check=True, timeout=60).stdout  # fmt: skip
    assert "Japan and Australia sign agreement" in out
    code, out, _ = _run(capsys, "query", "--db", str(db), "--format", "csv", sql)
    assert code == 0 and "Japan and Australia sign agreement" in out
