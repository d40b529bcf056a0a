"""Bad input gets a recorded error, and everything else still loads.

A real pytest-httpserver on 127.0.0.1 serves one good feed (with a 404 article and an
empty page among its items), a malformed feed, an HTML page posing as a feed, and a
feed URL that answers 500.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from pipeline.records import Feed
from pipeline.run import run_pass

ARTICLE = """<!doctype html><html lang="en"><head><title>{title}</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>{paras}</article>
<footer>Copyright 2025 Example News</footer></body></html>"""

PARAS = "".join(
    f"<p>In round {n}, foreign ministers from France and Germany met in Paris to discuss "
    "sanctions on Russia, and the two governments agreed to coordinate their aid to "
    f"Ukraine over the coming {n + 2} months, officials said after the talks ended.</p>"
    for n in range(1, 7)
)


def _rss(base: str, items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{p}</link>"
        "<pubDate>Sun, 02 Nov 2025 09:15:00 +0000</pubDate></item>"
        for t, p in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Good</title><link>{base}/</link><description>d</description>{entries}"
        "</channel></rss>"
    )


@pytest.fixture
def hostile(httpserver: HTTPServer) -> list[Feed]:
    base = httpserver.url_for("").rstrip("/")
    items = [("Story one", "/a/one.html"), ("Story two", "/a/two.html"),
             ("Gone", "/a/gone.html"), ("Blank", "/a/blank.html")]  # fmt: skip
    httpserver.expect_request("/good.rss").respond_with_data(
        _rss(base, items), content_type="application/rss+xml"
    )
    for slug in ("one", "two"):
        html = ARTICLE.format(title=f"Story {slug}", paras=PARAS)
        httpserver.expect_request(f"/a/{slug}.html").respond_with_data(
            html, content_type="text/html; charset=utf-8"
        )
    httpserver.expect_request("/a/gone.html").respond_with_data("no", status=404)
    httpserver.expect_request("/a/blank.html").respond_with_data(
        "<html><body></body></html>", content_type="text/html"
    )
    httpserver.expect_request("/broken.rss").respond_with_data(
        "<rss><channel><title>x</title><item><title>unterminated",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/page.rss").respond_with_data(
        "<!doctype html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
        content_type="text/html",
    )
    httpserver.expect_request("/down.rss").respond_with_data("oops", status=500)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    return [
        Feed("good", f"{base}/good.rss"),
        Feed("broken", f"{base}/broken.rss"),
        Feed("html", f"{base}/page.rss"),
        Feed("down", f"{base}/down.rss"),
    ]


def _one(db: Any, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_bad_feeds_and_pages_are_recorded_while_the_rest_loads(
    hostile: list[Feed], settings: Any, nlp: Any
) -> None:
    result = run_pass(hostile, settings, nlp=nlp, trigger="test")
    assert result.loaded and result.status == "partial"
    db = settings.db_path

    feeds = dict(
        (name, (err, failures))
        for name, err, failures in _one(
            db, "select name, last_error, consecutive_failures from feeds"
        )
    )
    assert feeds["good"] == (None, 0)
    assert "no recoverable entries" in feeds["broken"][0] or "bad feed" in feeds["broken"][0]
    assert "not an RSS or Atom feed" in feeds["html"][0]
    assert "500" in feeds["down"][0]
    assert all(feeds[n][1] == 1 for n in ("broken", "html", "down"))

    log = {
        (url.rsplit("/", 1)[1], cls)
        for url, cls in _one(
            db,
            "select url, error_class from fetch_log where error is not null and kind <> 'robots'",
        )
    }
    assert log == {
        ("broken.rss", "BadFeed"),
        ("page.rss", "BadFeed"),
        ("down.rss", "HTTPStatus"),
        ("gone.html", "HTTPStatus"),
    }

    # A 500 is retried (settings.retries = 1 here); a 404 is not.
    retries = dict(_one(db, "select regexp_extract(url, '[^/]+$'), retries from fetch_log"))
    assert retries["down.rss"] == 1 and retries["gone.html"] == 0
    articles = dict(_one(db, "select title, status from articles"))
    assert articles["Story one"] == "ok" and articles["Story two"] == "ok"
    assert articles["Blank"] == "empty"
    assert "Gone" not in articles

    events = _one(db, "select count(*) from events")[0][0]
    assert events > 0, "the good articles must still be tagged and coded"
    run = _one(db, "select feeds_failed, articles_failed, articles_short, errors from runs")[0]
    assert run[:3] == (3, 1, 1)
    assert len(run[3]) >= 5


def test_failed_feed_counts_consecutive_failures_and_recovers(
    hostile: list[Feed], settings: Any, nlp: Any
) -> None:
    run_pass(hostile, settings, nlp=nlp, trigger="test")
    run_pass(hostile, settings, nlp=nlp, trigger="test")
    rows = dict(_one(settings.db_path, "select name, consecutive_failures from feeds"))
    assert rows["down"] == 2 and rows["good"] == 0


def test_unreachable_everything_is_a_failed_run_not_a_crash(settings: Any, nlp: Any) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    settings = replace(settings, allow_private_hosts=(f"127.0.0.1:{port}",))
    result = run_pass([Feed("dead", f"http://127.0.0.1:{port}/feed.xml")], settings, nlp=nlp)
    assert result.loaded and result.status == "failed"
    rows = _one(settings.db_path, "select kind, error_class from fetch_log order by kind")
    # robots.txt unreachable means "disallow" for this run (RFC 9309), so the feed itself
    # is not even tried.
    assert rows == [("feed", "RobotsDisallowed"), ("robots", "ConnectError")]


def test_a_host_that_was_down_is_picked_up_next_run_without_duplicates(
    httpserver: HTTPServer, settings: Any, nlp: Any
) -> None:
    from werkzeug import Request, Response

    base = httpserver.url_for("").rstrip("/")
    items = [("Story one", "/b/one.html"), ("Story two", "/b/two.html")]
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/b.rss").respond_with_data(
        _rss(base, items), content_type="application/rss+xml"
    )
    httpserver.expect_request("/b/one.html").respond_with_data(
        ARTICLE.format(title="Story one", paras=PARAS), content_type="text/html"
    )
    down = {"calls": 0, "up": False}

    def flaky(request: Request) -> Response:
        down["calls"] += 1
        if not down["up"]:
            return Response("busy", status=503)
        return Response(ARTICLE.format(title="Story two", paras=PARAS.replace("round", "phase")),
                        content_type="text/html")  # fmt: skip

    httpserver.expect_request("/b/two.html").respond_with_handler(flaky)
    feeds = [Feed("b", f"{base}/b.rss")]
    first = run_pass(feeds, settings, nlp=nlp)
    assert first.loaded and first.stats.articles_failed == 1
    assert down["calls"] == 1 + settings.retries  # a 503 is retried
    assert dict(_one(settings.db_path, "select title, status from articles")) == {"Story one": "ok"}
    down["up"] = True
    second = run_pass(feeds, settings, nlp=nlp)
    assert second.stats.articles_fetched == 1  # only the one that failed
    titles = [r[0] for r in _one(settings.db_path, "select title from articles order by 1")]
    assert titles == ["Story one", "Story two"]


def _atom(base: str, updated: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>U</title><id>{base}/u</id><updated>{updated}</updated>"
        f'<entry><title>Story one</title><id>{base}/u/one</id><link href="{base}/u/one.html"/>'
        f"<published>2025-11-02T09:15:00Z</published><updated>{updated}</updated></entry>"
        f'<entry><title>Story two</title><id>{base}/u/two</id><link href="{base}/u/two.html"/>'
        "<published>2025-11-02T09:15:00Z</published><updated>2025-11-02T09:15:00Z</updated>"
        "</entry></feed>"
    )


def test_an_entry_the_feed_marks_updated_is_fetched_again(
    httpserver: HTTPServer, settings: Any, nlp: Any
) -> None:
    from werkzeug import Request, Response

    base = httpserver.url_for("").rstrip("/")
    state = {"updated": "2025-11-02T09:15:00Z", "word": "round"}
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/u.atom").respond_with_handler(
        lambda request: Response(_atom(base, state["updated"]), content_type="application/atom+xml")
    )

    def page(request: Request) -> Response:
        paras = PARAS.replace("round", state["word"])
        return Response(ARTICLE.format(title="Story one", paras=paras), content_type="text/html")

    httpserver.expect_request("/u/one.html").respond_with_handler(page)
    httpserver.expect_request("/u/two.html").respond_with_data(
        ARTICLE.format(title="Story two", paras=PARAS.replace("round", "phase")),
        content_type="text/html",
    )
    feeds = [Feed("u", f"{base}/u.atom")]
    assert run_pass(feeds, settings, nlp=nlp).stats.articles_fetched == 2
    assert run_pass(feeds, settings, nlp=nlp).stats.articles_fetched == 0  # nothing new
    # The publisher corrects story one and says so in the feed.
    state.update(updated="2099-01-01T00:00:00Z", word="session")
    again = run_pass(feeds, settings, nlp=nlp)
    assert again.stats.articles_fetched == 1
    rows = _one(settings.db_path, "select title, body like '%session%' from articles order by 1")
    assert rows == [("Story one", True), ("Story two", False)]
    no_policy = replace(settings, refetch_updated=False)
    assert run_pass(feeds, no_policy, nlp=nlp).stats.articles_fetched == 0
