"""The report in a real headless Chromium (Debian's package, driven by Playwright; it never
downloads a browser): every chart draws its marks, the map draws the bundled outline and
a point per location, the page makes no network request at all, and hostile text from
articles stays text. A screenshot of the demo's report is kept in build/test-artifacts/.

`make test` installs chromium when it is missing (tools/debian_packages.py); this test
fails, rather than skips, without it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.daily import collect_report, write_report
from pipeline.report import render_report, world_outline
from pipeline.store import open_store
from tests.conftest import ROOT
from tests.test_report import END, PAYLOAD, hostile_report

ARTIFACTS = ROOT / "build" / "test-artifacts"
# Without these, Chromium reaches out to Google's services at start and is refused.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LOCAL = ("file://", "data:")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian's chromium is not installed: run `make test-packages` (as root)")
    return found


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium with a new, empty profile, 1280 px wide."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=_chromium(),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class Opened:
    """A report opened in a new tab, with every request the tab made, seen two ways:
    Playwright's request events and the DevTools protocol's Network domain."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.requests: list[str] = []
        self.network: list[str] = []
        self.errors: list[str] = []
        self.page = page = browser.new_page()
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        cdp = browser.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", lambda e: self.network.append(e["request"]["url"]))
        cdp.send("Network.enable")
        page.add_init_script(
            "window.__violations = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page.goto(path.as_uri())
        page.wait_for_function("document.body.dataset.charts === 'done'", timeout=60_000)

    def count(self, selector: str) -> int:
        return int(self.page.locator(selector).count())

    def offline(self) -> None:
        """The page loaded itself and nothing else, and tried nothing its CSP blocked."""
        assert self.requests and all(u.startswith(LOCAL) for u in self.requests), self.requests
        assert self.network and all(u.startswith(LOCAL) for u in self.network), self.network
        assert self.page.evaluate("window.__violations") == []
        assert self.errors == []


def test_the_report_draws_every_chart_offline(demo_run: Any, browser: Any, tmp_path: Path) -> None:
    settings, _, _ = demo_run
    done = write_report(settings, path=tmp_path / "report.html")
    assert done.end == END
    data = collect_report(open_store(settings), END, 7)
    opened = Opened(browser, done.path)
    page = opened.page
    opened.offline()
    assert page.evaluate("Object.keys(window.reportViews).sort()") == ["days", "dyads", "map"]
    assert opened.count("[data-failed]") == 0
    # 1. a bar per day and QuadClass with events
    days = data.records("report_days")
    assert opened.count("#chart-days g.mark-rect.role-mark path") == len(days) > 7
    assert opened.count("#chart-days g.role-legend-symbol path") == 4  # the four classes
    # 2. a bar and a label per dyad
    dyads = data.records("report_dyads")
    assert opened.count("#chart-dyads g.mark-rect.role-mark path") == len(dyads) == 12
    labels = page.evaluate(
        "Array.from(document.querySelectorAll('#chart-dyads g.mark-text.role-mark text'))"
        ".map(t => t.textContent)"
    )
    assert labels == [f"{d['mean_goldstein']:+.1f}" for d in dyads]
    # 3. the outline, drawn from the TopoJSON inside the file, and a point per location
    countries = [g for g in world_outline()["objects"]["countries"]["geometries"]
                 if g.get("id") != "010"]  # Antarctica is left out  # fmt: skip
    shapes = page.locator("#chart-map g.mark-shape.role-mark path")
    assert shapes.count() == len(countries) > 170
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('#chart-map g.mark-shape.role-mark path'))"
        ".map(p => (p.getAttribute('d') || '').length)"
    )
    assert sum(drawn) > 50_000 and sum(1 for n in drawn if n > 20) > 150
    box = page.locator("#chart-map svg").bounding_box()
    assert box and box["width"] > 1000
    places = data.records("report_places")
    assert opened.count("#chart-map g.mark-symbol.role-mark path") == len(places) > 20
    # 4. the stories and 5. the health tables are there
    assert opened.count("#stories article.story") == 10
    assert opened.count("#stories blockquote mark") > 10
    assert opened.count("#health table") == 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 100_000
    print(f"screenshot of the demo's report: {shot} ({done.size / 1e6:.2f} MB page)")
    page.close()


def test_hostile_text_stays_text_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """Titles, sentences, outlets, actor names and errors carrying a <script> and an
    <img onerror>: nothing runs, nothing is fetched, the text shows as written, and the
    chart tooltips escape it too."""
    path = tmp_path / "hostile.html"
    path.write_text(render_report(hostile_report()), encoding="utf-8")
    opened = Opened(browser, path)
    page = opened.page
    opened.offline()
    assert page.evaluate("window.__pwned") is None
    assert opened.count("img") == 0 and opened.count("a[href^='javascript']") == 0
    text = page.locator("body").inner_text()
    assert f"Title {PAYLOAD}" in text and f"Bob {PAYLOAD}" in text
    assert page.evaluate("document.querySelectorAll('script').length") == 5  # 3 specs, 2 ours
    # the dyad's tooltip shows the actor names, escaped
    page.hover("#chart-dyads g.mark-rect.role-mark path")
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert f"Group {PAYLOAD}" in tooltip.inner_text()
    assert tooltip.locator("img, script").count() == 0
    assert page.evaluate("window.__pwned") is None
    opened.offline()
    json.loads(page.locator("#spec-dyads").inner_text())  # the data itself is intact
    page.close()
