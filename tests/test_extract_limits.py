"""trafilatura limits: a per-page deadline (in a worker process) and a tree-size cap."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pipeline.extract import MAX_TREE_SIZE, extract_article, run_extraction
from pipeline.records import FeedEntry, Page

WHEN = datetime(2025, 11, 2, tzinfo=UTC)
URL = "http://127.0.0.1/slow.html"


def _page(html: str) -> Page:
    return Page(URL, URL, 200, "text/html; charset=utf-8", html.encode(), WHEN, 1)


def _entry() -> FeedEntry:
    return FeedEntry("f", URL, URL, "Title", None, WHEN)


BIG = "<html><body><article>" + "".join(
    f"<p>Paragraph {i} about ministers meeting in Geneva to discuss the ceasefire terms.</p>"
    for i in range(20_000)
) + "</article></body></html>"  # fmt: skip


def test_a_page_that_outlasts_the_deadline_is_recorded_and_the_worker_replaced() -> None:
    started = time.monotonic()
    article = extract_article(_page(BIG), _entry(), max_html_bytes=10**8, timeout_s=0.2)
    assert article.status == "extract_timeout" and "0.2" in (article.status_detail or "")
    assert time.monotonic() - started < 5
    # The stuck worker was killed; the next page is extracted normally.
    small = (
        "<html><body><article>"
        + "<p>Ministers met in Geneva today.</p>" * 40
        + "</article></body></html>"
    )
    assert extract_article(_page(small), _entry(), timeout_s=5).status == "ok"


def test_worker_and_in_process_extraction_agree() -> None:
    html = (
        "<html><body><article>"
        + "<p>The envoys signed the accord in Oslo.</p>" * 30
        + "</article></body></html>"
    )
    assert run_extraction(html, 5.0) == run_extraction(html, 0)


def test_a_pathological_page_costs_at_most_the_deadline() -> None:
    # 100k+ elements: trafilatura would spend many seconds on it.
    html = (
        "<html><body>" + '<div><a href="/x">x</a></div>' * (MAX_TREE_SIZE + 10) + "</body></html>"
    )
    started = time.monotonic()
    article = extract_article(_page(html), _entry(), max_html_bytes=10**8, timeout_s=1.0)
    assert article.status in {"extract_timeout", "empty", "extract_failed"}
    assert time.monotonic() - started < 3


def test_a_page_over_the_size_cap_is_not_parsed_at_all() -> None:
    article = extract_article(_page(BIG), _entry(), max_html_bytes=100_000, timeout_s=1.0)
    assert article.status == "too_large" and article.body == ""


_ARTICLE_HTML = (
    "<html><body><article>"
    + "<p>The envoys signed the accord in Oslo on Tuesday.</p>" * 30
    + "</article></body></html>"
)


def _extract_in_a_daemon(queue: Any) -> None:
    from pipeline.extract import close_extraction_pool

    try:
        fields = run_extraction(_ARTICLE_HTML, timeout_s=20)
        queue.put(("ok", (fields or {}).get("text", "")[:40]))
    except BaseException as exc:  # reported to the parent, which asserts on it
        queue.put(("error", repr(exc)))
    finally:
        close_extraction_pool()


def test_extraction_works_inside_a_daemonic_process() -> None:
    """A task in Celery's prefork pool runs in a daemonic process, which multiprocessing
    forbids to start children: the extraction worker must start there all the same."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_extract_in_a_daemon, args=(queue,), daemon=True)
    child.start()
    status, detail = queue.get(timeout=60)
    child.join(timeout=30)
    assert status == "ok", detail
    assert detail.strip()
