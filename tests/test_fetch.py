"""fetch_all against a real pytest-httpserver on 127.0.0.1.

A failure never raises: it comes back as a Page with error_class set.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.config import Settings
from pipeline.fetch import MAX_REDIRECTS, fetch_all
from pipeline.records import Page

# The servers here listen on 127.0.0.1, which the address guard refuses unless allowed;
# _allow() opens exactly the test server's host:port. robots.txt is tested elsewhere.
SETTINGS = replace(
    Settings(), timeout_s=5.0, concurrency=4, user_agent="newsevents-test/1.0",
    per_host_delay_s=0.0, retries=0, respect_robots=False,
)  # fmt: skip


def _allow(settings: Settings, *urls: str) -> Settings:
    hosts = tuple(urlsplit(u).netloc for u in urls)
    return replace(settings, allow_private_hosts=settings.allow_private_hosts + hosts)


def _fetch(url: str, settings: Settings = SETTINGS) -> Page:
    return fetch_all([url], _allow(settings, url))[0]


def _redirect(location: str, status: int = 302) -> Response:
    return Response("", status=status, headers={"Location": location})


def test_ok_page_has_body_status_content_type_and_final_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/story.html").respond_with_data(
        "<html><body>hello</body></html>", content_type="text/html; charset=utf-8"
    )
    url = httpserver.url_for("/story.html")
    page = _fetch(url)
    assert page.ok
    assert page.status == 200
    assert page.body == b"<html><body>hello</body></html>"
    assert page.content_type == "text/html; charset=utf-8"
    assert page.url == url
    assert page.final_url == url
    assert page.error_class is None
    assert page.duration_ms >= 0


def test_redirect_is_followed_and_final_url_recorded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_response(_redirect("/new", 301))
    httpserver.expect_request("/new").respond_with_data("moved here")
    page = _fetch(httpserver.url_for("/old"))
    assert page.ok
    assert page.url == httpserver.url_for("/old")
    assert page.final_url == httpserver.url_for("/new")
    assert page.body == b"moved here"


def test_http_error_status_has_error_class_and_empty_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("the 404 page body", status=404)
    page = _fetch(httpserver.url_for("/gone"))
    assert not page.ok
    assert page.status == 404
    assert page.error_class == "HTTPStatus"
    assert page.error is not None
    assert "404" in page.error
    assert page.body == b""


def test_server_error_is_an_http_status_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/boom").respond_with_data("oops", status=503)
    page = _fetch(httpserver.url_for("/boom"))
    assert (page.status, page.error_class, page.body) == (503, "HTTPStatus", b"")


def test_redirect_loop_is_too_many_redirects(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_response(_redirect("/loop"))
    page = _fetch(httpserver.url_for("/loop"))
    assert not page.ok
    assert page.error_class == "TooManyRedirects"
    assert page.body == b""
    # The client gave up: it did not keep following the loop.
    assert len(httpserver.log) == MAX_REDIRECTS + 1


def _chain(httpserver: HTTPServer, hops: int) -> str:
    for i in range(hops):
        httpserver.expect_request(f"/hop{i}").respond_with_response(_redirect(f"/hop{i + 1}"))
    httpserver.expect_request(f"/hop{hops}").respond_with_data("arrived")
    return httpserver.url_for("/hop0")


def test_five_redirects_are_followed(httpserver: HTTPServer) -> None:
    page = _fetch(_chain(httpserver, MAX_REDIRECTS))
    assert page.ok
    assert page.body == b"arrived"
    assert page.final_url == httpserver.url_for(f"/hop{MAX_REDIRECTS}")


def test_six_redirects_are_too_many(httpserver: HTTPServer) -> None:
    page = _fetch(_chain(httpserver, MAX_REDIRECTS + 1))
    assert page.error_class == "TooManyRedirects"


def test_redirect_to_a_file_url_is_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sneaky").respond_with_response(_redirect("file:///etc/passwd"))
    page = _fetch(httpserver.url_for("/sneaky"))
    assert page.error_class == "InvalidURL"
    assert page.body == b""


def test_body_over_max_bytes_is_too_large(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    page = _fetch(httpserver.url_for("/big"), replace(SETTINGS, max_bytes=1000))
    assert not page.ok
    assert page.error_class == "TooLarge"
    assert page.body == b""


def test_body_of_exactly_max_bytes_is_accepted(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/exact").respond_with_data(b"x" * 1000)
    page = _fetch(httpserver.url_for("/exact"), replace(SETTINGS, max_bytes=1000))
    assert page.ok
    assert len(page.body) == 1000


def test_max_bytes_applies_to_the_decompressed_body(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)  # about 1 KB on the wire
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html"
    )
    page = _fetch(httpserver.url_for("/bomb"), replace(SETTINGS, max_bytes=100_000))
    assert len(bomb) < 100_000
    assert page.error_class == "TooLarge"


def test_gzip_body_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(b"<p>squeezed</p>"), headers={"Content-Encoding": "gzip"}
    )
    assert _fetch(httpserver.url_for("/gz")).body == b"<p>squeezed</p>"


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets a deliberately slow handler finish as soon as the test is done with it, so the
    (single-threaded) test server is free again for the next test."""
    event = threading.Event()
    yield event
    event.set()


def test_slow_server_is_a_timeout(httpserver: HTTPServer, release: threading.Event) -> None:
    def stall(request: Request) -> Response:
        release.wait(2.0)
        return Response("too late")

    httpserver.expect_request("/slow").respond_with_handler(stall)
    started = time.monotonic()
    page = _fetch(httpserver.url_for("/slow"), replace(SETTINGS, timeout_s=0.5))
    elapsed = time.monotonic() - started
    release.set()
    assert page.error_class == "Timeout"
    assert page.body == b""
    assert elapsed < 1.5


def test_dripping_server_hits_the_whole_request_deadline(
    httpserver: HTTPServer, release: threading.Event
) -> None:
    # Each chunk arrives well within the read timeout, but the response as a whole
    # takes longer than timeout_s: the deadline must cut it off.
    def drip(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                if release.wait(0.1):
                    return
                yield b"x" * 16

        return Response(chunks(), content_type="text/html")

    httpserver.expect_request("/drip").respond_with_handler(drip)
    started = time.monotonic()
    page = _fetch(httpserver.url_for("/drip"), replace(SETTINGS, timeout_s=0.5))
    elapsed = time.monotonic() - started
    release.set()
    assert page.error_class == "Timeout"
    assert page.error is not None
    assert "deadline" in page.error
    assert elapsed < 1.5


def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    page = _fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert not page.ok
    assert page.error_class == "ConnectError"
    assert page.status is None
    assert page.body == b""
    assert page.final_url == page.url


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "not a url"])
def test_unsupported_url_is_an_error_not_an_exception(url: str) -> None:
    assert _fetch(url).error_class == "InvalidURL"


def test_user_agent_is_the_configured_one(httpserver: HTTPServer) -> None:
    ua = "newsevents-test/1.0 (contact: qa@example.org)"
    httpserver.expect_request("/ua", headers={"User-Agent": ua}).respond_with_data("hi")
    page = _fetch(httpserver.url_for("/ua"), replace(SETTINGS, user_agent=ua))
    assert page.status == 200
    assert page.body == b"hi"
    (request, _response), *_ = httpserver.log
    assert request.headers["User-Agent"] == ua


def test_fetch_all_keeps_input_order(threaded_server: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("slow")

    # The first URL answers last, so completion order differs from input order.
    threaded_server.expect_request("/slow").respond_with_handler(slow)
    for name in ("a", "b", "c"):
        threaded_server.expect_request(f"/{name}").respond_with_data(name)
    threaded_server.expect_request("/missing").respond_with_data("", status=404)
    urls = [threaded_server.url_for(p) for p in ("/slow", "/a", "/missing", "/b", "/c", "/a")]
    pages = fetch_all(urls, _allow(SETTINGS, *urls))
    assert [p.url for p in pages] == urls
    assert [p.body for p in pages] == [b"slow", b"a", b"", b"b", b"c", b"a"]
    assert [p.status for p in pages] == [200, 200, 404, 200, 200, 200]


def test_fetch_all_of_nothing_is_empty() -> None:
    assert fetch_all([], SETTINGS) == []
