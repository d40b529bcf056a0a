"""Feed registry validation, and parsing RSS 2.0, RSS 1.0/RDF and Atom from bytes.

Fixture feeds live in tests/data/feeds/. parse_feed is pure: it must never open a file
or a URL by itself, whatever the bytes look like.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipeline.feeds import (
    BadFeed,
    RegistryError,
    enabled_feeds,
    is_http_url,
    load_registry,
    parse_feed,
    parse_registry,
)
from pipeline.records import Feed

FEEDS = Path(__file__).resolve().parent / "data" / "feeds"
FEED = Feed(name="fixture", url="https://registry.example.com/feed.xml")


def _feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def _registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the registry -------------------------------------------------------------------------

VALID_REGISTRY = """\
feeds:
  - name: wire
    url: https://wire.example.com/rss.xml
  - name: ledger.asia_2
    url: http://ledger.example.com/feed
    outlet: Coastal Ledger
    country: SG
    language: en
    enabled: false
"""


def test_load_registry_reads_required_and_optional_keys(tmp_path: Path) -> None:
    feeds = load_registry(_registry(tmp_path, VALID_REGISTRY))
    assert feeds == [
        Feed(name="wire", url="https://wire.example.com/rss.xml"),
        Feed(
            name="ledger.asia_2",
            url="http://ledger.example.com/feed",
            outlet="Coastal Ledger",
            country="SG",
            language="en",
            enabled=False,
        ),
    ]


def test_disabled_feeds_are_returned_but_not_enabled(tmp_path: Path) -> None:
    feeds = load_registry(_registry(tmp_path, VALID_REGISTRY))
    assert [f.name for f in enabled_feeds(feeds)] == ["wire"]


def test_shipped_registry_is_valid() -> None:
    feeds = load_registry(Path(__file__).resolve().parent.parent / "config" / "feeds.yaml")
    assert feeds
    assert all(is_http_url(f.url) for f in feeds)


def test_missing_registry_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(RegistryError, match="cannot read feed registry") as info:
        load_registry(path)
    assert str(path) in str(info.value)


def test_registry_error_names_the_file(tmp_path: Path) -> None:
    path = _registry(tmp_path, "feeds:\n  - name: a\n    url: ftp://example.com/feed\n")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert str(info.value).startswith(f"{path}: feeds[0] ('a')")


@pytest.mark.parametrize(
    "text",
    ["", "other: 1\n", "- name: a\n  url: https://a.example.com/\n", "feeds: [\n"],
    ids=["empty", "no-feeds-key", "top-level-list", "invalid-yaml"],
)
def test_document_without_a_feeds_list_is_refused(text: str) -> None:
    with pytest.raises(RegistryError, match=r"^reg\.yaml: (expected a top-level|not valid YAML)"):
        parse_registry(text, "reg.yaml")


@pytest.mark.parametrize("text", ["feeds: []\n", "feeds:\n", "feeds: just-text\n"])
def test_feeds_must_be_a_non_empty_list(text: str) -> None:
    with pytest.raises(RegistryError, match=r"^reg\.yaml: 'feeds' must be a non-empty list"):
        parse_registry(text, "reg.yaml")


def test_non_mapping_item_names_its_index() -> None:
    text = "feeds:\n  - name: a\n    url: https://a.example.com/\n  - https://b.example.com/\n"
    with pytest.raises(RegistryError, match=r"^reg\.yaml: feeds\[1\]: expected a mapping"):
        parse_registry(text, "reg.yaml")


def test_missing_name_is_refused() -> None:
    with pytest.raises(RegistryError, match=r"feeds\[0\]: 'name' must be .*got None"):
        parse_registry("feeds:\n  - url: https://a.example.com/\n", "reg.yaml")


@pytest.mark.parametrize(
    "name",
    ["'has space'", "'-leading-dash'", "'x/y'", "''", "'" + "a" * 81 + "'", "42"],
    ids=["space", "leading-dash", "slash", "empty", "too-long", "number"],
)
def test_invalid_name_is_refused(name: str) -> None:
    with pytest.raises(RegistryError, match=r"feeds\[0\].*'name' must be 1-80 letters"):
        parse_registry(f"feeds:\n  - name: {name}\n    url: https://a.example.com/\n", "r")


def test_name_of_80_characters_is_accepted() -> None:
    name = "a" * 80
    feeds = parse_registry(f"feeds:\n  - name: {name}\n    url: https://a.example.com/\n")
    assert feeds[0].name == name


def test_duplicate_name_names_the_second_entry() -> None:
    text = (
        "feeds:\n"
        "  - name: wire\n    url: https://a.example.com/\n"
        "  - name: wire\n    url: https://b.example.com/\n"
    )
    with pytest.raises(
        RegistryError, match=r"^reg\.yaml: feeds\[1\] \('wire'\): duplicate feed name 'wire'"
    ):
        parse_registry(text, "reg.yaml")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/feed.xml",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "//example.com/feed.xml",
        "example.com/feed.xml",
        "http://",
    ],
)
def test_non_http_url_is_refused(url: str) -> None:
    text = f"feeds:\n  - name: bad\n    url: '{url}'\n"
    with pytest.raises(RegistryError, match=r"feeds\[0\] \('bad'\): 'url' must be an http\(s\)"):
        parse_registry(text, "reg.yaml")


def test_missing_url_is_refused() -> None:
    with pytest.raises(RegistryError, match=r"feeds\[0\] \('bad'\): 'url' must be .*got None"):
        parse_registry("feeds:\n  - name: bad\n    url:\n", "reg.yaml")


def test_unknown_key_is_named() -> None:
    text = "feeds:\n  - name: a\n    url: https://a.example.com/\n    langauge: en\n"
    with pytest.raises(RegistryError, match=r"feeds\[0\] \('a'\): unknown key\(s\) langauge"):
        parse_registry(text, "reg.yaml")


@pytest.mark.parametrize("value", ["'yes'", "1", "'false'"])
def test_enabled_must_be_a_boolean(value: str) -> None:
    text = f"feeds:\n  - name: a\n    url: https://a.example.com/\n    enabled: {value}\n"
    with pytest.raises(RegistryError, match=r"feeds\[0\] \('a'\): 'enabled' must be true or"):
        parse_registry(text, "reg.yaml")


def test_optional_text_keys_must_be_text() -> None:
    text = "feeds:\n  - name: a\n    url: https://a.example.com/\n    country: [GB]\n"
    with pytest.raises(RegistryError, match=r"feeds\[0\] \('a'\): 'country' must be text"):
        parse_registry(text, "reg.yaml")


def test_malformed_ipv6_url_is_a_registry_error() -> None:
    with pytest.raises(RegistryError, match=r"^reg\.yaml: feeds\[0\]"):
        parse_registry("feeds:\n  - name: a\n    url: 'http://[::1/feed'\n", "reg.yaml")


# --- is_http_url --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/a?b=c",
        "HTTPS://EXAMPLE.COM/",
        "http://127.0.0.1:8080/",
    ],
)
def test_is_http_url_accepts_http_and_https(url: str) -> None:
    assert is_http_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "mailto:desk@example.com",
        "data:text/html,hi",
        "http://",
        "http:///path-only",
        "/relative/path",
        "",
    ],
)
def test_is_http_url_refuses_everything_else(url: str) -> None:
    assert not is_http_url(url)


def test_is_http_url_is_false_for_malformed_ipv6() -> None:
    assert not is_http_url("http://[::1/feed")


# --- parse_feed: well-formed feeds ---------------------------------------------------------


def test_rss20_entries_with_time_of_day_in_utc() -> None:
    parsed = parse_feed(_feed("rss20.xml"), FEED)
    assert parsed.version == "rss20"
    assert parsed.feed == "fixture"
    assert parsed.title == "Example Wire"
    first = parsed.entries[0]
    assert first.feed == "fixture"
    assert first.url == "https://wire.example.com/world/ministers-meet.html"
    assert first.title == "Ministers meet in Jakarta"
    assert first.summary == "Foreign ministers met on Sunday."
    assert first.entry_id == "wire-1001"
    # pubDate "Sun, 02 Nov 2025 14:30:00 +0100" is 13:30 UTC.
    assert first.published_at == datetime(2025, 11, 2, 13, 30, tzinfo=UTC)
    assert parsed.warning is None


def test_rss20_item_without_link_is_dropped_and_counted() -> None:
    parsed = parse_feed(_feed("rss20.xml"), FEED)
    assert [e.title for e in parsed.entries] == [
        "Ministers meet in Jakarta",
        "Ports reopen after storm",
    ]
    assert parsed.dropped == 1


def test_tracking_parameters_leave_the_url_but_stay_in_the_link() -> None:
    entry = parse_feed(_feed("rss20.xml"), FEED).entries[1]
    assert entry.url == "https://wire.example.com/asia/ports-reopen.html?id=7"
    assert entry.link == (
        "https://wire.example.com/asia/ports-reopen.html"
        "?id=7&utm_source=rss&utm_medium=feed&fbclid=abc"
    )


def test_rss10_rdf_takes_published_at_from_dc_date() -> None:
    parsed = parse_feed(_feed("rdf.xml"), FEED)
    assert parsed.version == "rss10"
    assert parsed.title == "RDF Daily"
    (entry,) = parsed.entries
    assert entry.url == "https://rdf.example.net/2025/10/30/summit.html"
    # dc:date 2025-10-30T09:15:00+09:00
    assert entry.published_at == datetime(2025, 10, 30, 0, 15, tzinfo=UTC)


def test_atom_relative_links_resolve_against_the_url_passed_in() -> None:
    # The registry says registry.example.com, but the feed was served (after a redirect)
    # from news.example.org/section/: links resolve against where the bytes came from.
    parsed = parse_feed(_feed("atom.xml"), FEED, "https://news.example.org/section/feed.atom")
    assert parsed.version == "atom10"
    assert [e.link for e in parsed.entries] == [
        "https://news.example.org/2025/11/02/root-relative.html",
        "https://news.example.org/section/path-relative.html",
    ]
    assert parsed.dropped == 0


def test_atom_relative_links_default_to_the_registry_url() -> None:
    parsed = parse_feed(_feed("atom.xml"), FEED)
    assert parsed.entries[1].link == "https://registry.example.com/path-relative.html"


def test_atom_published_wins_over_updated() -> None:
    entries = parse_feed(_feed("atom.xml"), FEED, "https://news.example.org/feed").entries
    assert entries[0].published_at == datetime(2025, 11, 2, 10, 0, tzinfo=UTC)  # updated only
    # published 2025-11-01T22:45:00-05:00, updated 2025-11-02T09:00:00Z
    assert entries[1].published_at == datetime(2025, 11, 2, 3, 45, tzinfo=UTC)


def test_javascript_and_mailto_links_are_dropped() -> None:
    parsed = parse_feed(_feed("bad_links.xml"), FEED)
    assert [e.url for e in parsed.entries] == ["https://hostile.example.com/real-story.html"]
    assert parsed.dropped == 2


def test_feed_without_any_usable_link_parses_with_everything_dropped() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>ftp://example.com/a</link></item>"
        b"<item><title>b</title></item></channel></rss>"
    )
    parsed = parse_feed(body, FEED)
    assert parsed.entries == ()
    assert parsed.dropped == 2


# --- parse_feed: malformed and hostile input -----------------------------------------------


def test_malformed_xml_with_entries_is_recovered_with_a_warning() -> None:
    parsed = parse_feed(_feed("malformed_recoverable.xml"), FEED)
    assert [e.url for e in parsed.entries] == [
        "https://broken.example.com/tour.html",
        "https://broken.example.com/second.html",
    ]
    assert parsed.warning is not None
    assert parsed.warning.startswith("malformed XML, 2 entries recovered")


def test_malformed_xml_without_entries_is_a_bad_feed() -> None:
    with pytest.raises(BadFeed, match="malformed feed with no recoverable entries"):
        parse_feed(_feed("malformed_empty.xml"), FEED)


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(BadFeed, match="not an RSS or Atom feed"):
        parse_feed(_feed("not_a_feed.html"), FEED)


@pytest.mark.parametrize("body", [b"", b"   \n\t  "])
def test_empty_body_is_a_bad_feed(body: bytes) -> None:
    with pytest.raises(BadFeed, match="empty response"):
        parse_feed(body, FEED)


def test_entity_declarations_are_refused_before_parsing() -> None:
    # A three-level "billion laughs": small, but it would expand to 100 "lol"s per title.
    with pytest.raises(BadFeed, match="declares XML entities"):
        parse_feed(_feed("entities.xml"), FEED)


def test_entity_declarations_are_refused_whatever_the_case() -> None:
    body = (
        _feed("entities.xml").replace(b"<!DOCTYPE", b"<!doctype").replace(b"<!ENTITY", b"<!entity")
    )
    with pytest.raises(BadFeed, match="refused"):
        parse_feed(body, FEED)


def test_doctype_without_entities_is_parsed() -> None:
    body = b'<?xml version="1.0"?>\n<!DOCTYPE rss>\n' + _feed("rss20.xml").split(b"?>", 1)[1]
    assert len(parse_feed(body, FEED).entries) == 2


_LOL = (
    b'<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
)
_LOL_BODY = (
    b'<rss version="2.0"><channel><title>t</title>'
    b"<item><title>&c;</title><link>https://lol.example.com/1.html</link></item></channel></rss>"
)


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!--" + b"x" * 70_000 + b"--><!DOCTYPE rss [" + _LOL + b"]>",
        b'<!DOCTYPE rss [<!ATTLIST rss x CDATA "]">' + _LOL + b"]>",
        b'<!DOCTYPE rss SYSTEM "a>b" [' + _LOL + b"]>",
    ],
    ids=["after-64KiB-comment", "bracket-in-attlist", "gt-in-system-id"],
)
def test_entity_declarations_are_refused_in_any_doctype(prolog: bytes) -> None:
    body = b'<?xml version="1.0"?>' + prolog + _LOL_BODY
    with pytest.raises(BadFeed, match="refused"):
        parse_feed(body, FEED)


def test_bytes_naming_a_local_file_are_not_read(tmp_path: Path) -> None:
    # A perfectly good feed on disk: if parse_feed opened paths, this would parse.
    path = tmp_path / "feed.xml"
    path.write_bytes(_feed("rss20.xml"))
    with pytest.raises(BadFeed, match="not an RSS or Atom feed"):
        parse_feed(str(path).encode(), FEED)


def test_etc_passwd_is_not_read() -> None:
    with pytest.raises(BadFeed, match="not an RSS or Atom feed"):
        parse_feed(b"/etc/passwd", FEED)


def test_bytes_naming_a_url_are_not_fetched(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        _feed("rss20.xml"), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed.xml")
    with pytest.raises(BadFeed, match="not an RSS or Atom feed"):
        parse_feed(url.encode(), FEED)
    assert httpserver.log == []
