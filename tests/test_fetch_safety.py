"""The fetch layer against hostile destinations and hostile servers.

The decision functions (blocked_reason, check_destination, parse_retry_after, sniff_binary,
backoff_delay) are tested alone, without a socket: that is where non-loopback ranges are
refused. Everything that opens a socket talks to 127.0.0.1 (or ::1) only. Redirect and
DNS-rebinding refusals use loopback addresses that are not on the allowlist, and names
are "resolved" by a fake resolver: a guard below makes any real name lookup fail.
"""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import brotli
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from pipeline.config import Settings
from pipeline.extract import decode_html
from pipeline.fetch import (
    AllowList,
    Fetcher,
    backoff_delay,
    blocked_reason,
    check_destination,
    make_client,
    parse_retry_after,
    resolve,
    sniff_binary,
)
from pipeline.records import Feed, Page, RunStats
from pipeline.run import ingest
from tests.test_fetch import _allow

SETTINGS = replace(
    Settings(),
    timeout_s=5.0,
    concurrency=4,
    user_agent="newsevents-test/1.0",
    per_host_delay_s=0.0,
    retries=0,
    respect_robots=False,
)


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here may look a name up for real: only IP literals (and localhost) pass."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        except OSError as exc:
            if name != "localhost":
                raise socket.gaierror(socket.EAI_NONAME, f"test: no DNS for {name}") from exc
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


# --- helpers: an asyncio server for responses werkzeug will not send -----------------------

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


def _response(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    head = {
        "Content-Length": str(len(body) if length is None else length),
        "Connection": "close",
        **(headers or {}),
    }
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return f"HTTP/1.1 {status} X\r\n{lines}\r\n".encode("latin-1") + body


@asynccontextmanager
async def raw_server(
    handler: Handler, host: str = "127.0.0.1"
) -> AsyncIterator[tuple[str, list[bytes]]]:
    """An HTTP/1.1 server on 127.0.0.1 in the test's own event loop (so that tracemalloc
    sees no server thread). Yields its base URL and the request heads it received."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            heads.append(head)
            await handler(head, writer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(serve, host, 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://{host}:{port}", heads


def _static(data: bytes) -> Handler:
    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(data)

    return handler


def _base(server: HTTPServer) -> str:
    """The server's base URL by address: url_for() says "localhost", a name."""
    return f"http://127.0.0.1:{server.port}"


def _only(settings: Settings, *servers: HTTPServer) -> Settings:
    """Settings whose allowlist holds exactly these servers' 127.0.0.1:port."""
    return replace(settings, allow_private_hosts=tuple(f"127.0.0.1:{s.port}" for s in servers))


async def _get(url: str, settings: Settings, **kwargs: Any) -> Page:
    async with make_client(settings) as client:
        return await Fetcher(settings, client, **kwargs).get(url)


def _run_raw(handler: Handler, path: str = "/page", settings: Settings = SETTINGS) -> Page:
    async def main() -> Page:
        async with raw_server(handler) as (base, _heads):
            return await _get(base + path, _allow(settings, base))

    return asyncio.run(main())


# --- decisions: the address guard ----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("240.0.0.1", ""),  # reserved (class E)
        ("198.18.0.1", ""),  # benchmarking range: not globally routable
        ("192.0.2.1", ""),  # documentation range
        ("not-an-address", "not an IP address"),
    ],
)
def test_blocked_reason_refuses_non_public_addresses(address: str, reason: str) -> None:
    got = blocked_reason(address)
    assert got is not None
    assert reason in got


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "100.128.0.1",
        "172.32.0.1",
        "2606:4700::1111",
        "2001:4860:4860::8888",
    ],
)
def test_blocked_reason_allows_public_addresses(address: str) -> None:
    assert blocked_reason(address) is None


def test_check_destination_allows_exact_host_port_by_name_or_address() -> None:
    allow = ["news.test:8080", "127.0.0.1:8765", "[::1]:9000"]
    # by name: the exception is for that exact name and port, whatever it resolves to
    assert check_destination("news.test", 8080, ["10.0.0.7"], allow) is None
    assert check_destination("news.test", 8081, ["10.0.0.7"], allow) is not None
    # by address
    assert check_destination("127.0.0.1", 8765, ["127.0.0.1"], allow) is None
    assert check_destination("other.test", 8765, ["127.0.0.1"], allow) is None
    assert check_destination("127.0.0.1", 8766, ["127.0.0.1"], allow) is not None
    assert check_destination("127.0.0.2", 8765, ["127.0.0.2"], allow) is not None
    # IPv6 in its [addr]:port form
    assert check_destination("::1", 9000, ["::1"], allow) is None
    assert check_destination("::1", 9001, ["::1"], allow) is not None
    assert check_destination("::1", 9000, ["::1"], ["::1:9000"]) is not None


def test_allow_entries_as_users_write_them() -> None:
    """A bare host allows every port; localhost:PORT the loopback addresses on that port;
    IPv6 literals bare or bracketed. Decided without opening a socket."""
    assert check_destination("127.0.0.1", 1234, ["127.0.0.1"], ["127.0.0.1"]) is None
    assert check_destination("127.0.0.1", 1, ["127.0.0.1"], ["127.0.0.1"]) is None
    assert check_destination("127.0.0.2", 1, ["127.0.0.2"], ["127.0.0.1"]) is not None
    assert check_destination("127.0.0.1", 8765, ["127.0.0.1"], ["localhost:8765"]) is None
    assert check_destination("::1", 8765, ["::1"], ["localhost:8765"]) is None
    assert check_destination("127.0.0.1", 8766, ["127.0.0.1"], ["localhost:8765"]) is not None
    assert check_destination("::1", 9, ["::1"], ["::1"]) is None  # bare IPv6: every port
    assert check_destination("::1", 9, ["0:0:0:0:0:0:0:1"], ["[::1]:9"]) is None
    assert check_destination("news.test", 80, ["10.1.2.3"], ["NEWS.test"]) is None


def test_allow_list_records_what_matched_and_rejects_nonsense() -> None:
    allow = AllowList(["127.0.0.1:8765", "localhost:9999"])
    assert check_destination("127.0.0.1", 8765, ["127.0.0.1"], allow) is None
    assert allow.unused() == ["localhost:9999"]
    for bad in ("127.0.0.1:http", "127.0.0.1:70000", "[::1]:x", "a b:80", "10.0.0.0/8"):
        with pytest.raises(ValueError, match="allow_private_hosts entry"):
            AllowList([bad])


def test_check_destination_checks_every_address() -> None:
    assert check_destination("news.test", 80, ["93.184.216.34"]) is None
    reason = check_destination("news.test", 80, ["93.184.216.34", "169.254.169.254"])
    assert reason is not None and "169.254.169.254" in reason
    allow = ["127.0.0.1:80"]
    assert check_destination("news.test", 80, ["127.0.0.1", "127.0.0.2"], allow) is not None


def test_check_destination_refuses_a_name_that_did_not_resolve() -> None:
    reason = check_destination("news.test", 80, [])
    assert reason is not None and "did not resolve" in reason


# --- decisions: Retry-After, magic bytes, backoff --------------------------------------------

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2015 09:27:30 GMT", 7200.0),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 30.0),  # RFC 850 form
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: no wait
    ],
)
def test_parse_retry_after(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "-5", "1.5", "5 seconds", "Mon, 99 Foo 99999 99:99:99 GMT"]
)
def test_parse_retry_after_garbage_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF87a\x01\x00", "GIF"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        (b"\x7fELF\x02\x01\x01", "executable"),
        (b"MZ\x90\x00\x03\x00", "executable"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", "MP4"),
    ],
)
def test_sniff_binary_recognises_binaries(head: bytes, kind: str) -> None:
    found = sniff_binary(head)
    assert found is not None and kind in found


@pytest.mark.parametrize(
    "head",
    [
        b"<!doctype html><html>",
        b"<?xml version='1.0'?><rss>",
        b"",
        b"Plain text, %PDF- later",
        b"  <html>",
        "<p>Café</p>".encode(),
    ],
)
def test_sniff_binary_passes_text(head: bytes) -> None:
    assert sniff_binary(head) is None


def test_backoff_delay_is_full_jitter_within_exponential_bounds() -> None:
    rng = random.Random(20251102)
    base = 0.5
    means = []
    for attempt in range(6):
        upper = base * 2**attempt
        samples = [backoff_delay(attempt, base, rng) for _ in range(400)]
        assert all(0 <= s <= upper for s in samples)
        assert max(samples) > 0.9 * upper and min(samples) < 0.1 * upper  # full jitter
        means.append(sum(samples) / len(samples))
        assert 0.4 * upper < means[-1] < 0.6 * upper
    assert means == sorted(means)
    one, two = random.Random(7), random.Random(7)
    assert [backoff_delay(3, base, one) for _ in range(5)] == [
        backoff_delay(3, base, two) for _ in range(5)
    ]


# --- URLs from feeds: only http(s), and malformed ones are errors, not exceptions -----------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/html,<p>hi</p>",
        "javascript:alert(1)",
        "ftp://127.0.0.1/feed.xml",
        "gopher://127.0.0.1:70/",
        "http:///no-host",
        "http://127.0.0.1:99999/port-out-of-range",
        "http://127.0.0.1:abc/",
        "http://[::1/broken-ipv6",
    ],
)
def test_bad_urls_are_refused_without_any_request(url: str) -> None:
    requests: list[httpx.Request] = []
    lookups: list[str] = []

    def transport(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, text="should not be here")

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    async def main() -> Page:
        settings = replace(SETTINGS, respect_robots=True, retries=2)
        async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
            return await Fetcher(settings, client, resolver=resolver).get(url)

    page = asyncio.run(main())
    assert page.error_class == "InvalidURL"
    assert page.body == b"" and page.retries == 0
    assert requests == [] and lookups == []


# --- the address guard, end to end on loopback -----------------------------------------------


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("robots", [False, True])
def test_loopback_server_not_on_the_allowlist_is_blocked(
    httpserver: HTTPServer, robots: bool
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    httpserver.expect_request("/page").respond_with_data("secret", content_type="text/html")
    settings = replace(SETTINGS, respect_robots=robots)
    page = asyncio.run(_get(_base(httpserver) + "/page", settings))
    assert page.error_class == "BlockedAddress"
    assert page.error is not None and "127.0.0.1" in page.error and "loopback" in page.error
    # the refusal names the setting that would allow it, for this host and port
    assert f"NEWS_ALLOW_PRIVATE_HOSTS=127.0.0.1:{httpserver.port}" in page.error
    assert page.body == b""
    assert httpserver.log == []


def test_redirect_to_a_loopback_port_not_allowed_is_blocked(
    httpserver: HTTPServer, other_server: HTTPServer
) -> None:
    target = _base(other_server) + "/internal"
    other_server.expect_request("/internal").respond_with_data("secret")
    httpserver.expect_request("/start").respond_with_response(
        Response("", status=302, headers={"Location": target})
    )
    settings = _only(SETTINGS, httpserver)  # the first server only
    page = asyncio.run(_get(_base(httpserver) + "/start", settings))
    assert page.error_class == "BlockedAddress"
    assert page.body == b""
    assert len(httpserver.log) == 1
    assert other_server.log == []


def test_redirect_between_allowed_servers_is_followed(
    httpserver: HTTPServer, other_server: HTTPServer
) -> None:
    other_server.expect_request("/there").respond_with_data("arrived")
    httpserver.expect_request("/start").respond_with_response(
        Response("", status=302, headers={"Location": _base(other_server) + "/there"})
    )
    settings = _only(SETTINGS, httpserver, other_server)
    page = asyncio.run(_get(_base(httpserver) + "/start", settings))
    assert page.ok and page.body == b"arrived"
    assert page.final_url == _base(other_server) + "/there"


def _fake_resolver(
    *answers: list[str],
) -> tuple[Callable[[str, int], Awaitable[list[str]]], list[str]]:
    """A resolver for names (IP literals resolve to themselves), giving the answers in
    turn (the last one repeats). No real DNS is involved."""
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        if host[0].isdigit() or ":" in host:
            return await resolve(host, port)
        calls.append(host)
        return list(answers[min(len(calls), len(answers)) - 1])

    return resolver, calls


@pytest.mark.parametrize("robots", [False, True])
def test_name_resolving_to_a_loopback_address_not_allowed_is_blocked(
    httpserver: HTTPServer, robots: bool
) -> None:
    httpserver.expect_request("/page").respond_with_data("secret")
    resolver, calls = _fake_resolver(["127.0.0.2"])
    settings = replace(_only(SETTINGS, httpserver), respect_robots=robots)
    url = f"http://news.test:{httpserver.port}/page"
    page = asyncio.run(_get(url, settings, resolver=resolver))
    assert page.error_class == "BlockedAddress"
    assert page.error is not None and "127.0.0.2" in page.error
    assert calls and set(calls) == {"news.test"}
    assert httpserver.log == []


def test_a_name_with_one_refused_address_among_several_is_blocked(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data("secret")
    resolver, _calls = _fake_resolver(["127.0.0.1", "127.0.0.2"])
    settings = _only(SETTINGS, httpserver)
    page = asyncio.run(
        _get(f"http://news.test:{httpserver.port}/page", settings, resolver=resolver)
    )
    assert page.error_class == "BlockedAddress"
    assert httpserver.log == []


def test_the_connection_goes_to_the_checked_address_resolved_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data("hello", content_type="text/html")
    resolver, calls = _fake_resolver(["127.0.0.1"])
    settings = _only(SETTINGS, httpserver)
    url = f"http://news.test:{httpserver.port}/page"
    page = asyncio.run(_get(url, settings, resolver=resolver))
    assert page.ok and page.body == b"hello"
    assert page.address == "127.0.0.1"
    assert page.final_url == url
    assert calls == ["news.test"]  # resolved once; the client did not look the name up again
    (request, _), *_ = httpserver.log
    assert request.headers["Host"] == f"news.test:{httpserver.port}"


def test_rebinding_between_redirect_hops_is_blocked(httpserver: HTTPServer) -> None:
    # The name first answers an allowed address, then (TTL 0) a loopback one that is not.
    port = httpserver.port
    httpserver.expect_request("/start").respond_with_response(
        Response("", status=302, headers={"Location": f"http://news.test:{port}/next"})
    )
    httpserver.expect_request("/next").respond_with_data("secret")
    resolver, calls = _fake_resolver(["127.0.0.1"], ["127.0.0.2"])
    settings = _only(SETTINGS, httpserver)
    page = asyncio.run(_get(f"http://news.test:{port}/start", settings, resolver=resolver))
    assert page.error_class == "BlockedAddress"
    assert calls == ["news.test", "news.test"]  # checked on every hop
    assert [r.path for r, _ in httpserver.log] == ["/start"]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_loopback_needs_its_bracketed_host_port_on_the_allowlist() -> None:
    server = HTTPServer(host="::1", port=0)
    server.start()
    try:
        server.expect_request("/page").respond_with_data("six", content_type="text/html")
        url = f"http://[::1]:{server.port}/page"
        refused = asyncio.run(_get(url, SETTINGS))
        assert refused.error_class == "BlockedAddress"
        assert server.log == []
        allowed = asyncio.run(
            _get(url, replace(SETTINGS, allow_private_hosts=(f"[::1]:{server.port}",)))
        )
        assert allowed.ok and allowed.body == b"six" and allowed.address == "::1"
    finally:
        server.clear()
        server.stop()


# --- deadline ----------------------------------------------------------------------------------


def test_server_dripping_a_byte_every_fifth_of_a_second_is_cut_at_the_deadline() -> None:
    async def drip(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_response(200, b"", {"Content-Type": "text/html"}, length=50))
        for _ in range(50):  # 10 s in all
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    started = time.monotonic()
    page = _run_raw(drip, settings=replace(SETTINGS, timeout_s=1.0))
    elapsed = time.monotonic() - started
    assert page.error_class == "Timeout"
    assert page.body == b""
    assert elapsed < 2.0


# --- size cap on decoded bytes -----------------------------------------------------------------


def _zeros(size: int, compressor: Any, finish: Callable[[], bytes]) -> bytes:
    chunk = b"\0" * 1_000_000
    out = [compressor(chunk) for _ in range(size // len(chunk))]
    return b"".join(out) + finish()


def _gzip_bomb(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return _zeros(size, c.compress, c.flush)


def _deflate_bomb(size: int, raw: bool = False) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return _zeros(size, c.compress, c.flush)


def _brotli_bomb(size: int) -> bytes:
    c = brotli.Compressor(quality=5)
    return _zeros(size, c.process, c.finish)


CAP = 200_000
BOMBS = {
    "gzip": ("gzip", lambda: _gzip_bomb(50_000_000)),
    "deflate-zlib": ("deflate", lambda: _deflate_bomb(50_000_000)),
    "deflate-raw": ("deflate", lambda: _deflate_bomb(50_000_000, raw=True)),
    "brotli": ("br", lambda: _brotli_bomb(500_000_000)),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_compression_bomb_stops_near_the_cap_with_bounded_memory(name: str) -> None:
    encoding, make = BOMBS[name]
    bomb = make()
    assert len(bomb) < CAP  # small on the wire, huge once decoded
    responses = {
        b"/warm": _response(200, b"<p>warm</p>", {"Content-Type": "text/html"}),
        b"/bomb": _response(200, bomb, {"Content-Type": "text/html", "Content-Encoding": encoding}),
    }

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(responses[head.split(b" ")[1]])

    async def main() -> tuple[Page, int]:
        async with raw_server(handler) as (base, _heads):
            settings = _allow(replace(SETTINGS, max_bytes=CAP), base)
            async with make_client(settings) as client:
                fetcher = Fetcher(settings, client)
                assert (await fetcher.get(base + "/warm")).ok  # imports, connection setup
                tracemalloc.start()
                try:
                    page = await fetcher.get(base + "/bomb")
                    return page, tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()

    page, peak = asyncio.run(main())
    assert page.error_class == "TooLarge"
    assert page.body == b""
    assert peak < 4 * CAP + 1_000_000, f"peak {peak:,} bytes while decoding a {name} bomb"


ENCODE = {
    "identity": ("", lambda b: b),
    "gzip": ("gzip", gzip.compress),
    "deflate": ("deflate", zlib.compress),
    "br": ("br", brotli.compress),
}


@pytest.mark.parametrize("name", list(ENCODE))
@pytest.mark.parametrize(("size", "ok"), [(CAP, True), (CAP + 1, False)])
def test_decoded_body_of_exactly_max_bytes_is_accepted(name: str, size: int, ok: bool) -> None:
    encoding, encode = ENCODE[name]
    body = (b"<p>" + b"a" * size)[:size]
    headers = {"Content-Type": "text/html", **({"Content-Encoding": encoding} if encoding else {})}
    page = _run_raw(
        _static(_response(200, encode(body), headers)), settings=replace(SETTINGS, max_bytes=CAP)
    )
    if ok:
        assert page.ok and page.body == body
    else:
        assert page.error_class == "TooLarge" and page.body == b""


def test_raw_deflate_body_is_decoded() -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = c.compress(b"<p>raw deflate</p>") + c.flush()
    page = _run_raw(
        _static(_response(200, data, {"Content-Type": "text/html", "Content-Encoding": "deflate"}))
    )
    assert page.ok and page.body == b"<p>raw deflate</p>"


@pytest.mark.parametrize(
    ("encoding", "body", "error_class"),
    [
        ("gzip", b"\x1f\x8b\x08\x00garbage-not-deflate", "DecodingError"),
        ("br", b"\xff\xff\xff\xff garbage", "DecodingError"),
        ("zstd", b"(\xb5/\xfd whatever", "UnsupportedContent"),
        ("gzip, br", b"whatever", "UnsupportedContent"),
    ],
)
def test_bad_or_unknown_content_encoding_is_an_error(
    encoding: str, body: bytes, error_class: str
) -> None:
    page = _run_raw(
        _static(_response(200, body, {"Content-Type": "text/html", "Content-Encoding": encoding}))
    )
    assert page.error_class == error_class
    assert page.body == b""


# --- redirects (hop limit and file: are in test_fetch.py) --------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "data:text/html,<p>hi</p>",
        "javascript:alert(1)",
        "ftp://127.0.0.1/x",
        "http://127.0.0.1:99999/x",
        "http://[::1/x",
    ],
)
def test_redirect_to_a_bad_url_is_invalid_not_a_crash(location: str) -> None:
    page = _run_raw(_static(_response(302, b"", {"Location": location})))
    assert page.error_class == "InvalidURL"
    assert page.body == b""


# --- Content-Type gate and magic bytes ---------------------------------------------------------


def _stalled(content_type: str | None, first: bytes = b"x" * 100) -> Handler:
    """Sends the headers and a little of a 10 MB body, then stalls: reading the body
    would run into the deadline."""

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        writer.write(_response(200, first, headers, length=10_000_000))
        await writer.drain()
        await asyncio.sleep(10)

    return handler


@pytest.mark.parametrize(
    "content_type",
    [
        "application/pdf",
        "image/png",
        "image/jpeg; q=1",
        "application/zip",
        "application/octet-stream",
        "video/mp4",
        "APPLICATION/PDF",
    ],
)
def test_binary_content_type_is_refused_without_reading_the_body(content_type: str) -> None:
    started = time.monotonic()
    page = _run_raw(_stalled(content_type), settings=replace(SETTINGS, timeout_s=3.0))
    assert page.error_class == "UnsupportedContent"
    assert page.error is not None and content_type.split(";")[0].lower() in page.error
    assert page.status == 200 and page.body == b""
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("first", "kind"),
    [
        (b"%PDF-1.7\n" + b"x" * 100, "PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "PNG"),
        (b"PK\x03\x04" + b"\0" * 100, "ZIP"),
    ],
)
@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", None])
def test_binary_body_under_an_html_type_is_refused_by_magic_bytes(
    first: bytes, kind: str, content_type: str | None
) -> None:
    started = time.monotonic()
    page = _run_raw(_stalled(content_type, first), settings=replace(SETTINGS, timeout_s=3.0))
    assert page.error_class == "UnsupportedContent"
    assert page.error is not None and kind in page.error
    assert time.monotonic() - started < 1.5


def test_magic_bytes_split_across_tiny_chunks_are_still_seen() -> None:
    body = b"%PDF-1.4\n" + b"x" * 40

    async def trickle(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_response(200, b"", {"Content-Type": "text/html"}, length=len(body)))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.002)

    page = _run_raw(trickle)
    assert page.error_class == "UnsupportedContent"
    assert page.error is not None and "PDF" in page.error


def test_short_binary_body_is_refused() -> None:
    page = _run_raw(_static(_response(200, b"GIF89a", {"Content-Type": "text/html"})))
    assert page.error_class == "UnsupportedContent"


# --- encoding: what tests/test_extract.py does not cover yet ---------------------------------


RUSSIAN = "<p>" + "Министр иностранных дел России заявил, что переговоры продолжатся. " * 4


def test_charset_is_detected_when_nothing_declares_it() -> None:
    assert "Министр иностранных дел" in decode_html(RUSSIAN.encode("cp1251"), "text/html")


def test_detection_is_used_when_the_declared_charset_is_wrong() -> None:
    decoded = decode_html(RUSSIAN.encode("cp1251"), "text/html; charset=utf-8")
    assert "Министр иностранных дел" in decoded


@pytest.mark.parametrize("declared", ["text/html; charset=utf-8", "text/html", None])
def test_a_stray_invalid_byte_is_marked_not_garbled(declared: str | None) -> None:
    body = '<meta charset="utf-8"><p>Café in Zürich</p>'.encode() + b"\xff"
    decoded = decode_html(body, declared)
    assert "Café in Zürich" in decoded
    assert "\ufffd" in decoded


def test_undeclared_latin1_french_text_is_not_garbled() -> None:
    text = "Le café crème à la française, déjà très apprécié à Genève. "
    decoded = decode_html(("<p>" + text * 4 + "</p>").encode("latin-1"), None)
    assert text in decoded


def test_undeclared_cyrillic_text_is_still_detected() -> None:
    text = "Министры иностранных дел России и Китая встретились в Москве во вторник. "
    decoded = decode_html(("<p>" + text * 4 + "</p>").encode("cp1251"), None)
    assert text in decoded


def test_the_fetched_content_type_reaches_the_decoder(httpserver: HTTPServer) -> None:
    body = "<p>Le café crème à Genève</p>".encode("latin-1")
    httpserver.expect_request("/fr").respond_with_data(
        body, content_type="text/html; charset=ISO-8859-1"
    )
    page = asyncio.run(_get(_base(httpserver) + "/fr", _only(SETTINGS, httpserver)))
    assert page.ok and page.body == body
    assert "café crème à Genève" in decode_html(page.body, page.content_type)


def _loopback_alias() -> bool:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _loopback_alias(), reason="127.0.0.2 is not a loopback alias here")
def test_the_address_actually_connected_to_is_checked() -> None:
    # A transport that (like a poisoned resolver below httpx) connects elsewhere than the
    # checked address: the response is refused because of the peer it came from.
    class Misrouting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(host="127.0.0.2")
            return await super().handle_async_request(request)

    async def main() -> tuple[Page, int]:
        ok = _static(_response(200, b"<p>x</p>", {"Content-Type": "text/html"}))
        async with raw_server(ok, host="127.0.0.2") as (base, heads):
            port = int(base.rsplit(":", 1)[1])
            settings = replace(SETTINGS, allow_private_hosts=(f"127.0.0.1:{port}",))
            async with httpx.AsyncClient(transport=Misrouting()) as client:
                page = await Fetcher(settings, client).get(f"http://127.0.0.1:{port}/")
            return page, len(heads)

    page, requests = asyncio.run(main())
    assert requests == 1  # the check comes after connecting: the request was sent
    assert page.error_class == "BlockedAddress"
    assert page.error is not None and "127.0.0.2" in page.error


@pytest.mark.parametrize(
    "address",
    ["2002:a00:1::1", "2002:7f00:1::1", "2002:c0a8:101::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe"],
)
def test_ipv6_addresses_embedding_private_ipv4_are_refused(address: str) -> None:
    # 6to4 (2002::/16) carrying 10.0.0.1 / 127.0.0.1 / 192.168.1.1, and Teredo carrying
    # 10.0.0.1 as its client address.
    assert blocked_reason(address) is not None


def test_a_6to4_address_embedding_a_public_ipv4_is_judged_by_it() -> None:
    assert blocked_reason("2002:808:808::1") is None or "embedding" not in (
        blocked_reason("2002:808:808::1") or ""
    )


def test_an_allow_entry_that_matched_nothing_is_warned_about(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        "<rss><channel><title>t</title></channel></rss>", content_type="application/rss+xml"
    )
    used, unused = f"127.0.0.1:{httpserver.port}", "localhost:1"
    settings = replace(SETTINGS, allow_private_hosts=(used, unused), respect_robots=False)
    feed = Feed(name="f", url=f"http://127.0.0.1:{httpserver.port}/feed.xml")
    with caplog.at_level("WARNING", logger="pipeline.run"):
        ingest([feed], settings, {}, RunStats())
    warned = [r.getMessage() for r in caplog.records if "matched no request" in r.getMessage()]
    assert len(warned) == 1 and repr(unused) in warned[0] and used not in warned[0]
