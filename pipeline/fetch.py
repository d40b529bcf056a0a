"""Fetch: the only module that speaks HTTP.

Every fetch has a whole-request deadline (a server that drips one byte at a time is cut
off), a cap on the body size, and at most five redirects. A failure never raises: it
comes back as a `Page` with `error_class` and `error` set, so one bad URL never stops a run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

from pipeline.config import Settings
from pipeline.records import Page

MAX_REDIRECTS = 5


class _TooLarge(Exception):
    pass


class _Deadline(Exception):
    pass


def make_client(settings: Settings) -> httpx.Client:
    timeout = httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s))
    return httpx.Client(
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
        },
        timeout=timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,  # never route through a proxy from the environment by surprise
    )


def _failed(url: str, started: float, when: datetime, error_class: str, error: str) -> Page:
    return Page(
        url=url,
        final_url=url,
        status=None,
        content_type=None,
        body=b"",
        fetched_at=when,
        duration_ms=int((time.monotonic() - started) * 1000),
        error_class=error_class,
        error=error,
    )


def fetch_url(client: httpx.Client, url: str, settings: Settings) -> Page:
    """GET one URL. Never raises for network or HTTP problems."""
    started = time.monotonic()
    deadline = started + settings.timeout_s
    when = datetime.now(UTC)
    try:
        with client.stream("GET", url) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > settings.max_bytes:
                    raise _TooLarge
                if time.monotonic() > deadline:
                    raise _Deadline
                chunks.append(chunk)
            body = b"".join(chunks)
    except _TooLarge:
        return _failed(url, started, when, "TooLarge", f"body exceeds {settings.max_bytes} bytes")
    except _Deadline:
        return _failed(url, started, when, "Timeout", f"deadline of {settings.timeout_s}s passed")
    except httpx.TooManyRedirects:
        return _failed(url, started, when, "TooManyRedirects", f"more than {MAX_REDIRECTS}")
    except httpx.TimeoutException as exc:
        return _failed(url, started, when, "Timeout", f"{type(exc).__name__}: {exc}")
    except httpx.ConnectError as exc:
        return _failed(url, started, when, "ConnectError", str(exc) or "connection failed")
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return _failed(url, started, when, "InvalidURL", str(exc))
    except (httpx.HTTPError, httpx.StreamError) as exc:
        return _failed(url, started, when, type(exc).__name__, str(exc) or "HTTP error")
    status = response.status_code
    error_class = error = None
    if status >= 400:
        error_class, error = "HTTPStatus", f"HTTP {status} {response.reason_phrase}".strip()
    return Page(
        url=url,
        final_url=str(response.url),
        status=status,
        content_type=response.headers.get("content-type"),
        body=body if error is None else b"",
        fetched_at=when,
        duration_ms=int((time.monotonic() - started) * 1000),
        error_class=error_class,
        error=error,
    )


def fetch_all(urls: Iterable[str], settings: Settings) -> list[Page]:
    """Fetch many URLs in parallel, in input order."""
    urls = list(urls)
    if not urls:
        return []
    with (
        make_client(settings) as client,
        ThreadPoolExecutor(max_workers=settings.concurrency) as pool,
    ):
        return list(pool.map(lambda u: fetch_url(client, u, settings), urls))
