"""Saved queries: the header convention, parameter binding, `newsevents queries`, and one
test per query on a real store built from the demo corpus."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli, queries
from pipeline.config import Settings
from pipeline.demo import CorpusServer
from pipeline.run import run_pass
from pipeline.store import FileStore, LakeStore, Store, open_store
from tests.conftest import copy_demo_store, make_settings

HERE = Path(__file__)
LAKE_ONLY = {"events_as_of", "lake_snapshots"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _saved(st: Store, name: str, **params: Any) -> list[dict[str, Any]]:
    """A saved query's rows, run as `newsevents query NAME --param ...` runs it: the
    header's defaults for what is not given."""
    q = queries.find(name)
    assert q is not None, name
    columns, rows = st.query(q.sql, queries.bind(q.sql, params, q.params, name) or None)
    return [dict(zip(columns, r, strict=True)) for r in rows]


def _one(st: Store, sql: str, params: Any = None) -> Any:
    return st.query(sql, params)[1][0][0]


@pytest.fixture(scope="module")
def demo(demo_run: tuple[Settings, Any, Any]) -> FileStore:
    return FileStore(demo_run[0].db_path, lock_timeout_s=0.5)


# --- the convention ----------------------------------------------------------------------


def test_every_saved_query_states_its_question_and_exactly_its_parameters() -> None:
    found = queries.saved_queries()
    assert len(found) >= 12
    for q in found:
        assert q.question.endswith("?"), f"{q.name}: a -- Question: line ending in '?'"
        declared = [p.name for p in q.params]
        assert sorted(declared) == sorted(queries.placeholders(q.sql)), (
            f"{q.name}: -- Params: declares {declared}, the SQL uses {queries.placeholders(q.sql)}"
        )
        assert q.backend in ("", "ducklake"), q.name
        for p in q.params:
            assert p.description, f"{q.name}: say what {p.name} is"


def test_every_saved_query_has_a_test_on_the_demo_store() -> None:
    text = HERE.read_text(encoding="utf-8")
    tested = set(re.findall(r'_saved\(\w+, "(\w+)"', text))
    assert {q.name for q in queries.saved_queries()} - tested == set()


def test_the_header_parser_reads_defaults_nulls_and_required_params() -> None:
    params = queries.parse_params(
        "a (ISO3 code, default CHN), since (date, default null: the last week), "
        "n (how many, default 20), story_id (a story_id, e.g. from top_stories)", "x.sql"
    )  # fmt: skip
    assert [(p.name, p.default, p.required) for p in params] == [
        ("a", "CHN", False), ("since", None, False), ("n", 20, False), ("story_id", None, True)
    ]  # fmt: skip
    assert queries.parse_params("none", "x.sql") == ()
    with pytest.raises(queries.QueryError, match="cannot read parameter"):
        queries.parse_params("a b (what)", "x.sql")


def test_placeholders_skip_comments_and_string_literals() -> None:
    sql = "-- $not_me\nselect '$nor_me', $$ $nor_this $$, $a, $b_2 from t where x = $a"
    assert queries.placeholders(sql) == ["a", "b_2"]


def test_newsevents_queries_lists_every_query_with_its_question(capsys: Any) -> None:
    code, out, _ = _run(capsys, "queries")
    assert code == 0
    for q in queries.saved_queries():
        assert f"\n{q.name}" in f"\n{out}" and q.question in out
    assert "events_as_of  (DuckLake only)" in out
    assert "a (ISO3 country code, default USA)" in out


def test_query_by_name_takes_defaults_and_refuses_bad_params(demo: FileStore, capsys: Any) -> None:
    db = ["--db", str(demo.path)]
    code, by_name, _ = _run(capsys, "query", *db, "dyad_by_week", "--format", "csv")
    code2, by_file, _ = _run(capsys, "query", *db, "-f", "sql/queries/dyad_by_week.sql",
                             "--format", "csv", "--param", "a=USA", "--param", "b=CHN")  # fmt: skip
    assert code == code2 == 0 and by_name == by_file and len(by_name.splitlines()) > 1
    code, _, err = _run(capsys, "query", *db, "dyad_by_week", "--param", "country=CHN")
    assert code == 2 and "unknown parameter country" in err and "a (ISO3 country code" in err
    code, _, err = _run(capsys, "query", *db, "story_events")
    assert code == 2 and "missing --param story_id=VALUE" in err
    code, _, err = _run(capsys, "query", *db, "select $n + 1 as m", "--param", "n")
    assert code == 2 and "expected NAME=VALUE" in err


def test_a_parameter_is_bound_as_a_value_never_pasted_into_the_sql(
    demo: FileStore, capsys: Any
) -> None:
    db = ["--db", str(demo.path), "--format", "csv"]
    code, out, _ = _run(capsys, "query", *db, "actor_timeline", "--param",
                        "actor=CHN' or true or '")  # fmt: skip
    assert code == 0 and out.splitlines()[1:] == []  # no actor code starts with that text
    code, out, _ = _run(capsys, "query", *db, "select $x as x", "--param", "x=1; drop table t")
    assert code == 0 and out.splitlines() == ["x", "1; drop table t"]


# --- each query on the demo store --------------------------------------------------------


def test_event_audit(demo: FileStore) -> None:
    rows = _saved(demo, "event_audit")
    assert len(rows) == _one(demo, "select count(*) from events") > 20
    assert all(r["sentence"] and r["url"].startswith("http://127.0.0.1:") for r in rows)


def test_events_by_place(demo: FileStore) -> None:
    rows = _saved(demo, "events_by_place")
    located = _one(demo, "select count(*) from factual_events where latitude is not null")
    assert sum(r["events"] for r in rows) == located > 0
    assert [r["events"] for r in rows] == sorted((r["events"] for r in rows), reverse=True)
    assert all(0 <= r["material_conflict_share"] <= 1 for r in rows)


def test_events_by_root(demo: FileStore) -> None:
    rows = _saved(demo, "events_by_root")
    assert sum(r["events"] for r in rows) == _one(demo, "select count(*) from factual_events")
    codes = [r["root_code"] for r in rows]
    assert codes == sorted(set(codes)) and "04" in codes


def test_recent_articles(demo: FileStore) -> None:
    rows = _saved(demo, "recent_articles")
    assert 0 < len(rows) <= 30
    dates = [r["published_at"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert rows[0]["published_at"] == _one(demo, "select max(published_at) from articles")


def test_top_actor_pairs(demo: FileStore) -> None:
    rows = _saved(demo, "top_actor_pairs")
    assert 0 < len(rows) <= 20
    assert all(r["source_country"] != r["target_country"] for r in rows)
    assert [r["events"] for r in rows] == sorted((r["events"] for r in rows), reverse=True)


def test_unresolved_places(demo: FileStore) -> None:
    rows = _saved(demo, "unresolved_places")
    unresolved = _one(demo, "select count(*) from places where name is null")
    assert sum(r["mentions"] for r in rows) == unresolved
    assert all(r["reason"] for r in rows)


def test_dyad_by_week(demo: FileStore) -> None:
    rows = _saved(demo, "dyad_by_week")  # USA and CHN
    between = _one(
        demo,
        "select count(*) from factual_events where "
        "(source_country, target_country) in (('USA', 'CHN'), ('CHN', 'USA'))",
    )
    assert sum(r["events"] for r in rows) == between > 0
    for r in rows:
        assert r["week"].weekday() == 0  # a Monday
        assert r["a_to_b"] + r["b_to_a"] == r["events"]
        quads = ("verbal_cooperation", "material_cooperation", "verbal_conflict",
                 "material_conflict")  # fmt: skip
        assert sum(r[q] for q in quads) == r["events"]
    later = _saved(demo, "dyad_by_week", a="CHN", b="USA", since="2025-11-03")
    assert later and all(r["week"] >= date(2025, 11, 3) for r in later)
    assert sum(r["a_to_b"] for r in later) == sum(r["b_to_a"] for r in rows
                                                   if r["week"] >= date(2025, 11, 3))  # fmt: skip


def test_meetings(demo: FileStore) -> None:
    rows = _saved(demo, "meetings")  # the 7 days up to the latest article
    latest = _one(demo, "select cast(max(published_at) as date) from articles")
    assert rows and all(latest - timedelta(days=6) <= r["day"] for r in rows)
    assert all(r["cameo_code"].startswith("04") and r["target_name"] for r in rows)
    every = _saved(demo, "meetings", since="2000-01-01")
    distinct = _one(demo, "select count(*) from (select distinct coalesce(event_date, "
                          "cast(published_at as date)), source_actor, target_actor, cameo_code "
                          "from factual_events where root_code = '04' "
                          "and coalesce(target_name, '') <> '')")  # fmt: skip
    assert len(every) == distinct > len(rows)


def test_new_actors(demo: FileStore) -> None:
    since = date(2025, 11, 5)
    rows = _saved(demo, "new_actors", since=since.isoformat())
    assert rows
    for r in rows:
        earlier = _one(
            demo,
            "select count(*) from factual_events where published_at < ? "
            "and ? in (source_actor, target_actor)",
            [since, r["actor"]],
        )
        assert earlier == 0 and r["first_seen"].date() >= since and r["first_sentence"]
    assert "CHN" not in {r["actor"] for r in rows}  # China is in the news from the start
    assert len(_saved(demo, "new_actors")) > len(rows)  # the default: 30 days, all the demo


def test_actor_timeline(demo: FileStore) -> None:
    rows = _saved(demo, "actor_timeline")  # CHN: every Chinese actor
    involving = _one(
        demo,
        "select count(*) from factual_events where starts_with("
        "source_actor, 'CHN') or starts_with(coalesce(target_actor, ''), 'CHN')",
    )
    assert len(rows) == involving > 0
    assert [r["day"] for r in rows] == sorted(r["day"] for r in rows)
    assert all(r["actor"].startswith("CHN") and r["sentence"] for r in rows)
    assert {r["role"] for r in rows} == {"source", "target"}
    gov = _saved(demo, "actor_timeline", actor="USAGOV", since="2025-11-01")
    assert gov and all(
        r["actor"].startswith("USAGOV") and r["day"] >= date(2025, 11, 1) for r in gov
    )


def test_events_near(demo: FileStore) -> None:
    rows = _saved(demo, "events_near")  # 100 km of Kyiv
    assert rows and {r["location"] for r in rows} == {"Kyiv"}
    istanbul = _saved(demo, "events_near", lat="41.0082", lon="28.9784", km=50)
    assert istanbul and {r["location"] for r in istanbul} == {"Istanbul"}
    distances = [r["distance_km"] for r in istanbul]
    assert distances == sorted(distances) and max(distances) <= 50
    wide = _saved(demo, "events_near", lat="41.0082", lon="28.9784", km=400)  # Ankara: 350 km
    assert {"Istanbul", "Ankara"} <= {r["location"] for r in wide}


def test_failing_feeds(demo: FileStore) -> None:
    rows = {r["feed"]: r for r in _saved(demo, "failing_feeds")}
    # the demo's consent wall (Diplomatic Wire) and its 404 (Meridian), on purpose
    assert rows["wire-diplomacy"]["statuses"] == "too_short"
    assert rows["wire-diplomacy"]["unusable"] == 1
    failed = _one(
        demo,
        "select count(*) from fetch_log where kind = 'article' and "
        "feed = 'meridian-world' and error is not null",
    )  # one a pass: the 404
    assert rows["meridian-world"]["failed_fetches"] == failed >= 1
    assert "404" in rows["meridian-world"]["last_fetch_error"]
    assert "ledger-asia" not in rows  # nothing failed there
    assert _saved(demo, "failing_feeds", since="2099-01-01") == []


def test_daily_counts(demo: FileStore) -> None:
    rows = _saved(demo, "daily_counts")
    assert sum(r["mentions"] for r in rows) == _one(demo, "select count(*) from factual_events")
    assert all(0 < r["events"] <= r["mentions"] and r["sources"] <= r["articles"] for r in rows)
    keys = [(r["day"], r["quad_class"]) for r in rows]
    assert keys == sorted(set(keys))
    china = _saved(demo, "daily_counts", country="CHN", since="2025-10-01")
    involving = _one(demo, "select count(*) from factual_events where 'CHN' in "
                           "(source_country, target_country) and coalesce(event_date, "
                           "cast(published_at as date)) >= date '2025-10-01'")  # fmt: skip
    assert sum(r["mentions"] for r in china) == involving > 0


# --- stories and the rollup: their tables are filled by loads; here by hand ---------------


@pytest.fixture(scope="module")
def story_store(demo_run: Any, tmp_path_factory: pytest.TempPathFactory) -> FileStore:
    """The demo's rows plus a syndicated copy (the Meridian article with the most factual
    events, carried again by the Ledger, events and all), with two stories and an event
    rollup written in: story-a, the article and its copy; story-b, one other article."""
    st = copy_demo_store(demo_run, tmp_path_factory.mktemp("stories"))
    with st.writer() as con:
        con.execute("update articles set story_id = null")
        con.execute("delete from stories")
        con.execute("delete from event_rollup")
        original = con.execute(
            "select article_id from factual_events where feed = 'meridian-world' "
            "group by article_id order by count(*) desc, article_id limit 1"
        ).fetchall()[0][0]
        con.execute(
            "insert into articles select * replace ('copy-' || article_id as article_id, "
            "url || '?copy' as url, 'ledger-asia' as feed) from articles where article_id = ?",
            [original],
        )
        con.execute(
            "insert into events select * replace ('copy-' || article_id as article_id, "
            "'copy-' || event_id as event_id) from events where article_id = ?",
            [original],
        )
        # the rollup: one row per day, source, target and code, over factual events
        con.execute("""
            insert into event_rollup (rollup_id, event_date, source_actor, target_actor,
                cameo_code, source_name, target_name, root_name, goldstein, num_mentions,
                num_articles, num_stories, num_sources, evidence_sentence, evidence_url,
                event_ids)
            select 'r-' || row_number() over (order by day, source_actor, target_actor,
                                                       cameo_code),
                day, source_actor, target_actor,
                cameo_code, any_value(source_name), any_value(target_name),
                any_value(root_name), any_value(goldstein), count(*),
                count(distinct article_id), count(distinct article_id),
                count(distinct feed), any_value(sentence), any_value(url), list(event_id)
            from (select * replace (coalesce(target_actor, '') as target_actor),
                         coalesce(event_date, cast(published_at as date)) as day
                  from factual_events)
            group by day, source_actor, target_actor, cameo_code
        """)  # fmt: skip
        single = con.execute(
            "select min(article_id) from factual_events where feed = 'wire-diplomacy'"
        ).fetchall()[0][0]
        con.execute(
            "update articles set story_id = 'story-a' where article_id in (?, 'copy-' || ?)",
            [original, original],
        )
        con.execute("update articles set story_id = 'story-b' where article_id = ?", [single])
        con.execute("""
            insert into stories (story_id, first_article_id, title, first_published_at,
                                 n_articles, n_outlets, outlets)
            select story_id, min(article_id), any_value(title), min(published_at), count(*),
                   count(distinct feed), list(distinct feed order by feed)
            from articles where story_id is not null group by story_id
        """)  # fmt: skip
    return st


def test_top_stories(story_store: FileStore) -> None:
    rows = _saved(story_store, "top_stories")
    assert [r["story_id"] for r in rows] == ["story-a", "story-b"]
    assert rows[0]["n_outlets"] == 2 and len(rows[0]["outlets"]) == 2
    for r in rows:
        events = _one(
            story_store,
            "select count(*) from factual_events join articles "
            "using (article_id) where story_id = ?",
            [r["story_id"]],
        )
        assert r["events"] == events > 0
    assert len(_saved(story_store, "top_stories", top=1)) == 1
    assert _saved(story_store, "top_stories", since="2099-01-01") == []


def test_story_events(story_store: FileStore) -> None:
    rows = _saved(story_store, "story_events", story_id="story-a")
    in_story = _one(story_store, "select count(*) from factual_events join articles "
                                 "using (article_id) where story_id = 'story-a'")  # fmt: skip
    assert rows and sum(r["articles"] for r in rows) <= in_story
    assert {r["outlets"] for r in rows} == {2}  # the article and its copy report each
    assert {r["articles"] for r in rows} == {2}
    for r in rows:  # the whole store's outlets for that event, from the rollup
        assert r["store_sources"] is not None and r["store_sources"] >= r["outlets"]
    assert _saved(story_store, "story_events", story_id="no-such-story") == []


def test_most_reported_events(story_store: FileStore) -> None:
    rows = _saved(story_store, "most_reported_events")
    assert 0 < len(rows) <= 20
    ranks = [(r["num_sources"], r["num_stories"], r["num_mentions"]) for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    most = _one(story_store, "select max(num_sources) from event_rollup")
    assert rows[0]["num_sources"] == most >= 2 and rows[0]["evidence_sentence"]  # the copy
    later = _saved(story_store, "most_reported_events", since="2025-11-05", top=5)
    assert len(later) <= 5 and all(r["event_date"] >= date(2025, 11, 5) for r in later)


# --- DuckLake only: time travel, on a demo pass into a lake -------------------------------


@pytest.fixture(scope="module")
def demo_lake(
    demo_server: CorpusServer, nlp: Any, tmp_path_factory: pytest.TempPathFactory
) -> LakeStore:
    tmp = tmp_path_factory.mktemp("lake-demo")
    settings = make_settings(tmp, allow=[demo_server.hostport],
                             db=f"ducklake:sqlite:{tmp / 'lake.sqlite'}",
                             lake_data_path=tmp / "lake")  # fmt: skip
    result = run_pass(demo_server.feeds(), settings, nlp=nlp, trigger="test")
    assert result.loaded
    st = open_store(settings)
    assert isinstance(st, LakeStore)
    return st


def test_lake_snapshots(demo_lake: LakeStore) -> None:
    rows = _saved(demo_lake, "lake_snapshots")
    runs = [r["run_id"] for r in rows if r["run_id"]]
    assert runs == [_one(demo_lake, "select run_id from runs")]
    assert [r["snapshot_id"] for r in rows] == sorted((r["snapshot_id"] for r in rows),
                                                      reverse=True)  # fmt: skip


def test_events_as_of(demo_lake: LakeStore) -> None:
    snapshot = next(r["snapshot_id"] for r in _saved(demo_lake, "lake_snapshots") if r["run_id"])
    before = _saved(demo_lake, "events_as_of", snapshot=snapshot)
    assert len(before) == _one(demo_lake, "select count(*) from factual_events") > 20
    with demo_lake.writer() as con:  # a later change, e.g. a re-coding
        con.execute("delete from events where root_code = '04'")
    assert len(_saved(demo_lake, "events_as_of", snapshot=snapshot)) == len(before)
    now = _one(demo_lake, "select count(*) from factual_events")
    assert now == len([r for r in before if not r["cameo_code"].startswith("04")]) < len(before)
