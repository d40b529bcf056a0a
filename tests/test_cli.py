"""The command line: query formats, status, check, clear errors, and documented commands."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipeline import cli
from pipeline.demo import stored_pages
from pipeline.store import FileStore
from tests.test_store import _batch

PAGES = stored_pages()  # article pages a pass over the demo corpus stores

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "n.duckdb"
    FileStore(path, lock_timeout_s=0.5).load(_batch("r1", ["a1", "a2"], [("a1", 0)]))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_table(db: Path, capsys: Any) -> None:
    code, out, _ = _run(capsys, "query", "--db", str(db),
                        "select article_id, title from articles order by 1")  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["article_id", "title"]
    assert "a1" in lines[2] and "Title a1" in lines[2]
    assert lines[-1] == "(2 rows)"


def test_query_csv_and_json(db: Path, capsys: Any) -> None:
    sql = "select article_id, published_at, word_count from articles order by 1"
    code, out, _ = _run(capsys, "query", "--db", str(db), "--format", "csv", sql)
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == ["article_id", "published_at", "word_count"]
    assert rows[1][0] == "a1" and rows[1][1].startswith("2025-11-02")
    code, out, _ = _run(capsys, "query", "--db", str(db), "--format", "json", sql)
    data = json.loads(out)
    assert code == 0 and [r["article_id"] for r in data] == ["a1", "a2"]
    assert data[0]["word_count"] == 4


def test_query_from_file(db: Path, tmp_path: Path, capsys: Any) -> None:
    sql = tmp_path / "q.sql"
    sql.write_text("-- how many?\nselect count(*) as n from articles;\n")
    code, out, _ = _run(capsys, "query", "--db", str(db), "-f", str(sql), "--format", "csv")
    assert code == 0 and out.splitlines() == ["n", "2"]


def test_shipped_queries_run(
    db: Path, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every saved query runs on the file and on DuckLake; those for DuckLake only (time
    travel, `Backend: ducklake` in the header) on the lake alone; the header's defaults
    for the parameters that have one. (tests/test_queries.py checks what they return.)"""
    from pipeline import queries
    from tests.conftest import make_store

    lake = make_store(tmp_path / "lake", "lake")
    lake.load(_batch("r1", ["a1", "a2"], [("a1", 0)]))
    monkeypatch.setenv("NEWS_LAKE_DATA_PATH", str(tmp_path / "lake" / "lake"))
    snapshot = lake.query("select max(snapshot_id) from lake.snapshots()")[1][0][0]
    for q in queries.saved_queries():
        assert q.sql.startswith("--"), f"{q.name} needs a header comment"
        required = [p.name for p in q.params if p.required]
        params = [f"--param={p}={snapshot if p == 'snapshot' else 'x'}" for p in required]
        for target in [lake.target] if q.backend == "ducklake" else [str(db), lake.target]:
            code, _, err = _run(capsys, "query", "--db", target, q.name, *params)
            assert code == 0, f"{q.name} on {target}: {err}"


def test_bad_sql_is_a_clear_error(db: Path, capsys: Any) -> None:
    code, _, err = _run(capsys, "query", "--db", str(db), "select * from nosuchtable")
    assert code == 1 and "nosuchtable" in err


def test_missing_database_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    code, _, err = _run(capsys, "query", "--db", str(tmp_path / "none.duckdb"), "select 1")
    assert code == 2 and "no database" in err


def test_db_from_environment(db: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_DB", str(db))
    code, out, _ = _run(capsys, "query", "--format", "csv", "select count(*) as n from articles")
    assert code == 0 and out.splitlines() == ["n", "2"]


def test_status_shows_counts_runs_and_feeds(db: Path, capsys: Any) -> None:
    code, out, _ = _run(capsys, "status", "--db", str(db))
    assert code == 0
    assert "articles 2" in out and "entities 1" in out
    assert "r1" in out and "Recent runs" in out and "Feeds" in out and "Hosts" in out


def test_check_passes_then_fails(db: Path, capsys: Any) -> None:
    code, out, _ = _run(capsys, "check", "--db", str(db))
    assert code == 0 and "all checks passed" in out
    with FileStore(db, lock_timeout_s=0.5).writer() as con:
        con.execute("update articles set body = '' where article_id = 'a1'")
    code, out, _ = _run(capsys, "check", "--db", str(db))
    assert code == 1 and "ok_articles_have_body" in out


def test_bad_registry_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: x\n    url: ftp://example.org/feed\n")
    code, _, err = _run(capsys, "run", "--db", str(tmp_path / "n.duckdb"), "--feeds", str(feeds))
    assert code == 2 and "feeds[0]" in err and "http(s) URL" in err


EMPTY_RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def test_run_refuses_to_crawl_without_a_contact_when_it_is_required(
    tmp_path: Path, capsys: Any, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed.rss").respond_with_data(
        EMPTY_RSS, content_type="application/rss+xml"
    )
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - name: local\n    url: {httpserver.url_for('/feed.rss')}\n")
    db = tmp_path / "n.duckdb"
    monkeypatch.setenv("NEWS_REQUIRE_CONTACT", "true")
    monkeypatch.setenv("NEWS_PER_HOST_DELAY", "0")
    # The server is on loopback, but not listed in NEWS_ALLOW_PRIVATE_HOSTS: not ours.
    code, out, err = _run(capsys, "run", "--db", str(db), "--feeds", str(feeds))
    assert code == 2 and out == ""
    assert err.startswith("newsevents: error: refusing to crawl: require_contact is on")
    assert "Set NEWS_USER_AGENT" in err
    assert httpserver.log == [] and not db.exists()  # nothing fetched, nothing stored

    # With a contact, the pass runs and sends it.
    monkeypatch.setenv("NEWS_ALLOW_PRIVATE_HOSTS", f"127.0.0.1:{httpserver.port}")
    monkeypatch.setenv("NEWS_USER_AGENT", "newsevents-test (ops@newsroom.org)")
    code, out, err = _run(capsys, "run", "--db", str(db), "--feeds", str(feeds))
    assert code == 0, err
    agents = {req.headers.get("User-Agent") for req, _ in httpserver.log}
    assert agents == {"newsevents-test (ops@newsroom.org)"}


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(sub.choices)  # type: ignore[arg-type]
    documented = set(re.findall(r"newsevents ([a-z-]+)", readme))
    assert commands - documented == set(), "document these commands in README.md"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_twice_keeps_the_counts_and_prints_a_summary(
    tmp_path: Path, capsys: Any, nlp: Any
) -> None:
    db, port = str(tmp_path / "demo.duckdb"), str(_free_port())
    code, out, _ = _run(capsys, "demo", "--db", db, "--port", port)
    assert code == 0
    for heading in ("Articles loaded:", "Entities:", "Events by type", "Top actor pairs",
                    "Where (factual events by location)", "Database:",
                    "newsevents query"):  # fmt: skip
        assert heading in out
    first = FileStore(Path(db), lock_timeout_s=0.5).counts()
    assert f"Places:          {first['places']} mentions" in out
    # the corpus's 404 and consent wall are there on purpose, and the summary says so
    assert "ok but for the demo's expected failures" in out and "partial" not in out
    assert "2 expected failure(s)" in out and "a 404 on purpose" in out
    assert "a consent wall on purpose" in out and "  ! " not in out
    assert f"Events located:  {first['events']} of {first['events']}" in out
    assert first["articles"] >= PAGES and first["entities"] >= 300 and first["events"] >= 20
    code, out, _ = _run(capsys, "demo", "--db", db, "--port", port)
    assert code == 0 and "(3 not modified)" in out and " 0 fetched" in out
    second = FileStore(Path(db), lock_timeout_s=0.5).counts()
    assert {k: second[k] for k in ("articles", "entities", "places", "events", "feeds")} == {
        k: first[k] for k in ("articles", "entities", "places", "events", "feeds")
    }


def test_code_jsonl_in_order_one_line_each(tmp_path: Path, capsys: Any, nlp: Any) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        '{"id": "a", "text": "Russia attacked Ukraine on Tuesday.", "date": "2025-11-02"}\n'
        '{"id": 7, "text": "The weather was mild."}\n'
        '{"id": "c", "text": "Macron will visit India."}\n'
    )
    code, _, err = _run(capsys, "code", "--input", str(src), "--output", str(dst))
    assert code == 0 and "3 texts" in err
    assert err.count("\n") == 1 and "\x1b" not in err  # no progress into a pipe
    lines = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", 7, "c"]
    attack = lines[0]["events"][0]
    assert (attack["source_actor"], attack["cameo"], attack["target_actor"]) == (
        "RUS",
        "190",
        "UKR",
    )
    assert attack["root"] == "19" and attack["plover"] == "ASSAULT" and attack["quad_class"] == 4
    assert attack["event_date"] == "2025-10-28" and attack["date_source"] == "text"
    assert lines[1]["events"] == []
    assert lines[2]["events"][0]["cameo"] == "036"
    assert lines[2]["events"][0]["modality"] == "intended"


def test_code_text_prints_a_table_that_fits_the_terminal(
    capsys: Any, nlp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Beijing accused Washington of meddling."
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = _run(capsys, "code", "--text", text)
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["source_actor", "cameo", "target_actor"]
    assert "CHN" in out and "112" in out and "USA" in out
    assert max(len(line) for line in out.splitlines()) <= 160
    # eleven columns cannot stand side by side in 60: one record, a line per column
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = _run(capsys, "code", "--text", text)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("-[ RECORD 1 ]") and lines[-1] == "(1 row)"
    assert lines[1].split() == ["source_actor", "CHN"] and lines[2].split() == ["cameo", "112"]
    assert max(len(line) for line in lines) <= 60


def test_query_wraps_long_cells_to_the_terminal_width(
    db: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    sentence = " ".join(f"word{i}" for i in range(40))
    code, out, _ = _run(capsys, "query", "--db", str(db),
                        f"select 7 as n, '{sentence}' as sentence")  # fmt: skip
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["n", "sentence"] and lines[-1] == "(1 row)"
    assert max(len(line) for line in lines) <= 50 and len(lines) > 4
    assert " ".join(w for line in lines[2:-1] for w in line.split()) == f"7 {sentence}"
    # the machine formats are whole, whatever the width
    code, out, _ = _run(capsys, "query", "--db", str(db), "--format", "csv",
                        f"select '{sentence}' as sentence")  # fmt: skip
    assert out.splitlines() == ["sentence", sentence]


def test_code_skips_bad_lines_with_their_numbers_and_codes_the_rest(
    tmp_path: Path, capsys: Any
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": 1, "text": "Russia attacked Ukraine.", "date": "2025-11-02"}\n'
        "{not json\n"
        '{"id": 3, "text": "Iran condemned Israel.", "date": "2025-02-30"}\n'
        '{"id": 4}\n'
        '{"id": 5, "text": "Beijing accused Washington of meddling."}\n'
    )
    code, out, err = _run(capsys, "code", "--input", str(src))
    assert code == 1  # some lines were skipped
    assert f"{src}:2: not valid JSON" in err
    assert f"{src}:3: 'date' must be YYYY-MM-DD" in err
    assert f"{src}:4: expected an object with a 'text' string" in err
    coded = [json.loads(line) for line in out.splitlines()]
    assert [c["id"] for c in coded] == [1, 5]
    assert coded[0]["events"][0]["cameo"] == "190"
    assert coded[1]["events"][0]["source_actor"] == "CHN"


def test_code_text_with_a_bad_date_is_a_usage_error(capsys: Any) -> None:
    code, out, err = _run(
        capsys, "code", "--text", "Iran condemned Israel.", "--date", "2024-13-01"
    )
    assert code == 2 and out == ""
    assert "--date must be YYYY-MM-DD, got '2024-13-01'" in err


def test_code_all_good_lines_exit_zero(tmp_path: Path, capsys: Any) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "Russia attacked Ukraine."}\n')
    code, _, _ = _run(capsys, "code", "--input", str(src))
    assert code == 0


def test_eval_events_prints_levels_and_roots(tmp_path: Path, capsys: Any, nlp: Any) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"id": 1, "text": "Russia attacked Ukraine.", '
        '"events": [{"source": "RUS", "target": "UKR", "cameo": "190"}]}\n'
        '{"id": 2, "text": "Beijing accused Washington of meddling.", '
        '"events": [{"source": "CHN", "target": "USA", "cameo": "111"}]}\n'
    )
    code, out, _ = _run(capsys, "eval-events", "--gold", str(gold))
    assert code == 0
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line.split())
    assert rows["root"][1:4] == ["1.000", "1.000", "1.000"]
    assert rows["exact"][3] == "0.500"  # 112 predicted where the gold says 111
    assert "19" in rows and "11" in rows


def test_code_writes_places_and_event_locations(tmp_path: Path, capsys: Any, nlp: Any) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({
        "id": "k", "date": "2024-05-01", "feed_country": "US",
        "text": "KYIV, Ukraine (AP) — Russian troops shelled Kharkiv overnight. Police in "
                "Paris, Texas, arrested two men.",
    }) + "\n")  # fmt: skip
    code, out, _ = _run(capsys, "code", "--input", str(src))
    assert code == 0
    (line,) = [json.loads(x) for x in out.splitlines()]
    places = {p["text"]: p for p in line["places"]}
    assert places["KYIV"]["geonames_id"] == 703448 and places["KYIV"]["label"] == "DATELINE"
    assert places["Paris"]["country"] == "USA" and places["Paris"]["admin1"] == "Texas"
    assert places["Paris"]["method"] == "city_state"
    shelled = next(e for e in line["events"] if e["trigger"] == "shelled")
    assert shelled["location"] == "Kharkiv" and shelled["location_source"] == "target"
    assert shelled["location_precision"] == "city"
    assert line["places"][shelled["location_place_idx"]]["text"] == "Kharkiv"


def test_eval_geo_scores_a_gold_file(tmp_path: Path, capsys: Any, nlp: Any) -> None:
    gold = tmp_path / "geo.jsonl"
    text = "ATHENS, Ga. (AP) — Police in Athens arrested two men near Atlantis Road."
    gold.write_text(json.dumps({"id": "g1", "text": text, "toponyms": [
        {"text": "ATHENS", "occurrence": 1, "lat": 33.96, "lon": -83.38, "kind": "city",
         "country": "US", "geonames_id": 4180386},
        {"text": "Ga.", "occurrence": 1, "lat": 32.7, "lon": -83.4, "kind": "admin1",
         "country": "US", "geonames_id": 4197000},
        {"text": "Athens", "occurrence": 1, "lat": 37.98, "lon": 23.73, "kind": "city",
         "country": "GR", "geonames_id": 264371},
    ]}) + "\n")  # fmt: skip
    code, out, _ = _run(capsys, "eval-geo", "--gold", str(gold), "--misses")
    assert code == 0
    assert "gold toponyms 3" in out
    # the third gold toponym is deliberately wrong: the geoparser says Athens, Ga.
    assert "accuracy@161km (resolved)      0.667  (2/3)" in out
    assert "'Athens': Athens USA (city_state)" in out


def test_code_json_says_null_for_no_target_and_sentences_have_no_newline(
    tmp_path: Path, capsys: Any, nlp: Any
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "Protesters marched in Nairobi on Sunday.\n"
                                                 "Russia attacked Ukraine.\n"}) + "\n")  # fmt: skip
    code, out, _ = _run(capsys, "code", "--input", str(src))
    assert code == 0
    events = json.loads(out)["events"]
    march = next(e for e in events if e["root"] == "14")
    assert march["target_actor"] is None and march["target_text"] is None  # as in the table
    assert all(not e["sentence"].endswith(("\n", " ")) for e in events) and len(events) >= 2


def test_run_prints_the_summary_and_a_busy_writer_is_said_once(
    tmp_path: Path, capsys: Any, nlp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.demo import serve_corpus
    from tests.test_store import _hold

    db = tmp_path / "n.duckdb"
    with serve_corpus() as server:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text((server.corpus / "feeds.yaml").read_text().replace(
            "{{BASE_URL}}", server.base_url))  # fmt: skip
        monkeypatch.setenv("NEWS_ALLOW_PRIVATE_HOSTS", server.hostport)
        monkeypatch.setenv("NEWS_PER_HOST_DELAY", "0")
        code, out, err = _run(capsys, "run", "--feeds", str(feeds), "--db", str(db),
                              "--progress")  # fmt: skip
        assert code == 0
        for heading in ("Articles loaded:", "Events located:", "Database:", "newsevents query"):
            assert heading in out
        # forced progress: bars on standard error for the feeds, then the articles
        shown = re.sub(r"\x1b\[[0-9;]*m", "", err)
        counts = re.search(r" (\d+) fetched, (\d+) failed", out)
        assert counts
        fetched, failed = map(int, counts.groups())
        for task, n in (("fetch feeds", 3), ("fetch articles", fetched + failed),
                        ("extract", fetched), ("tag and code", fetched)):  # fmt: skip
            assert re.search(rf"{task} .*━.* {n}/{n} ", shown), (task, shown)
        assert "━" not in out
        # another pipeline process in the middle of a load (analysts never block one)
        other_pass = _hold(FileStore(db, lock_timeout_s=0).writer_path)
        try:
            monkeypatch.setenv("NEWS_LOCK_TIMEOUT", "0.3")
            code, out, err = _run(capsys, "run", "--feeds", str(feeds), "--db", str(db),
                                  "--refetch")  # fmt: skip
        finally:
            other_pass.communicate("")
    assert code == 3
    assert out.startswith("run ") and "NOT LOADED" in out.splitlines()[0]
    assert "partial" not in out.splitlines()[0]
    both = out + err
    assert both.count("another pass or task is loading") == 1 and err.count("NOT LOADED:") == 1
