"""Canonical URLs, article ids, content hashes, and the two de-duplication steps."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeline.dedup import (
    article_id,
    canonical_url,
    content_hash,
    event_ids,
    mark_duplicates,
    unique_entries,
)
from pipeline.records import Actor, Article, Event, FeedEntry

# --- canonical_url -------------------------------------------------------------------------


def test_docstring_example() -> None:
    assert (
        canonical_url("HTTP://Example.COM:80/a/./b.html?utm_source=x&id=2#top")
        == "http://example.com/a/b.html?id=2"
    )


def test_scheme_and_host_are_lower_cased_but_not_the_path() -> None:
    assert (
        canonical_url("HTTPS://News.EXAMPLE.com/World/Story.html")
        == "https://news.example.com/World/Story.html"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
    ],
)
def test_default_port_is_dropped_and_others_kept(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("suffix", ["#comments", "#", "#!/app/route"])
def test_fragment_is_dropped(suffix: str) -> None:
    assert canonical_url("https://example.com/story.html" + suffix) == (
        "https://example.com/story.html"
    )


@pytest.mark.parametrize(
    "query",
    [
        "utm_source=rss",
        "utm_source=rss&utm_medium=feed&utm_campaign=x&utm_content=y&utm_term=z",
        "fbclid=IwAR0abc",
        "gclid=xyz",
    ],
)
def test_tracking_parameters_are_removed(query: str) -> None:
    assert canonical_url(f"https://example.com/story?{query}") == "https://example.com/story"


def test_real_query_parameters_are_kept_beside_tracking_ones() -> None:
    url = "https://example.com/article.php?utm_source=rss&id=42&fbclid=abc&page=2"
    canonical = canonical_url(url)
    assert "utm_source" not in canonical
    assert "fbclid" not in canonical
    assert canonical == "https://example.com/article.php?id=42&page=2"


def test_query_parameter_order_does_not_matter() -> None:
    assert canonical_url("https://example.com/s?b=2&a=1") == canonical_url(
        "https://example.com/s?a=1&b=2"
    )


def test_encoded_query_values_are_preserved() -> None:
    url = "https://example.com/search?q=caf%C3%A9+au+lait"
    assert canonical_url(url) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a/./b.html", "https://example.com/a/b.html"),
        ("https://example.com/a/b/../c/./d.html", "https://example.com/a/c/d.html"),
        ("https://example.com/a/b/./", "https://example.com/a/b/"),
        ("https://example.com/a/../../b", "https://example.com/b"),
    ],
)
def test_dot_segments_are_resolved(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_dot_files_are_not_dot_segments() -> None:
    url = "https://example.com/.well-known/security.txt"
    assert canonical_url(url) == url


def test_empty_path_becomes_slash_and_whitespace_is_stripped() -> None:
    assert canonical_url("  https://example.com  ") == "https://example.com/"


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Example.COM:80/a/../b/./c.html?z=1&utm_medium=x&a=2#f")
    assert canonical_url(once) == once


# --- article_id and content_hash -----------------------------------------------------------


def test_article_id_is_16_hex_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", article_id("https://example.com/story"))


def test_article_id_is_stable_across_calls_and_runs() -> None:
    # sha1("https://example.com/story")[:16]: a change here would re-key every stored row.
    assert article_id("https://example.com/story") == "268b441bac2256d8"


def test_article_id_is_the_same_for_urls_with_the_same_canonical_form() -> None:
    assert article_id("HTTPS://Example.com:443/story?utm_source=rss#top") == article_id(
        "https://example.com/story"
    )


def test_article_id_differs_for_different_articles() -> None:
    assert article_id("https://example.com/story?id=1") != article_id(
        "https://example.com/story?id=2"
    )


def test_content_hash_is_16_hex_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", content_hash("Some body text."))


def test_content_hash_ignores_case_and_whitespace() -> None:
    assert content_hash("The Minister  said\nno.") == content_hash("  the minister said no. \t")


def test_content_hash_treats_composed_and_decomposed_accents_alike() -> None:
    assert content_hash("Café") == content_hash("Cafe\u0301")


def test_content_hash_differs_for_different_text() -> None:
    assert content_hash("The minister said no.") != content_hash("The minister said yes.")


# --- unique_entries ------------------------------------------------------------------------


def _entry(feed: str, url: str, title: str) -> FeedEntry:
    return FeedEntry(feed=feed, url=url, link=url, title=title, summary=None, published_at=None)


def test_unique_entries_keeps_the_first_per_url_and_counts_repeats() -> None:
    a1 = _entry("wire", "https://example.com/a", "A from wire")
    b = _entry("wire", "https://example.com/b", "B")
    a2 = _entry("ledger", "https://example.com/a", "A from ledger")
    a3 = _entry("other", "https://example.com/a", "A again")
    kept, repeats = unique_entries([a1, b, a2, a3])
    assert kept == [a1, b]
    assert repeats == 2


def test_unique_entries_without_repeats() -> None:
    entries = [_entry("f", f"https://example.com/{i}", str(i)) for i in range(3)]
    assert unique_entries(entries) == (entries, 0)


def test_unique_entries_of_nothing() -> None:
    assert unique_entries([]) == ([], 0)


# --- mark_duplicates -----------------------------------------------------------------------


def _article(aid: str, body: str, status: str = "ok") -> Article:
    return Article(
        article_id=aid,
        url=f"https://example.com/{aid}",
        final_url=f"https://example.com/{aid}",
        feed="f",
        title=None,
        body=body,
        author=None,
        published_at=None,
        date_source="none",
        site_name=None,
        language="en",
        status=status,
        status_detail=None,
        word_count=len(body.split()),
        content_hash=content_hash(body),
        fetched_at=datetime(2025, 11, 2, tzinfo=UTC),
    )


BODY = "Ministers met in Jakarta on Sunday and agreed to share patrol data."


def _dups(articles: list[Article]) -> dict[str, str | None]:
    return {a.article_id: a.duplicate_of for a in articles}


def test_later_of_two_identical_ok_bodies_is_marked() -> None:
    first, second = _article("aaaa", BODY), _article("bbbb", BODY)
    assert _dups(mark_duplicates([first, second], {})) == {"aaaa": None, "bbbb": "aaaa"}


def test_the_same_article_is_marked_whatever_the_input_order() -> None:
    # "Earlier" means lower article_id, so re-runs mark the same one.
    first, second = _article("aaaa", BODY), _article("bbbb", BODY)
    assert _dups(mark_duplicates([second, first], {})) == {"aaaa": None, "bbbb": "aaaa"}


def test_whitespace_and_case_differences_are_still_duplicates() -> None:
    first = _article("aaaa", BODY)
    second = _article("bbbb", "  " + BODY.upper().replace(" ", "\n"))
    assert _dups(mark_duplicates([first, second], {}))["bbbb"] == "aaaa"


def test_different_bodies_are_not_duplicates() -> None:
    articles = [_article("aaaa", BODY), _article("bbbb", BODY + " Talks resume in May.")]
    assert _dups(mark_duplicates(articles, {})) == {"aaaa": None, "bbbb": None}


def test_body_already_stored_is_a_duplicate_of_the_stored_article() -> None:
    known = {content_hash(BODY): "0000stored"}
    assert _dups(mark_duplicates([_article("aaaa", BODY)], known)) == {"aaaa": "0000stored"}


def test_an_article_is_not_a_duplicate_of_itself() -> None:
    # A re-fetch of an article already stored under the same id.
    known = {content_hash(BODY): "aaaa"}
    assert _dups(mark_duplicates([_article("aaaa", BODY)], known)) == {"aaaa": None}


@pytest.mark.parametrize("status", ["too_short", "empty", "not_html", "too_large"])
def test_non_ok_articles_are_never_marked(status: str) -> None:
    wall = "Please accept cookies to continue."
    articles = [_article("aaaa", wall, status), _article("bbbb", wall, status)]
    known = {content_hash(wall): "0000stored"}
    assert _dups(mark_duplicates(articles, known)) == {"aaaa": None, "bbbb": None}


def test_non_ok_article_does_not_become_the_original() -> None:
    # A too_short copy sorted first must not make the ok article a duplicate of it.
    articles = [_article("aaaa", BODY, "too_short"), _article("bbbb", BODY)]
    assert _dups(mark_duplicates(articles, {})) == {"aaaa": None, "bbbb": None}


def test_mark_duplicates_does_not_change_its_input() -> None:
    articles = [_article("aaaa", BODY), _article("bbbb", BODY)]
    before = list(articles)
    result = mark_duplicates(articles, {})
    assert articles == before
    assert len(result) == 2
    assert replace(result[1], duplicate_of=None) == articles[1]


def test_page_canonical_link_naming_a_known_article_marks_a_duplicate() -> None:
    from dataclasses import replace

    stored = "https://example.org/news/original"
    copy = replace(
        _article("cccc", "A different body, syndicated with edits."),
        page_canonical=stored,
    )
    alone = replace(_article("dddd", "Another story."), page_canonical="https://elsewhere.org/x")
    marked = _dups(mark_duplicates([copy, alone], {}, known_urls={stored}))
    assert marked == {"cccc": article_id(stored), "dddd": None}
    # The canonical target arriving in the same batch counts too.
    target = replace(_article("eeee", "Original story."), url=stored)
    assert _dups(mark_duplicates([copy, target], {}))["cccc"] == article_id(stored)


# --- event ids -----------------------------------------------------------------------------

SENTENCES = ["Russia attacked Ukraine.", "China accused Japan.", "Iran condemned Israel."]


def _event(idx: int, sentence_idx: int, *, code: str = "190", target: bool = True) -> Event:
    sentence = SENTENCES[sentence_idx % len(SENTENCES)]
    words = sentence.rstrip(".").split()
    starts = [sentence.index(w) for w in words]
    return Event(
        article_id="a1", event_idx=idx, sentence_idx=sentence_idx, sentence=sentence,
        source=Actor(words[0], words[0], "X", "X", "", 0, len(words[0])),
        target=Actor(words[2], words[2], "Y", "Y", "", starts[2], starts[2] + len(words[2]))
        if target else None,
        trigger=words[1], trigger_start=starts[1], trigger_end=starts[1] + len(words[1]),
        cameo_code=code, root_code=code[:2], root_name="r", plover="", quad_class=4,
        goldstein=-10.0, modality="asserted", confidence=0.9, event_date=None,
        date_source="none",
    )  # fmt: skip


def test_event_ids_do_not_shift_when_an_earlier_event_is_dropped_or_added() -> None:
    """event_idx counts events in the article, so it shifts when the coder drops or adds
    one before; the id must not (the old `article_id-event_idx` did)."""
    events = [_event(0, 0), _event(1, 1), _event(2, 2, target=False)]
    ids = event_ids(events)
    assert all(re.fullmatch(r"a1-[0-9a-f]{12}", i) for i in ids) and len(set(ids)) == 3
    fewer = [replace(e, event_idx=e.event_idx - 1) for e in events[1:]]
    assert event_ids(fewer) == ids[1:]
    more = [_event(0, 0, code="193"), *(replace(e, event_idx=e.event_idx + 1) for e in events)]
    assert event_ids(more)[1:] == ids


def test_event_ids_tell_apart_codes_targets_and_a_repeated_sentence() -> None:
    base = event_ids([_event(0, 0)])[0]
    assert event_ids([_event(0, 0, code="193")])[0] != base
    assert event_ids([_event(0, 0, target=False)])[0] != base
    # the same sentence twice in one article (index 0 and 3): the same key, two ids, and
    # the first keeps the id it has alone
    twice = event_ids([_event(0, 0), _event(1, 3)])
    assert twice[0] == base and twice[1] != base
    # the values that do not say what the event is leave the id alone
    assert event_ids([replace(_event(5, 0), modality="negated", goldstein=1.0)])[0] == base
