"""decode_html, merge_dates and extract_article on hand-written pages in tests/data/pages/."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.dedup import article_id, content_hash
from pipeline.extract import decode_html, extract_article, merge_dates
from pipeline.records import FeedEntry, Page

PAGES = Path(__file__).resolve().parent / "data" / "pages"
URL = "https://ledger.example.com/2025/10/30/harbour-talks.html"
FEED_TIME = datetime(2025, 10, 30, 9, 12, tzinfo=UTC)
FETCHED = datetime(2025, 10, 30, 10, 0, tzinfo=UTC)

ENTRY = FeedEntry(
    feed="ledger",
    url=URL,
    link=URL + "?utm_source=rss",
    title="Feed title for the harbour story",
    summary=None,
    published_at=FEED_TIME,
)


def _page(body: bytes, content_type: str | None = "text/html; charset=utf-8") -> Page:
    return Page(
        url=ENTRY.link,
        final_url=URL,
        status=200,
        content_type=content_type,
        body=body,
        fetched_at=FETCHED,
        duration_ms=12,
    )


def _fixture(name: str) -> Page:
    return _page((PAGES / name).read_bytes())


# --- decode_html ---------------------------------------------------------------------------


def test_header_charset_wins_over_meta_charset() -> None:
    # 0xE9 is "é" in latin-1 but "й" in windows-1251.
    body = b'<meta charset="windows-1251"><p>caf\xe9</p>'
    assert "café" in decode_html(body, "text/html; charset=ISO-8859-1")


def test_quoted_header_charset_is_understood() -> None:
    assert "café" in decode_html(b"<p>caf\xe9</p>", 'text/html; charset="iso-8859-1"')


def test_meta_charset_is_used_when_the_header_has_none() -> None:
    text = "<p>Café “quoted” – dash</p>"
    body = (
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        b"</head><body>" + text.encode("cp1252") + b"</body></html>"
    )
    assert text in decode_html(body, "text/html")
    assert text in decode_html(body, None)


def test_html5_meta_charset_is_used() -> None:
    body = b"<meta charset='windows-1252'><p>na\xefve</p>"
    assert "naïve" in decode_html(body, None)


def test_wrong_header_charset_falls_back_to_the_meta_charset() -> None:
    # The header claims UTF-8 but the bytes are windows-1252, as the page itself says.
    body = b'<meta charset="windows-1252"><p>Caf\xe9</p>'
    assert "Café" in decode_html(body, "text/html; charset=utf-8")


def test_unknown_charset_name_falls_back_to_utf8() -> None:
    body = "<p>Zürich</p>".encode()
    assert "Zürich" in decode_html(body, "text/html; charset=no-such-charset")


def test_valid_utf8_without_any_charset_is_decoded_as_utf8() -> None:
    text = "<p>Señor Muñoz said ‘no’ in Zürich — again.</p>"
    assert decode_html(text.encode(), None) == text


def test_invalid_utf8_without_any_charset_does_not_raise() -> None:
    decoded = decode_html(b"<p>\xff\xfe\xfa broken \x80\x81</p>", None)
    assert "broken" in decoded


def test_one_invalid_byte_does_not_turn_utf8_into_mojibake() -> None:
    decoded = decode_html("<p>Café in Zürich</p>".encode() + b"\xff", None)
    assert "Café in Zürich" in decoded
    assert "\ufffd" in decoded


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<meta charset="undefined"><p>hello</p>', "text/html"),
        (b"<p>hello</p>", "text/html; charset=undefined"),
        (b"<p>hello</p>", "text/html; charset=punycode"),
    ],
    ids=["meta-undefined", "header-undefined", "header-punycode"],
)
def test_hostile_charset_name_does_not_raise(body: bytes, content_type: str) -> None:
    assert "hello" in decode_html(body, content_type)


def test_extract_article_survives_a_hostile_charset() -> None:
    body = b'<html><head><meta charset="undefined"></head><body><p>hi</p></body></html>'
    page = _page(body, "text/html")
    assert extract_article(page, ENTRY).status in {"empty", "too_short", "extract_failed"}


# --- merge_dates ---------------------------------------------------------------------------


def test_no_page_date_uses_the_feed_time() -> None:
    assert merge_dates(None, FEED_TIME) == (FEED_TIME, "feed")


def test_no_dates_at_all() -> None:
    assert merge_dates(None, None) == (None, "none")


def test_same_day_keeps_the_feed_time_of_day() -> None:
    assert merge_dates(date(2025, 10, 30), FEED_TIME) == (FEED_TIME, "page+feed_time")


@pytest.mark.parametrize("page_day", [date(2025, 10, 29), date(2025, 10, 31)])
def test_one_day_apart_still_keeps_the_feed_time(page_day: date) -> None:
    # Time zones: a page dated in local time can be a day off the feed's UTC timestamp.
    assert merge_dates(page_day, FEED_TIME) == (FEED_TIME, "page+feed_time")


def test_two_days_apart_the_page_date_wins() -> None:
    assert merge_dates(date(2025, 10, 28), FEED_TIME) == (
        datetime(2025, 10, 28, tzinfo=UTC),
        "page",
    )


def test_a_week_apart_the_page_date_wins_at_midnight_utc() -> None:
    published, source = merge_dates(date(2025, 10, 23), FEED_TIME)
    assert source == "page"
    assert published == datetime(2025, 10, 23, 0, 0, tzinfo=UTC)
    assert published is not None
    assert published.tzinfo is UTC


def test_page_date_alone_is_used_at_midnight() -> None:
    assert merge_dates(date(2025, 10, 30), None) == (datetime(2025, 10, 30, tzinfo=UTC), "page")


# --- extract_article -----------------------------------------------------------------------


def test_article_is_ok_with_the_page_title_and_no_boilerplate() -> None:
    article = extract_article(_fixture("article.html"), ENTRY, min_words=80)
    assert article.status == "ok"
    assert article.status_detail is None
    assert article.title == "Harbour talks end with fisheries deal"
    assert article.body.startswith("Negotiators from the two coastal states agreed")
    assert "landing sites further south." in article.body
    for boilerplate in ("Subscribe today", "cookies", "Accept all", "Zorblax", "Copyright"):
        assert boilerplate not in article.body
    assert article.word_count == len(article.body.split())
    assert article.word_count >= 150


def test_article_metadata_comes_from_the_page() -> None:
    article = extract_article(_fixture("article.html"), ENTRY)
    assert article.author == "Mara Lindqvist"
    assert article.site_name == "Coastal Ledger"
    assert article.language == "en"
    # The page says 2025-10-30, the feed says 09:12 that day: the feed's time is kept.
    assert (article.published_at, article.date_source) == (FEED_TIME, "page+feed_time")


def test_article_keys_come_from_the_entry_and_the_page() -> None:
    article = extract_article(_fixture("article.html"), ENTRY)
    assert article.article_id == article_id(ENTRY.url)
    assert article.url == ENTRY.url
    assert article.final_url == URL
    assert article.feed == "ledger"
    assert article.fetched_at == FETCHED
    assert article.content_hash == content_hash(article.body)
    assert article.duplicate_of is None


def test_page_date_wins_when_the_feed_disagrees() -> None:
    entry = replace(ENTRY, published_at=datetime(2025, 11, 9, 18, 0, tzinfo=UTC))
    article = extract_article(_fixture("article.html"), entry)
    assert (article.published_at, article.date_source) == (
        datetime(2025, 10, 30, tzinfo=UTC),
        "page",
    )


def test_a_different_page_canonical_is_noted() -> None:
    entry = replace(ENTRY, url="https://ledger.example.com/amp/harbour-talks")
    article = extract_article(_fixture("article.html"), entry)
    assert article.status == "ok"
    assert article.status_detail == f"page canonical: {URL}"


def test_consent_wall_is_too_short() -> None:
    article = extract_article(_fixture("consent.html"), ENTRY, min_words=80)
    assert article.status == "too_short"
    assert article.status_detail is not None
    assert f"{article.word_count} words < 80: consent wall or stub" in article.status_detail
    assert 0 < article.word_count < 30
    assert article.body  # kept, so analysts can see what the wall said


def test_min_words_decides_what_is_too_short() -> None:
    article = extract_article(_fixture("consent.html"), ENTRY, min_words=5)
    assert article.status == "ok"


def test_page_without_text_is_empty() -> None:
    article = extract_article(_fixture("blank.html"), ENTRY)
    assert article.status == "empty"
    assert article.body == ""
    assert article.word_count == 0
    assert article.title == ENTRY.title  # nothing on the page: the feed's title is kept
    assert (article.published_at, article.date_source) == (FEED_TIME, "feed")


def test_pdf_is_not_html() -> None:
    article = extract_article(_page(b"%PDF-1.7\n...", "application/pdf"), ENTRY)
    assert article.status == "not_html"
    assert article.status_detail == "content type application/pdf"
    assert article.body == ""
    assert article.article_id == article_id(ENTRY.url)
    assert article.title == ENTRY.title


def test_xhtml_is_html() -> None:
    page = replace(_fixture("article.html"), content_type="application/xhtml+xml")
    assert extract_article(page, ENTRY).status == "ok"


def test_missing_content_type_is_treated_as_html() -> None:
    page = replace(_fixture("article.html"), content_type=None)
    assert extract_article(page, ENTRY).status == "ok"


def test_body_over_max_html_bytes_is_too_large() -> None:
    page = _fixture("article.html")
    article = extract_article(page, ENTRY, max_html_bytes=len(page.body) - 1)
    assert article.status == "too_large"
    assert article.status_detail == f"{len(page.body)} bytes > {len(page.body) - 1}"
    assert article.body == ""


def test_body_of_exactly_max_html_bytes_is_extracted() -> None:
    page = _fixture("article.html")
    assert extract_article(page, ENTRY, max_html_bytes=len(page.body)).status == "ok"


def test_article_id_is_derived_from_the_entry_url() -> None:
    entry = replace(ENTRY, url="https://other.example.com/story?id=9")
    article = extract_article(_fixture("article.html"), entry)
    assert article.article_id == article_id("https://other.example.com/story?id=9")


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>" + b"<div>" * 5000 + b"<p>deep</p>" + b"</div>" * 5000 + b"</body></html>",
        b"<html><head><title>Broken<body><p>Unclosed <b>bold <i>italic</p></div></span>"
        b"<<<>>> <script>alert(1)",
        b"<html><body><p>nul\x00byte in the middle</p></body></html>",
        b"\x00" * 100,
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><html>&a;</html>",
    ],
    ids=["5000-nested-divs", "broken-tags", "nul-byte", "only-nuls", "xml-entity"],
)
def test_hostile_html_does_not_raise(body: bytes) -> None:
    article = extract_article(_page(body, "text/html"), ENTRY)
    assert article.status in {"ok", "too_short", "empty", "extract_failed"}
    assert article.article_id == article_id(ENTRY.url)


BRIEF = (
    "SPRINGFIELD, Ill. (AP) — Illinois lawmakers on Thursday approved a $1.2 billion "
    "plan to repair bridges along Interstate 55, sending the measure to Gov. JB Pritzker, "
    "who has said he will sign it. The vote in the state Senate was 41-15. Work on the "
    "first six bridges, between Springfield and Bloomington, is expected to begin next "
    "spring and last three years, transportation officials said."
)


def _short_page(paragraphs: list[str], links: int = 0) -> Page:
    nav = "".join(f'<li><a href="/s{i}">Section number {i} of the site</a></li>'
                  for i in range(links))  # fmt: skip
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (f"<html><head><title>Bridge plan</title></head><body><nav><ul>{nav}</ul></nav>"
            f"<article><h1>Bridge plan</h1>{body}</article></body></html>")  # fmt: skip
    return _page(html.encode())


def test_a_short_clean_news_brief_is_ok_not_too_short() -> None:
    article = extract_article(_short_page([BRIEF]), ENTRY, min_words=80)
    assert 50 < article.word_count < 80
    assert article.status == "ok"
    assert article.status_detail is not None and "reads as news" in article.status_detail


@pytest.mark.parametrize(
    ("paragraphs", "links", "summary", "why"),
    [
        (["Before you continue, please accept our cookies. We use them to show you news. "
          "You can change your privacy settings at any time on this page of ours."],
         0, None, "consent wall or stub"),
        (["Subscribe now to continue reading this story about the bridges of Illinois. "
          "Subscribers get unlimited access to every article we publish."],
         0, None, "consent wall or stub"),
        (["Illinois lawmakers approved a bridge repair plan on Thursday."], 0, None,
         "under 25 words"),
        ([BRIEF], 60, None, "mostly links"),
        ([BRIEF], 0, BRIEF + " More to come.", "only the feed's summary"),
    ],
)  # fmt: skip
def test_stubs_and_walls_under_min_words_are_too_short(
    paragraphs: list[str], links: int, summary: str | None, why: str
) -> None:
    entry = replace(ENTRY, summary=summary)
    article = extract_article(_short_page(paragraphs, links), entry, min_words=80)
    assert article.status == "too_short", article.status_detail
    assert article.status_detail is not None and why in article.status_detail
