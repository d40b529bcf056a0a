"""Feeds: the registry file, and parsing RSS 2.0, RSS 1.0/RDF and Atom from fetched bytes.

Pure functions over strings and bytes. Fetching is `pipeline.fetch`'s job: feedparser is
only ever given `io.BytesIO(body)`, never a string or URL it could open by itself.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import yaml

from pipeline.dedup import canonical_url
from pipeline.records import Feed, FeedEntry, ParsedFeed


class RegistryError(ValueError):
    """The feed registry is invalid. The message names the file, the entry and the problem."""


class BadFeed(ValueError):
    """The bytes are not a usable feed (malformed XML, an HTML page, hostile DTD, ...)."""


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_KEYS = {"name", "url", "outlet", "country", "language", "enabled"}
# Declared entities can expand one small feed into gigabytes inside feedparser's loose
# parser; no real feed needs them, so any entity declaration, anywhere, is refused before
# parsing.
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 literal
        return False


def parse_registry(text: str, source: str = "<feeds>") -> list[Feed]:
    """Validate a feed registry document and return its feeds, enabled or not."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or "feeds" not in data:
        raise RegistryError(f"{source}: expected a top-level 'feeds:' list")
    items = data["feeds"]
    if not isinstance(items, list) or not items:
        raise RegistryError(f"{source}: 'feeds' must be a non-empty list")
    feeds: list[Feed] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        where = f"{source}: feeds[{i}]"
        if not isinstance(item, dict):
            raise RegistryError(f"{where}: expected a mapping with 'name' and 'url'")
        if isinstance(item.get("name"), str):
            where += f" ({item['name']!r})"
        unknown = set(item) - _KEYS
        if unknown:
            raise RegistryError(
                f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                f"allowed: {', '.join(sorted(_KEYS))}"
            )
        name, url = item.get("name"), item.get("url")
        if not isinstance(name, str) or not _NAME.match(name):
            raise RegistryError(
                f"{where}: 'name' must be 1-80 letters, digits, '.', '_' or '-', got {name!r}"
            )
        if name in names:
            raise RegistryError(f"{where}: duplicate feed name {name!r}")
        names.add(name)
        if not isinstance(url, str) or not is_http_url(url):
            raise RegistryError(f"{where}: 'url' must be an http(s) URL, got {url!r}")
        optional: dict[str, Any] = {}
        for key in ("outlet", "country", "language"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise RegistryError(f"{where}: {key!r} must be text, got {value!r}")
            optional[key] = value
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RegistryError(f"{where}: 'enabled' must be true or false, got {enabled!r}")
        feeds.append(Feed(name=name, url=url, enabled=enabled, **optional))
    return feeds


def load_registry(path: str | Path) -> list[Feed]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"cannot read feed registry {path}: {exc.strerror}") from exc
    return parse_registry(text, str(path))


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for candidate in entry.get("links", []):
        if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
            return str(candidate["href"])
    return None


def _entry_time(
    entry: Any, keys: tuple[str, ...] = ("published_parsed", "updated_parsed", "created_parsed")
) -> datetime | None:
    # RSS 1.0's dc:date lands in updated_parsed, not published_parsed.
    for key in keys:
        # dict.get: feedparser's own get() maps a missing updated_parsed to
        # published_parsed, with a DeprecationWarning.
        parsed = dict.get(entry, key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _text(value: Any) -> str | None:
    if not value:
        return None
    text = " ".join(str(value).split())
    return text or None


def parse_feed(body: bytes, feed: Feed, url: str | None = None) -> ParsedFeed:
    """Parse feed bytes. Raises BadFeed if they are not a feed we can trust."""
    url = url or feed.url
    if not body.strip():
        raise BadFeed("empty response")
    if _ENTITY_DECL.search(body):
        raise BadFeed("feed declares XML entities (<!ENTITY>); refused")
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers={"content-location": url, "content-type": "application/xml"},
            resolve_relative_uris=True,
            sanitize_html=False,
        )
    except (ValueError, OverflowError, RecursionError) as exc:
        raise BadFeed(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    version = parsed.get("version") or ""
    if not version:
        why = parsed.get("bozo_exception")
        detail = f" ({type(why).__name__}: {why})" if why else ""
        raise BadFeed(f"not an RSS or Atom feed{detail}")
    warning = None
    if parsed.get("bozo"):
        why = parsed.get("bozo_exception")
        if not parsed.entries:
            raise BadFeed(f"malformed feed with no recoverable entries: {why}")
        warning = f"malformed XML, {len(parsed.entries)} entries recovered: {why}"
    entries: list[FeedEntry] = []
    dropped = 0
    for raw in parsed.entries:
        link = _entry_link(raw)
        resolved = urljoin(url, link.strip()) if link else None
        if not resolved or not is_http_url(resolved):
            dropped += 1
            continue
        entries.append(
            FeedEntry(
                feed=feed.name,
                url=canonical_url(resolved),
                link=resolved,
                title=_text(raw.get("title")),
                summary=_text(raw.get("summary")),
                published_at=_entry_time(raw),
                updated_at=_entry_time(raw, ("updated_parsed",)),
                entry_id=_text(raw.get("id")),
            )
        )
    if warning and not entries:
        raise BadFeed(f"malformed feed with no usable entries: {parsed.get('bozo_exception')}")
    return ParsedFeed(
        feed=feed.name,
        version=version,
        title=_text(parsed.feed.get("title")),
        entries=tuple(entries),
        dropped=dropped,
        warning=warning,
    )


def enabled_feeds(feeds: Iterable[Feed]) -> list[Feed]:
    return [f for f in feeds if f.enabled]
