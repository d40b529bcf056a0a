"""The fetch layer's manners: retries and Retry-After, per-host politeness, global
concurrency, robots.txt (RFC 9309) and conditional GET through the pipeline.

Servers are threaded pytest-httpserver instances on 127.0.0.1 that record when each
request arrived and how many were in flight; every test opens exactly their
127.0.0.1:port on the allowlist.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.config import Settings
from pipeline.fetch import Fetcher, fetch_all, fetch_with_robots, make_client, resolve
from pipeline.records import Feed, Page
from pipeline.run import run_pass
from tests.conftest import make_settings

SETTINGS = replace(
    Settings(),
    timeout_s=5.0,
    concurrency=16,
    per_host_concurrency=2,
    per_host_delay_s=0.0,
    retries=0,
    backoff_base_s=0.01,
    respect_robots=False,
    user_agent="newsevents-test/1.0",
)


@dataclass
class Recorder:
    """Arrival times and in-flight counts, shared by the servers that use it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    starts: list[tuple[float, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def slow(self, seconds: float, body: str = "<p>ok</p>") -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            with self.lock:
                self.starts.append((time.monotonic(), request.path))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                time.sleep(seconds)
                return Response(body, content_type="text/html")
            finally:
                with self.lock:
                    self.in_flight -= 1

        return handler

    def times(self, path_prefix: str = "/") -> list[float]:
        return [t for t, p in self.starts if p.startswith(path_prefix)]

    def gaps(self) -> list[float]:
        """Seconds between successive request starts, to the millisecond."""
        return [round(b - a, 3) for a, b in itertools.pairwise(sorted(self.times()))]


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.fixture
def servers() -> Iterator[Callable[[], HTTPServer]]:
    """A factory of threaded servers on 127.0.0.1 (for tests that need requests in
    parallel), stopped together after the test."""
    made: list[HTTPServer] = []

    def make() -> HTTPServer:
        server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        server.start()
        made.append(server)
        return server

    yield make
    stopping = [threading.Thread(target=s.stop) for s in made]  # each takes up to 0.5 s
    for thread in stopping:
        thread.start()
    for thread in stopping:
        thread.join()


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    """The session's (single-threaded) server, for tests that need no parallel requests."""
    return httpserver


def _url(server: HTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def _allow(settings: Settings, *servers: HTTPServer) -> Settings:
    hosts = tuple(f"127.0.0.1:{s.port}" for s in servers)
    return replace(settings, allow_private_hosts=settings.allow_private_hosts + hosts)


def _paths(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def _sequence(*responses: Response) -> Callable[[Request], Response]:
    """Answers with these responses in turn; the last one repeats."""
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        return responses[min(len(calls), len(responses)) - 1]

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


def _ok(body: str = "<p>fine</p>") -> Response:
    return Response(body, content_type="text/html")


# --- retries -----------------------------------------------------------------------------------


def test_503_twice_then_200_is_ok_after_two_retries(server: HTTPServer) -> None:
    server.expect_request("/flaky").respond_with_handler(
        _sequence(Response("busy", 503), Response("busy", 503), _ok("<p>third time</p>"))
    )
    page = fetch_all([_url(server, "/flaky")], _allow(replace(SETTINGS, retries=3), server))[0]
    assert page.ok and page.body == b"<p>third time</p>"
    assert page.retries == 2
    assert len(server.log) == 3


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(server: HTTPServer, status: int) -> None:
    server.expect_request("/p").respond_with_handler(_sequence(Response("", status), _ok()))
    page = fetch_all([_url(server, "/p")], _allow(replace(SETTINGS, retries=1), server))[0]
    assert page.ok and page.retries == 1
    assert len(server.log) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_client_errors_are_not_retried(server: HTTPServer, status: int) -> None:
    server.expect_request("/p").respond_with_data("no", status=status)
    page = fetch_all([_url(server, "/p")], _allow(replace(SETTINGS, retries=3), server))[0]
    assert page.error_class == "HTTPStatus" and page.status == status
    assert page.retries == 0
    assert len(server.log) == 1


def test_retries_exhausted_report_the_last_failure(server: HTTPServer) -> None:
    server.expect_request("/down").respond_with_data("oops", status=500)
    page = fetch_all([_url(server, "/down")], _allow(replace(SETTINGS, retries=2), server))[0]
    assert (page.error_class, page.status, page.retries) == ("HTTPStatus", 500, 2)
    assert len(server.log) == 3


def test_connection_refused_is_retried_the_configured_number_of_times() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    attempts: list[str] = []

    async def counting(host: str, port: int) -> list[str]:
        attempts.append(host)  # resolved once per attempt, just before connecting
        return await resolve(host, port)

    async def main() -> Page:
        settings = replace(SETTINGS, retries=2, allow_private_hosts=(f"127.0.0.1:{port}",))
        async with make_client(settings) as client:
            return await Fetcher(settings, client, resolver=counting).get(
                f"http://127.0.0.1:{port}/x"
            )

    page = asyncio.run(main())
    assert page.error_class == "ConnectError" and page.status is None
    assert page.retries == 2
    assert len(attempts) == 3


def test_retry_after_seconds_is_honoured(server: HTTPServer) -> None:
    handler = _sequence(Response("slow down", 429, headers={"Retry-After": "1"}), _ok())
    server.expect_request("/p").respond_with_handler(handler)
    page = fetch_all([_url(server, "/p")], _allow(replace(SETTINGS, retries=1), server))[0]
    assert page.ok and page.retries == 1
    first, second = handler.calls  # type: ignore[attr-defined]
    assert second - first >= 0.95


def test_retry_after_http_date_is_honoured(server: HTTPServer) -> None:
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
            return Response("later", 503, headers={"Retry-After": when})
        return _ok()

    server.expect_request("/p").respond_with_handler(handler)
    page = fetch_all([_url(server, "/p")], _allow(replace(SETTINGS, retries=1), server))[0]
    assert page.ok and page.retries == 1
    # The date has whole seconds: "now + 2 s" truncated is 1 to 2 s away.
    assert 0.95 <= calls[1] - calls[0] < 3.0


def test_retry_after_holds_back_the_whole_host(server: HTTPServer) -> None:
    handler = _sequence(Response("slow down", 429, headers={"Retry-After": "1"}), _ok())
    server.expect_request("/limited").respond_with_handler(handler)
    server.expect_request("/other").respond_with_data("<p>other</p>", content_type="text/html")
    settings = _allow(replace(SETTINGS, retries=1, per_host_concurrency=1), server)
    pages = fetch_all([_url(server, "/limited"), _url(server, "/other")], settings)
    assert all(p.ok for p in pages)
    arrived = dict(zip(_paths(server), _arrivals(server), strict=True))
    assert arrived["/other"] - handler.calls[0] >= 0.9, (  # type: ignore[attr-defined]
        "another request went to the host during its Retry-After"
    )


def _arrivals(server: HTTPServer) -> list[float]:
    """When each logged request arrived (stamped by _stamp_arrivals)."""
    return [r._arrived for r, _ in server.log]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _stamp_arrivals(monkeypatch: pytest.MonkeyPatch) -> None:
    original = HTTPServer.dispatch

    def dispatch(self: HTTPServer, request: Request) -> Response:
        request._arrived = time.monotonic()  # type: ignore[attr-defined]
        return original(self, request)

    monkeypatch.setattr(HTTPServer, "dispatch", dispatch)


@pytest.mark.parametrize("retries", [0, 2])
def test_retry_after_beyond_the_cap_skips_the_host_for_the_run(
    server: HTTPServer, retries: int
) -> None:
    server.expect_request("/a").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    server.expect_request("/b").respond_with_data("<p>b</p>", content_type="text/html")
    settings = _allow(replace(SETTINGS, retries=retries, retry_after_cap_s=5.0), server)

    async def main() -> tuple[Page, Page]:
        async with make_client(settings) as client:
            fetcher = Fetcher(settings, client)
            first = await fetcher.get(_url(server, "/a"))
            return first, await fetcher.get(_url(server, "/b"))

    started = time.monotonic()
    first, second = asyncio.run(main())
    assert time.monotonic() - started < 2.0  # it did not wait an hour, nor the cap
    assert first.error_class == "HostSkipped" and first.status == 429
    assert first.error is not None and "3600" in first.error
    assert second.error_class == "HostSkipped"
    assert _paths(server) == ["/a"]  # /b was never requested


def test_requests_queued_for_a_host_are_skipped_once_it_is_skipped(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_data("", status=503, headers={"Retry-After": "999"})
    server.expect_request("/b").respond_with_data("<p>b</p>", content_type="text/html")
    server.expect_request("/c").respond_with_data("<p>c</p>", content_type="text/html")
    settings = _allow(replace(SETTINGS, retries=1, per_host_concurrency=1), server)
    pages = fetch_all([_url(server, p) for p in ("/a", "/b", "/c")], settings)
    assert [p.error_class for p in pages] == ["HostSkipped"] * 3
    assert _paths(server) == ["/a"]


# --- per-host politeness and global concurrency -----------------------------------------------


def test_per_host_concurrency_is_never_exceeded(servers: Callable[[], HTTPServer]) -> None:
    rec = Recorder()
    server = servers()
    server.expect_request("/p").respond_with_handler(rec.slow(0.15))
    urls = [_url(server, f"/p?n={n}") for n in range(8)]
    pages = fetch_all(urls, _allow(replace(SETTINGS, per_host_concurrency=2), server))
    assert all(p.ok for p in pages)
    assert rec.max_in_flight == 2  # never more, and it did use both


def test_per_host_delay_spaces_request_starts(server: HTTPServer) -> None:
    rec = Recorder()
    server.expect_request("/p").respond_with_handler(rec.slow(0.0))
    urls = [_url(server, f"/p?n={n}") for n in range(4)]
    settings = _allow(replace(SETTINGS, per_host_delay_s=0.3, per_host_concurrency=2), server)
    assert all(p.ok for p in fetch_all(urls, settings))
    gaps = _gaps(sorted(rec.times()))
    assert len(gaps) == 3
    assert min(gaps) >= 0.28, gaps


def test_two_hosts_are_fetched_in_parallel(servers: Callable[[], HTTPServer]) -> None:
    rec = Recorder()
    a, b = servers(), servers()
    for s in (a, b):
        s.expect_request("/p").respond_with_handler(rec.slow(0.3))
    urls = [_url(s, f"/p?n={n}") for s in (a, b) for n in range(3)]
    settings = _allow(replace(SETTINGS, per_host_concurrency=1), a, b)
    started = time.monotonic()
    assert all(p.ok for p in fetch_all(urls, settings))
    elapsed = time.monotonic() - started
    assert elapsed < 1.4, f"{elapsed:.2f}s: hosts ran one after another (serial: 1.8 s)"
    assert rec.max_in_flight == 2


def test_a_busy_host_does_not_hold_the_global_slots(servers: Callable[[], HTTPServer]) -> None:
    # Two global slots, one per host: requests queued for host A must not sit on both
    # slots while host B has nothing in flight.
    rec = Recorder()
    a, b = servers(), servers()
    for s in (a, b):
        s.expect_request("/p").respond_with_handler(rec.slow(0.3))
    urls = [_url(s, f"/p?n={n}") for s in (a, b) for n in range(3)]
    settings = _allow(replace(SETTINGS, concurrency=2, per_host_concurrency=1), a, b)
    started = time.monotonic()
    assert all(p.ok for p in fetch_all(urls, settings))
    elapsed = time.monotonic() - started
    assert elapsed < 1.4, f"{elapsed:.2f}s (host-by-host would be 1.8 s)"


def test_a_politeness_pause_does_not_hold_a_global_slot(
    servers: Callable[[], HTTPServer],
) -> None:
    rec = Recorder()
    a, b = servers(), servers()
    for s in (a, b):
        s.expect_request("/p").respond_with_handler(rec.slow(0.0))
    urls = [_url(a, "/p?n=1"), _url(a, "/p?n=2"), _url(b, "/p?n=1"), _url(b, "/p?n=2")]
    settings = _allow(replace(SETTINGS, concurrency=1, per_host_delay_s=0.5), a, b)
    started = time.monotonic()
    assert all(p.ok for p in fetch_all(urls, settings))
    elapsed = time.monotonic() - started
    assert elapsed < 0.85, f"{elapsed:.2f}s: host B waited out host A's pause (~1.0 s)"


def test_global_concurrency_cap_is_respected(servers: Callable[[], HTTPServer]) -> None:
    rec = Recorder()
    hosts = [servers() for _ in range(4)]
    for s in hosts:
        s.expect_request("/p").respond_with_handler(rec.slow(0.15))
    urls = [_url(s, f"/p?n={n}") for s in hosts for n in range(3)]
    settings = _allow(replace(SETTINGS, concurrency=3, per_host_concurrency=2), *hosts)

    async def main() -> list[Page]:
        # A client with a larger connection pool: the Fetcher's own cap must hold.
        async with make_client(replace(settings, concurrency=20)) as client:
            fetcher = Fetcher(settings, client)
            return list(await asyncio.gather(*(fetcher.get(u) for u in urls)))

    assert all(p.ok for p in asyncio.run(main()))
    assert rec.max_in_flight == 3


# --- robots.txt --------------------------------------------------------------------------------

ROBOTS = replace(SETTINGS, respect_robots=True, retries=1)


def _robots(server: HTTPServer, text: str, status: int = 200) -> None:
    server.expect_request("/robots.txt").respond_with_data(
        text, status=status, content_type="text/plain"
    )


def _pages(server: HTTPServer, *paths: str) -> None:
    for path in paths:
        server.expect_request(path).respond_with_data(f"<p>{path}</p>", content_type="text/html")


def test_robots_disallowed_path_is_never_requested(server: HTTPServer) -> None:
    _robots(server, "User-agent: *\nDisallow: /private/\n")
    _pages(server, "/private/x", "/public/y")
    pages = fetch_all(
        [_url(server, "/private/x"), _url(server, "/public/y")], _allow(ROBOTS, server)
    )
    assert pages[0].error_class == "RobotsDisallowed" and pages[0].body == b""
    assert pages[1].ok
    assert sorted(_paths(server)) == ["/public/y", "/robots.txt"]


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_robots_4xx_means_everything_is_allowed(server: HTTPServer, status: int) -> None:
    _robots(server, "User-agent: *\nDisallow: /\n", status=status)  # a 4xx body is ignored
    _pages(server, "/a")
    assert fetch_all([_url(server, "/a")], _allow(ROBOTS, server))[0].ok


@pytest.mark.parametrize("status", [500, 503])
def test_robots_5xx_means_everything_is_disallowed(server: HTTPServer, status: int) -> None:
    _robots(server, "oops", status=status)
    _pages(server, "/a", "/b")
    pages, robots = fetch_with_robots(
        [_url(server, "/a"), _url(server, "/b")], _allow(ROBOTS, server)
    )
    assert [p.error_class for p in pages] == ["RobotsDisallowed"] * 2
    assert [p.status for p in robots] == [status]
    assert set(_paths(server)) == {"/robots.txt"}  # retried (retries=1), pages never asked


def test_unreachable_robots_means_disallowed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = replace(ROBOTS, allow_private_hosts=(f"127.0.0.1:{port}",))
    pages, robots = fetch_with_robots([f"http://127.0.0.1:{port}/a"], settings)
    assert pages[0].error_class == "RobotsDisallowed"
    assert [p.error_class for p in robots] == ["ConnectError"]


def test_robots_timing_out_means_disallowed(server: HTTPServer) -> None:
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(3.0)
        return Response("User-agent: *\nAllow: /\n", content_type="text/plain")

    server.expect_request("/robots.txt").respond_with_handler(stall)
    _pages(server, "/a")
    try:
        settings = _allow(replace(ROBOTS, timeout_s=0.4, retries=0), server)
        pages, robots = fetch_with_robots([_url(server, "/a")], settings)
    finally:
        release.set()
    assert pages[0].error_class == "RobotsDisallowed"
    assert robots[0].error_class == "Timeout"
    assert "/a" not in _paths(server)


def test_robots_is_fetched_once_per_host(servers: Callable[[], HTTPServer]) -> None:
    a, b = servers(), servers()
    for s in (a, b):
        _robots(s, "User-agent: *\nAllow: /\n")
        s.expect_request("/p").respond_with_data("<p>p</p>", content_type="text/html")
    urls = [_url(s, f"/p?n={n}") for n in range(10) for s in (a, b)]
    pages, robots = fetch_with_robots(urls, _allow(ROBOTS, a, b))
    assert all(p.ok for p in pages)
    assert len(robots) == 2
    for s in (a, b):
        assert _paths(s).count("/robots.txt") == 1
        assert _paths(s)[0] == "/robots.txt"  # before any page


def test_crawl_delay_spaces_request_starts(server: HTTPServer) -> None:
    _robots(server, "User-agent: *\nCrawl-delay: 1\nAllow: /\n")
    _pages(server, "/a", "/b")
    pages = fetch_all([_url(server, "/a"), _url(server, "/b")], _allow(ROBOTS, server))
    assert all(p.ok for p in pages)
    assert _paths(server)[0] == "/robots.txt"
    gaps = _gaps(_arrivals(server))
    assert len(gaps) == 2 and min(gaps) >= 0.95, gaps


def test_user_agent_is_the_configured_one_for_robots_and_pages(server: HTTPServer) -> None:
    ua = "newsevents-test/2.0 (+https://example.org/crawler; qa@example.org)"
    _robots(server, "User-agent: *\nAllow: /\n")
    _pages(server, "/a")
    page = fetch_all([_url(server, "/a")], _allow(replace(ROBOTS, user_agent=ua), server))[0]
    assert page.ok
    assert [r.headers["User-Agent"] for r, _ in server.log] == [ua, ua]


def test_robots_wildcards_and_end_anchors_are_honoured(server: HTTPServer) -> None:
    _robots(server, "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search*q=\nAllow: /\n")
    paths = ["/report.pdf", "/report.pdf?page=2", "/search?q=x", "/search", "/a/b.pdf.html"]
    for path in ("/report.pdf", "/search", "/a/b.pdf.html"):
        _pages(server, path)
    pages = fetch_all([_url(server, p) for p in paths], _allow(ROBOTS, server))
    allowed = {
        p: page.error_class != "RobotsDisallowed" for p, page in zip(paths, pages, strict=True)
    }
    assert allowed == {
        "/report.pdf": False,
        "/report.pdf?page=2": True,
        "/search?q=x": False,
        "/search": True,
        "/a/b.pdf.html": True,
    }
    assert "/report.pdf" not in [r.full_path.rstrip("?") for r, _ in server.log]


def test_robots_group_for_our_agent_wins_over_the_wildcard(server: HTTPServer) -> None:
    _robots(server, "User-agent: newsevents\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    _pages(server, "/a")
    page = fetch_all([_url(server, "/a")], _allow(ROBOTS, server))[0]
    assert page.error_class == "RobotsDisallowed"


def test_robots_for_other_agents_does_not_apply(server: HTTPServer) -> None:
    _robots(server, "User-agent: OtherBot\nDisallow: /\n")
    _pages(server, "/a")
    assert fetch_all([_url(server, "/a")], _allow(ROBOTS, server))[0].ok


# --- conditional GET through the pipeline ------------------------------------------------------

ETAG = '"feed-v1"'
MODIFIED = "Sun, 02 Nov 2025 09:15:00 GMT"
PARAS = "".join(
    f"<p>In round {n}, foreign ministers from France and Germany met in Paris to discuss "
    "sanctions on Russia, and the two governments agreed to coordinate their aid to "
    f"Ukraine over the coming {n + 2} months, officials said after the talks ended.</p>"
    for n in range(1, 7)
)


def _db(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_unchanged_feed_is_a_304_that_costs_nothing(
    server: HTTPServer, tmp_path: Path, nlp: Any
) -> None:
    base = f"http://127.0.0.1:{server.port}"
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>{base}/</link><description>d</description>"
        + "".join(
            f"<item><title>Story {n}</title><link>{base}/a/{n}.html</link>"
            "<pubDate>Sun, 02 Nov 2025 09:15:00 +0000</pubDate></item>"
            for n in (1, 2)
        )
        + "</channel></rss>"
    )
    feed_requests: list[dict[str, str]] = []

    def feed(request: Request) -> Response:
        feed_requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == ETAG:
            return Response(status=304, headers={"ETag": ETAG})
        return Response(
            rss,
            content_type="application/rss+xml",
            headers={"ETag": ETAG, "Last-Modified": MODIFIED},
        )

    server.expect_request("/feed.rss").respond_with_handler(feed)
    _robots(server, "User-agent: *\nAllow: /\n")
    for n in (1, 2):
        html = (
            f"<html><head><title>Story {n}</title></head><body><article>"
            f"<h1>Story {n}</h1>{PARAS}</article></body></html>"
        )
        server.expect_request(f"/a/{n}.html").respond_with_data(html, content_type="text/html")
    settings = make_settings(tmp_path, allow=[f"127.0.0.1:{server.port}"])
    feeds = [Feed("cond", f"{base}/feed.rss")]
    tables = ("articles", "events", "raw_pages")

    first = run_pass(feeds, settings, nlp=nlp, trigger="test")
    assert first.loaded and first.status == "ok"
    counts = {t: _db(settings.db_path, f"select count(*) from {t}")[0][0] for t in tables}
    assert counts["articles"] == 2 and counts["events"] > 0
    log_before = _db(settings.db_path, "select count(*) from fetch_log")[0][0]

    second = run_pass(feeds, settings, nlp=nlp, trigger="test")
    assert second.loaded and second.status == "ok"
    assert "If-None-Match" not in feed_requests[0]
    assert feed_requests[1]["If-None-Match"] == ETAG
    assert feed_requests[1]["If-Modified-Since"] == MODIFIED
    rows = _db(
        settings.db_path,
        "select kind, status, bytes, error from fetch_log "
        f"where run_id = '{second.run_id}' and kind <> 'robots'",
    )
    assert rows == [("feed", 304, 0, None)]  # and no article fetched again
    assert _db(
        settings.db_path,
        "select etag, last_modified, consecutive_failures, last_status "
        "from feeds where name = 'cond'",
    ) == [(ETAG, MODIFIED, 0, 304)]
    assert {t: _db(settings.db_path, f"select count(*) from {t}")[0][0] for t in tables} == counts
    assert _db(settings.db_path, "select count(*) from fetch_log")[0][0] > log_before
    (rate,) = _db(
        settings.db_path,
        f"select not_modified_rate from host_health where host = '127.0.0.1:{server.port}'",
    )[0]
    assert 0 < rate < 1
