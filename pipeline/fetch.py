"""Fetch: the only module that speaks HTTP. Polite, incremental and safe.

* **Polite.** robots.txt is read once per site and obeyed (RFC 9309: a 4xx means allow, a
  5xx or no answer means disallow for this run), including Crawl-delay. Each host gets at
  most `per_host_concurrency` requests at a time and at least `per_host_delay_s` between
  request starts; `concurrency` caps the total. Requests carry the configured User-Agent.
  A Fetcher keeps these per-host limits for its own requests; given a `HostGate`
  (pipeline.politeness), as every ingest is, it keeps them together with every other
  process using the gate's directory, such as Airflow's mapped `ingest_feed` tasks. The
  gate counts the delay from when a request really left, and shares Retry-After and
  Crawl-delay too. (robots.txt is still read once per Fetcher, and a host skipped for a
  long Retry-After is skipped by that Fetcher only.)
* **Persistent.** 408, 429, 5xx and connection failures are retried with exponential
  backoff and jitter; Retry-After (seconds or an HTTP date) is honoured up to
  `retry_after_cap_s`, and beyond it the host is skipped for the rest of the run.
  403, 404, 410 and other client errors are not retried.
* **Safe.** Every request has a whole-request deadline (a server dripping one byte a
  second is cut off), a cap on decoded bytes (a compression bomb stops near the cap), at
  most five redirects and only http/https. The destination is resolved once, checked
  against loopback, private, link-local, CGNAT, multicast, reserved and IPv4-mapped
  ranges, and the connection goes to that checked address, on every redirect hop, so a
  DNS rebinding cannot slip past the check. `allow_private_hosts` lists exact host:port
  exceptions (the demo and the tests use it for their 127.0.0.1 servers). PDFs, images
  and other binaries are refused by Content-Type and by their magic bytes.

A failure never raises: it comes back as a `Page` with `error_class` and `error`, so one
bad URL never stops a run. The decision functions (`blocked_reason`,
`check_destination`, `parse_retry_after`, `sniff_binary`) are pure and tested alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import logging
import random
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import brotli
import httpx
from protego import Protego

from pipeline.config import Settings
from pipeline.politeness import HostGate
from pipeline.records import Page

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_ERRORS = frozenset({"ConnectError", "Timeout", "NetworkError"})
ROBOTS_AGENT = "newsevents"

_XML = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
        "application/xml", "text/xml", "application/x-rss+xml")  # fmt: skip
_HTML = ("text/html", "application/xhtml+xml")
# What each kind of fetch accepts. A feed URL that serves HTML is fetched, so that the
# parser can say "not a feed"; an article that is a PDF is refused before its body.
ACCEPTED = {
    "feed": (*_XML, *_HTML, "text/plain", "application/octet-stream"),
    "article": (*_HTML, "text/plain"),
    "robots": ("text/plain", *_HTML),
}
_MAGIC = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"RIFF", "RIFF media"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg media"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
)


# --- decisions (pure) ---------------------------------------------------------------------


def blocked_reason(address: str) -> str | None:
    """Why connecting to this IP address is refused, or None if it is a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return "IPv4-mapped IPv6 address"
    if isinstance(ip, ipaddress.IPv6Address):
        # 6to4 and Teredo addresses carry an IPv4 address inside: judge that one too.
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and blocked_reason(str(embedded)):
            return f"IPv6 address embedding {embedded} ({blocked_reason(str(embedded))})"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local (incl. cloud metadata)", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("CGNAT", ip in ipaddress.ip_network("100.64.0.0/10")),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _norm_host(host: str) -> str:
    host = host.strip().strip("[]").lower()
    try:
        return str(ipaddress.ip_address(host))  # "0:0:0:0:0:0:0:1" and "::1" are one host
    except ValueError:
        return host


# "localhost" in an allow entry stands for the addresses it resolves to here.
_LOCALHOST = ("localhost", "127.0.0.1", "::1")


class AllowList:
    """Exceptions to the private-address guard, as users write them: "127.0.0.1:8765"
    (that host and port), "127.0.0.1" (every port), "localhost:8765" (the loopback
    addresses on that port), "[::1]:8765" and "::1" (IPv6 literals). Each entry matches
    by host name or by resolved address. `used` records which entries matched."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.entries: dict[str, list[tuple[str, int | None]]] = {}
        self.used: set[str] = set()
        for entry in entries:
            if entry.strip():  # an empty entry (a trailing comma) allows nothing
                self.entries[entry] = self._parse(entry)

    @staticmethod
    def _parse(entry: str) -> list[tuple[str, int | None]]:
        text = entry.strip()
        host, port = text, None
        if text.startswith("["):  # [::1]:8765 or [::1]
            inside, _, rest = text[1:].partition("]")
            host, port_text = inside, rest.removeprefix(":")
            port = _port(entry, port_text) if port_text else None
        elif text.count(":") == 1:  # host:port
            host, port_text = text.split(":")
            port = _port(entry, port_text)
        elif text.count(":") > 1:  # a bare IPv6 literal
            host = text
        if not host or " " in host or "/" in host:
            raise ValueError(f"allow_private_hosts entry {entry!r}: expected HOST, HOST:PORT "
                             "or [IPV6]:PORT")  # fmt: skip
        host = _norm_host(host)
        hosts = _LOCALHOST if host == "localhost" else (host,)
        return [(h, port) for h in hosts]

    def allows(self, host: str, port: int) -> bool:
        key = _norm_host(host)
        for entry, pairs in self.entries.items():
            if any(h == key and p in (None, port) for h, p in pairs):
                self.used.add(entry)
                return True
        return False

    def unused(self) -> list[str]:
        return [e for e in self.entries if e not in self.used]


def _port(entry: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"allow_private_hosts entry {entry!r}: {text!r} is not a port")
    return int(text)


def check_destination(
    host: str, port: int, addresses: Sequence[str], allow: AllowList | Iterable[str] = ()
) -> str | None:
    """None if every resolved address may be contacted, else why not, and what setting
    would allow it.

    `allow` holds the exceptions (AllowList), by name or by address."""
    allowed = allow if isinstance(allow, AllowList) else AllowList(allow)
    if not addresses:
        return f"{host} did not resolve"
    if allowed.allows(host, port):
        return None
    for address in addresses:
        if allowed.allows(address, port):
            continue
        reason = blocked_reason(address)
        if reason:
            return (
                f"{host} resolves to {address} ({reason}); refused. If you trust it, allow "
                f"it: NEWS_ALLOW_PRIVATE_HOSTS={_hostport(_norm_host(host), port)} (or "
                "allow_private_hosts in the settings file; HOST alone allows every port)"
            )
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def sniff_binary(head: bytes) -> str | None:
    """The kind of binary file these first bytes start, if any."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "MP4 media"
    return None


def backoff_delay(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform(0, base * 2**attempt)."""
    return (rng or random).uniform(0, base * (2**attempt))


class _Failure(Exception):
    def __init__(self, error_class: str, error: str, status: int | None = None,
                 retry_after: float | None = None) -> None:  # fmt: skip
        super().__init__(error)
        self.error_class, self.error, self.status, self.retry_after = (
            error_class, error, status, retry_after,
        )  # fmt: skip


def _split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or an InvalidURL failure. A
    malformed URL (bad port, broken IPv6 literal) is a failure, never a ValueError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _Failure("InvalidURL", f"malformed URL {url[:200]!r}: {exc}") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _Failure("InvalidURL", f"refusing non-http(s) URL {url[:200]!r}")
    port = port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port


class _Decoder:
    """Content-Encoding decoding that yields at most about `limit` bytes per call, so a
    compression bomb stops near the size cap instead of being inflated whole in memory
    (httpx's own decoders inflate each network chunk without a bound)."""

    def __init__(self, encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise _Failure("UnsupportedContent", f"stacked content encodings {encoding!r}")
        self.coding = codings[0] if codings else ""
        self.inflater: Any = None
        self.brotli: Any = None
        self.first = True
        if self.coding in {"gzip", "x-gzip"}:
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self.inflater = zlib.decompressobj()
        elif self.coding == "br":
            self.brotli = brotli.Decompressor()
        elif self.coding:
            raise _Failure("UnsupportedContent", f"content encoding {self.coding!r}")

    def decode(self, data: bytes, limit: int) -> bytes:
        try:
            if self.inflater is not None:
                return self._inflate(data, limit)
            if self.brotli is not None:
                out = self.brotli.process(data, output_buffer_limit=limit)
                while len(out) < limit and not self.brotli.can_accept_more_data():
                    out += self.brotli.process(b"", output_buffer_limit=limit - len(out))
                return bytes(out)
        except (zlib.error, brotli.error) as exc:
            raise _Failure("DecodingError", f"bad {self.coding} body: {exc}") from exc
        return data

    def _inflate(self, data: bytes, limit: int) -> bytes:
        # zlib stops at `limit` bytes of output; below that, all the input was consumed.
        try:
            out = self.inflater.decompress(data, limit)
        except zlib.error:
            if not (self.first and self.coding == "deflate"):
                raise
            # "deflate" sent as a raw stream, without the zlib wrapper, as some servers do
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.inflater.decompress(data, limit)
        self.first = self.first and not data
        return bytes(out)

    def flush(self, limit: int) -> bytes:
        if self.inflater is None:
            return b""
        try:
            return bytes(self.inflater.flush(limit))
        except zlib.error as exc:
            raise _Failure("DecodingError", f"bad {self.coding} body: {exc}") from exc


# --- the fetcher ----------------------------------------------------------------------------


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    skipped: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    name: str = ""  # the host's name in the gate: host[:port], lower case, no user info


@dataclass
class _Result:
    final_url: str
    status: int
    content_type: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...]
    address: str


Resolver = Callable[[str, int], Awaitable[list[str]]]
Sent = Callable[[], Awaitable[None]]


class _Sent:
    """Tells the gate, once, that a claimed request has left, so that the host's next
    start is counted from then: the start was claimed before the connection was made,
    and a new connection, TLS or a fresh process's first request take tens to hundreds
    of milliseconds. Also called when the request ends without leaving."""

    def __init__(self, gate: HostGate, host: _Host) -> None:
        self.gate, self.host, self.done = gate, host, False

    async def __call__(self) -> None:
        if not self.done:
            self.done = True
            await asyncio.to_thread(self.gate.sent, self.host.name, self.host.delay)


def _when_sent(sent: Sent) -> Callable[[str, Any], Awaitable[None]]:
    """An httpcore trace callback that awaits `sent` as the request headers go out."""

    async def trace(event: str, info: Any) -> None:
        if event.endswith(".send_request_headers.started"):
            await sent()

    return trace


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, resolved once per request (and per redirect hop)."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _Failure("ConnectError", f"cannot resolve {host}: {exc.strerror}") from exc
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


class Fetcher:
    """One run's HTTP state: per-host politeness, robots.txt, skipped hosts, and a log of
    the robots.txt fetches themselves.

    With a `gate`, the per-host limits also hold together with every other process (and
    Fetcher) using the gate's directory; without one they hold within this Fetcher."""

    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient,
        resolver: Resolver | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.resolver = resolver or resolve
        self.gate = gate
        self.allow = AllowList(settings.allow_private_hosts)
        self.global_sem = asyncio.Semaphore(settings.concurrency)
        self.hosts: dict[str, _Host] = {}
        self.robots: dict[str, Protego | bool] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}
        self.robots_pages: list[Page] = []
        self.robots_blocked: dict[str, bool] = {}
        self.rng = random.Random()

    def _host(self, netloc: str) -> _Host:
        if netloc not in self.hosts:
            self.hosts[netloc] = _Host(
                asyncio.Semaphore(self.settings.per_host_concurrency),
                self.settings.per_host_delay_s,
                name=netloc.rsplit("@", 1)[-1].lower(),
            )
        return self.hosts[netloc]

    @contextlib.asynccontextmanager
    async def _slot(self, host: _Host) -> AsyncIterator[None]:
        """One of the host's in-flight slots in the gate (shared with other processes),
        held for the request; polled with sleeps, as the event loop must not wait on a
        lock. Without a gate the host's semaphore alone caps it."""
        if self.gate is None:
            yield
            return
        pause = 0.01
        while (slot := self.gate.try_slot(host.name, self.settings.per_host_concurrency)) is None:
            await asyncio.sleep(pause)
            pause = min(2 * pause, 0.25)
        try:
            yield
        finally:
            slot.release()

    async def _turn(self, host: _Host) -> None:
        """Wait until this host may be sent another request, then take a global slot (the
        caller releases it). The global slot is taken only after the per-host wait, so a
        host's politeness pause or a busy host never holds a slot another host could use;
        the start is stamped once both are held, so starts to a host stay `delay` apart.
        With a gate, the start is claimed there too (`_claim`)."""
        async with host.lock:
            wait = host.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.gate is None:
                await self.global_sem.acquire()
            else:
                await self._claim(self.gate, host)
            host.next_start = time.monotonic() + host.delay

    async def _claim(self, gate: HostGate, host: _Host) -> None:
        """Wait for the host's turn in the gate (other processes' requests count), take a
        global slot, and claim the start. If another process started a request to the
        host meanwhile, the slot is given back and the wait begins again. The gate's
        calls take a file lock, so they run in a thread."""
        while True:
            wait = await asyncio.to_thread(gate.wait_s, host.name)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self.global_sem.acquire()
            try:
                wait = await asyncio.to_thread(
                    gate.claim, host.name, host.delay, self.settings.timeout_s
                )
            except BaseException:
                self.global_sem.release()
                raise
            if wait <= 0:
                return
            self.global_sem.release()

    # -- one request, redirects followed by hand -------------------------------------------

    async def _once(
        self, url: str, kind: str, headers: Mapping[str, str], sent: Sent | None = None
    ) -> _Result:
        """`sent` is awaited when the first request's headers go out (not redirects)."""
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            scheme, host, port = _split(current)
            parts = urlsplit(current)
            addresses = await self.resolver(host, port)
            reason = check_destination(host, port, addresses, self.allow)
            if reason:
                raise _Failure("BlockedAddress", reason)
            address = addresses[0]
            netloc = _hostport(address, port) if ":" in address else f"{address}:{port}"
            target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            send = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
            extensions: dict[str, Any] = {"sni_hostname": host} if scheme == "https" else {}
            if sent is not None and hop == 0:
                extensions["trace"] = _when_sent(sent)
            async with self.client.stream(
                "GET", target, headers=send, extensions=extensions
            ) as response:
                peer = _peer_address(response)
                if peer and peer != address and check_destination(peer, port, [peer], self.allow):
                    raise _Failure("BlockedAddress", f"connected to {peer}, not {address}")
                status = response.status_code
                if status in {301, 302, 303, 307, 308} and "location" in response.headers:
                    location = response.headers["location"].strip()
                    try:
                        current = urljoin(current, location)
                    except ValueError as exc:
                        raise _Failure("InvalidURL", f"bad redirect {location[:200]!r}") from exc
                    continue
                ctype = response.headers.get("content-type")
                result_headers = tuple(response.headers.items())
                if status == 304 or status >= 400:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    if status >= 400:
                        raise _Failure(
                            "HTTPStatus", f"HTTP {status} {response.reason_phrase}".strip(),
                            status, retry_after,
                        )  # fmt: skip
                    return _Result(current, status, ctype, b"", result_headers, address)
                mime = (ctype or "").split(";")[0].strip().lower()
                if mime and not mime.startswith(ACCEPTED[kind]):
                    raise _Failure("UnsupportedContent", f"content type {mime} is not {kind}",
                                   status)  # fmt: skip
                body = await self._read_body(response, status)
                return _Result(current, status, ctype, body, result_headers, address)
        raise _Failure("TooManyRedirects", f"more than {MAX_REDIRECTS} redirects")

    async def _read_body(self, response: httpx.Response, status: int) -> bytes:
        """The decoded body, refused past max_bytes (decoding is bounded, so a bomb never
        inflates far beyond the cap) or when its first bytes are a binary format."""
        cap = self.settings.max_bytes
        try:
            decoder = _Decoder(response.headers.get("content-encoding"))
        except _Failure as failure:
            failure.status = status
            raise
        body = bytearray()
        sniffed = False

        def add(piece: bytes) -> None:
            nonlocal sniffed
            body.extend(piece)
            if len(body) > cap:
                raise _Failure("TooLarge", f"body exceeds {cap} bytes", status)
            if not sniffed and len(body) >= 16:
                sniffed = True
                binary = sniff_binary(bytes(body[:16]))
                if binary:
                    raise _Failure("UnsupportedContent", f"body is a {binary}", status)

        async for raw in response.aiter_raw():
            add(decoder.decode(raw, cap - len(body) + 1))
        add(decoder.flush(cap - len(body) + 1))
        if not sniffed and sniff_binary(bytes(body)):
            raise _Failure("UnsupportedContent", f"body is a {sniff_binary(bytes(body))}", status)
        return bytes(body)

    async def _attempt(
        self, url: str, kind: str, headers: Mapping[str, str], sent: Sent | None = None
    ) -> _Result:
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                return await self._once(url, kind, headers, sent)
        except TimeoutError as exc:
            raise _Failure("Timeout", f"deadline of {self.settings.timeout_s}s passed") from exc
        except httpx.TimeoutException as exc:
            raise _Failure("Timeout", f"{type(exc).__name__}") from exc
        except httpx.ConnectError as exc:
            raise _Failure("ConnectError", str(exc) or "connection failed") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise _Failure("InvalidURL", str(exc)) from exc
        except (httpx.DecodingError, httpx.TooManyRedirects) as exc:
            raise _Failure(type(exc).__name__, str(exc)) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if "location header" in str(exc):  # httpx parses every Location it sees
                raise _Failure("InvalidURL", f"bad redirect: {exc}") from exc
            raise _Failure("NetworkError", f"{type(exc).__name__}: {exc}") from exc

    # -- robots.txt ----------------------------------------------------------------------

    async def allowed_by_robots(self, url: str) -> bool:
        origin = _origin(url)
        lock = self.robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self.robots:
                self.robots[origin] = await self._load_robots(origin)
        rules = self.robots[origin]
        if isinstance(rules, bool):
            return rules
        return bool(rules.can_fetch(url, ROBOTS_AGENT))

    async def _refused(self, host: str, port: int) -> str | None:
        """Why the address guard refuses this host, if it does (None also when it does not
        resolve: that is not a refusal)."""
        try:
            addresses = await self.resolver(host, port)
        except _Failure:
            return None
        return check_destination(host, port, addresses, self.allow)

    async def _load_robots(self, origin: str) -> Protego | bool:
        page = await self.get(f"{origin}/robots.txt", "robots", check_robots=False, retries=1)
        self.robots_pages.append(page)
        self.robots_blocked[origin] = page.error_class == "BlockedAddress"
        if page.status is not None and 400 <= page.status < 500:
            return True  # RFC 9309: unavailable -> no rules
        if not page.ok or page.status is None or page.status >= 500:
            return False  # RFC 9309: unreachable -> complete disallow (for this run)
        rules = Protego.parse(page.body.decode("utf-8", errors="replace"))
        delay = rules.crawl_delay(ROBOTS_AGENT)
        if delay:
            host = self._host(urlsplit(origin).netloc)
            new_delay = max(host.delay, min(float(delay), self.settings.retry_after_cap_s))
            host.next_start += new_delay - host.delay  # counted from the robots.txt fetch
            host.delay = new_delay
            if self.gate is not None:
                await asyncio.to_thread(self.gate.space, host.name, new_delay)
        return rules

    # -- the public call -----------------------------------------------------------------

    async def get(
        self,
        url: str,
        kind: str = "article",
        headers: Mapping[str, str] | None = None,
        *,
        check_robots: bool = True,
        retries: int | None = None,
    ) -> Page:
        started, when = time.monotonic(), datetime.now(UTC)
        retries = self.settings.retries if retries is None else retries

        def failed(error_class: str, error: str, status: int | None = None, tries: int = 0) -> Page:
            return Page(url=url, final_url=url, status=status, content_type=None, body=b"",
                        fetched_at=when, duration_ms=int((time.monotonic() - started) * 1000),
                        error_class=error_class, error=error, retries=tries)  # fmt: skip

        try:
            _scheme, hostname, port = _split(url)
        except _Failure as failure:
            return failed(failure.error_class, failure.error)
        host = self._host(urlsplit(url).netloc)
        if host.skipped:
            return failed("HostSkipped", host.skipped)
        if check_robots and self.settings.respect_robots and not await self.allowed_by_robots(url):
            # Say so when robots.txt was not fetched because the host itself is refused.
            refused = self.robots_blocked.get(_origin(url)) and await self._refused(hostname, port)
            if refused:
                return failed("BlockedAddress", refused)
            return failed("RobotsDisallowed", "robots.txt disallows this URL (or is unreachable)")
        request_headers = dict(headers or {})
        attempt = 0
        while True:
            try:
                async with host.semaphore, self._slot(host):
                    await self._turn(host)
                    sent = None if self.gate is None else _Sent(self.gate, host)
                    try:
                        if host.skipped:  # while this request waited its turn
                            return failed("HostSkipped", host.skipped, tries=attempt)
                        result = await self._attempt(url, kind, request_headers, sent)
                    finally:
                        self.global_sem.release()
                        if sent is not None:
                            await sent()  # if it never left (nothing, if it did)
            except _Failure as failure:
                retryable = (failure.status in RETRY_STATUSES) or (
                    failure.status is None and failure.error_class in RETRY_ERRORS
                )
                wait = failure.retry_after if retryable else None
                if wait is not None and wait > self.settings.retry_after_cap_s:
                    host.skipped = (
                        f"Retry-After of {wait:.0f}s exceeds the cap of "
                        f"{self.settings.retry_after_cap_s:.0f}s; host skipped for this run"
                    )
                    return failed("HostSkipped", host.skipped, failure.status, attempt)
                if not retryable or attempt >= retries:
                    return failed(failure.error_class, failure.error, failure.status, attempt)
                if wait is None:
                    wait = backoff_delay(attempt, self.settings.backoff_base_s, self.rng)
                else:  # the server asked the whole host to wait, not just this request
                    host.next_start = max(host.next_start, time.monotonic() + wait)
                    if self.gate is not None:
                        await asyncio.to_thread(self.gate.hold, host.name, wait)
                attempt += 1
                await asyncio.sleep(wait)
                continue
            return Page(
                url=url, final_url=result.final_url, status=result.status,
                content_type=result.content_type, body=result.body, fetched_at=when,
                duration_ms=int((time.monotonic() - started) * 1000), retries=attempt,
                headers=result.headers, address=result.address,
            )  # fmt: skip


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _peer_address(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        peer = stream.get_extra_info("server_addr")
    except Exception:  # transports differ; the check is best effort
        return None
    return str(peer[0]) if peer else None


def make_client(settings: Settings) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=20)
    return httpx.AsyncClient(
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate, br",
        },
        timeout=httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s)),
        follow_redirects=False,  # followed by hand, checking every hop
        limits=limits,
        trust_env=False,  # never route through a proxy from the environment by surprise
    )


async def fetch_many(
    requests: Sequence[tuple[str, str, Mapping[str, str] | None]], settings: Settings
) -> tuple[list[Page], list[Page]]:
    """Fetch (url, kind, headers) requests concurrently. Returns the pages in input order,
    and the robots.txt fetches made on the way."""
    async with make_client(settings) as client:
        fetcher = Fetcher(settings, client)
        pages = await asyncio.gather(*(fetcher.get(u, k, h) for u, k, h in requests))
        return list(pages), fetcher.robots_pages


def fetch_all(
    urls: Iterable[str],
    settings: Settings,
    *,
    kind: str = "article",
    headers: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Page]:
    """Fetch many URLs of one kind, in input order (synchronous entry point)."""
    pages, _ = fetch_with_robots(urls, settings, kind=kind, headers=headers)
    return pages


def fetch_with_robots(
    urls: Iterable[str],
    settings: Settings,
    *,
    kind: str = "article",
    headers: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[list[Page], list[Page]]:
    urls = list(urls)
    if not urls:
        return [], []
    requests = [(u, kind, (headers or {}).get(u)) for u in urls]
    return asyncio.run(fetch_many(requests, settings))
