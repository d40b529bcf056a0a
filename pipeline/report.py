"""The daily HTML report (`newsevents report`, news_daily): query results in, one page out.

`render_report(data)` takes the rows of the report queries (sql/reports/report_*.sql
and the status reports, read from one snapshot by `pipeline.daily.collect_report`) and
returns one self-contained HTML document. Everything the page needs is inside it: the
Vega, Vega-Lite and Vega-Embed scripts (the bundle that vl-convert-python ships), the
chart specifications and their data, the world outline (pipeline/data/world/), and the
styles. It fetches nothing, and its Content-Security-Policy forbids it to. Its one side
effect: given a `bundle_dir`, it keeps the Vega bundle there for the next process.

Text from articles (titles, sentences, actor names, outlets, errors) is hostile input:
every string goes into the page through `html.escape`, chart data goes in as JSON with
`<`, `>` and `&` escaped (so no `</script>` can close its tag), a link is made only of an
http(s) URL, and Vega draws chart text as SVG text nodes and escapes its tooltips.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import html
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

Rows = tuple[list[str], list[tuple[Any, ...]]]

#: The reports read for the window, with $start and $end (sql/reports/).
WINDOW_REPORTS = (
    "report_totals",
    "report_days",
    "report_dyads",
    "report_places",
    "report_stories",
    "report_extraction",
)
#: The reports of the store's health, whatever the window.
HEALTH_REPORTS = ("status_feeds", "status_hosts", "report_runs")

QUAD_CLASSES = {
    1: "Verbal cooperation",
    2: "Material cooperation",
    3: "Verbal conflict",
    4: "Material conflict",
}
# Blues for cooperation, reds for conflict; the darker, the more material.
QUAD_COLOURS = {1: "#9ecae1", 2: "#2171b5", 3: "#fc9272", 4: "#cb181d"}
# Goldstein scores run from -10 to +10; means beyond ±7 are rare and take the end colour.
GOLDSTEIN_DOMAIN = [-7, 7]
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


@dataclass(frozen=True)
class ReportData:
    """What one report shows: the window, and the rows of each report query by name."""

    end: date  # the window's last day (UTC)
    days: int  # the window's length in days, the last day included
    generated_at: datetime
    tables: Mapping[str, Rows]
    version: str = ""

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    def records(self, name: str) -> list[dict[str, Any]]:
        columns, rows = self.tables.get(name, ([], []))
        return [dict(zip(columns, row, strict=True)) for row in rows]


def window(end: date, days: int) -> tuple[date, date]:
    """The first and last day of a window of `days` days ending on `end`."""
    if days < 1:
        raise ValueError(f"a report covers at least one day, not {days}")
    return end - timedelta(days=days - 1), end


# --- assets ---------------------------------------------------------------------------------


# The script vl-convert bundles Vega, Vega-Lite and Vega-Embed around (vegaEmbed is global).
BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed;"


def bundle_name() -> str:
    """The name of the cached bundle file: it changes with vl-convert (which pins Vega,
    Vega-Lite and Vega-Embed), the Vega-Lite version Altair writes, and the snippet, so a
    new version of either never reads a stale bundle."""
    from importlib.metadata import version

    import altair as alt

    vl = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    digest = hashlib.sha256(BUNDLE_SNIPPET.encode()).hexdigest()[:12]
    return f"vega-bundle-vlc{version('vl-convert-python')}-vl{vl}-{digest}.js"


@functools.cache
def vega_bundle(cache_dir: Path | None = None) -> str:
    """Vega, Vega-Lite and Vega-Embed in one script that defines window.vegaEmbed, as
    vl-convert-python ships it (no download), for the Vega-Lite version Altair writes.

    vl-convert builds it anew in every process (2-5 s): with `cache_dir` (the user's
    cache, or the store's work directory: pipeline.daily.bundle_cache_dir), it is read
    from the file `bundle_name()` there, or built once and written there atomically for
    the next process."""
    path = cache_dir / bundle_name() if cache_dir else None
    if path and path.is_file():
        return path.read_text(encoding="utf-8")
    import altair as alt
    import vl_convert as vlc

    version = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    bundle = vlc.javascript_bundle(BUNDLE_SNIPPET, vl_version=version)
    bundle = bundle.replace("</script", "<\\/script")  # it has none; a future one must not end ours
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(bundle, encoding="utf-8")
            os.replace(tmp, path)  # a reader sees the whole file or none
        finally:
            tmp.unlink(missing_ok=True)
    return bundle


@functools.cache
def world_outline() -> dict[str, Any]:
    """Natural Earth's 1:110m countries as TopoJSON (pipeline/data/world/README.md)."""
    path = resources.files("pipeline") / "data" / "world" / "countries-110m.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def country_names() -> dict[str, str]:
    """ISO 3166 alpha-3 code -> English short name, from the gazetteer's country table."""
    path = resources.files("pipeline") / "data" / "gazetteer" / "countries.tsv"
    with path.open(encoding="utf-8") as handle:
        return {row["iso3"]: row["name"] for row in csv.DictReader(handle, delimiter="\t")}


# --- values -----------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' characters, so no
    text can end the element or open a comment in it."""
    text = json.dumps(_json_value(value), ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _day_label(day: date, days: int) -> str:
    return f"{day:%a} {day.day} {day:%b}" if days <= 14 else f"{day.day} {day:%b}"


def _span(start: date, end: date) -> str:
    if start == end:
        return f"{end.day} {end:%B %Y}"
    left = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{left} – {end.day} {end:%b %Y}"


def _signed(value: Any) -> str:
    return "" if value is None else f"{float(value):+.1f}"


def _side(key: str | None, name: str | None) -> str:
    """A dyad side for people: the country's name, else the actor's most frequent name."""
    key = key or ""
    return country_names().get(key) or name or key


def safe_url(url: Any) -> str | None:
    """The URL if it is http(s), else None: a javascript: or data: URL is never a link."""
    text = str(url or "")
    return text if re.match(r"https?://", text, flags=re.I) else None


# --- charts ----------------------------------------------------------------------------------


def _configure(chart: Any) -> Any:
    return (
        chart.configure(font=FONT, background="transparent")
        .configure_view(stroke=None)
        .configure_axis(
            labelColor="#4a5361", titleColor="#4a5361", gridColor="#e6e9ee",
            domainColor="#c5cbd3", tickColor="#c5cbd3", labelFontSize=11, titleFontSize=11,
        )
        .configure_legend(labelColor="#4a5361", titleColor="#4a5361", labelFontSize=11,
                          titleFontSize=11)
    )  # fmt: skip


def days_chart(data: ReportData) -> dict[str, Any] | None:
    """Chart 1: factual events per day, stacked by QuadClass."""
    import altair as alt

    rows = data.records("report_days")
    if not rows:
        return None
    all_days = [data.start + timedelta(days=i) for i in range(data.days)]
    labels = [_day_label(d, data.days) for d in all_days]
    values = [
        {
            "day": r["day"].isoformat() if isinstance(r["day"], date) else str(r["day"]),
            "label": _day_label(r["day"], data.days) if isinstance(r["day"], date) else "",
            "quad_class": int(r["quad_class"]),
            "quad": QUAD_CLASSES.get(int(r["quad_class"]), str(r["quad_class"])),
            "events": int(r["events"]),
        }
        for r in rows
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(cornerRadiusEnd=0, stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=alt.X("label:O", title=None, sort=labels, scale=alt.Scale(domain=labels),
                    axis=alt.Axis(labelAngle=0 if data.days <= 10 else -45)),
            y=alt.Y("sum(events):Q", title="Factual events", stack="zero"),
            color=alt.Color("quad:N", title=None,
                            scale=alt.Scale(domain=list(QUAD_CLASSES.values()),
                                            range=list(QUAD_COLOURS.values())),
                            legend=alt.Legend(orient="top", direction="horizontal",
                                              symbolType="square")),
            order=alt.Order("quad_class:Q", sort="ascending"),
            tooltip=[alt.Tooltip("day:N", title="Day"), alt.Tooltip("quad:N", title="QuadClass"),
                     alt.Tooltip("events:Q", title="Events")],
        )
        .properties(width="container", height=370)
    )  # fmt: skip
    return dict(_configure(chart).to_dict())


def dyads_chart(data: ReportData) -> dict[str, Any] | None:
    """Chart 2: the most frequent directed dyads, coloured by their mean Goldstein score."""
    import altair as alt

    rows = data.records("report_dyads")
    if not rows:
        return None
    values = [
        {
            "dyad": f"{_side(r['source_key'], r['source_name'])} → "
            f"{_side(r['target_key'], r['target_name'])}",
            "codes": f"{r['source_key']} → {r['target_key']}",
            "example": f"{r['source_name'] or ''} → {r['target_name'] or ''}",
            "events": int(r["events"]),
            "mean_goldstein": float(r["mean_goldstein"] or 0),
            "label": _signed(r["mean_goldstein"]),
            "cooperation": int(r["cooperation_events"]),
            "conflict": int(r["conflict_events"]),
        }
        for r in rows
    ]
    order = [str(v["dyad"]) for v in values]
    base = alt.Chart(alt.Data(values=values)).encode(
        y=alt.Y("dyad:N", title=None, sort=order, axis=alt.Axis(labelLimit=260)),
        x=alt.X("events:Q", title="Factual events"),
        tooltip=[
            alt.Tooltip("dyad:N", title="Dyad"), alt.Tooltip("codes:N", title="Codes"),
            alt.Tooltip("example:N", title="Most frequent actors"),
            alt.Tooltip("events:Q", title="Events"),
            alt.Tooltip("mean_goldstein:Q", title="Mean Goldstein", format="+.2f"),
            alt.Tooltip("cooperation:Q", title="Cooperation events"),
            alt.Tooltip("conflict:Q", title="Conflict events"),
        ],
    )  # fmt: skip
    bars = base.mark_bar(cornerRadiusEnd=2, height={"band": 0.75}).encode(
        color=alt.Color("mean_goldstein:Q", title="Mean Goldstein",
                        scale=alt.Scale(scheme="redblue", domain=GOLDSTEIN_DOMAIN, clamp=True),
                        legend=alt.Legend(orient="bottom", gradientLength=220))
    )  # fmt: skip
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#4a5361").encode(text="label:N")
    chart = alt.layer(bars, labels).properties(width="container", height=26 * len(values))
    return dict(_configure(chart).to_dict())


def map_chart(data: ReportData) -> dict[str, Any] | None:
    """Chart 3: where the events happened, as points on the bundled world outline."""
    import altair as alt

    rows = data.records("report_places")
    if not rows:
        return None
    values = [
        {
            "location": r["location"],
            "country": r["country"] or "",
            "precision": r["precision"] or "",
            "latitude": float(r["latitude"]),
            "longitude": float(r["longitude"]),
            "events": int(r["events"]),
            "mean_goldstein": float(r["mean_goldstein"] or 0),
            "top_event_type": r["top_event_type"] or "",
        }
        for r in rows
    ]
    # The outline goes in by name, after Altair has validated the spec: validating its
    # 108 KB of arcs against the schema takes a second and proves nothing.
    countries = alt.DataFormat(type="topojson", feature="countries")
    world = alt.NamedData(name="world_outline", format=countries)
    land = (
        alt.Chart(world)
        .mark_geoshape(fill="#e4e8ee", stroke="#ffffff", strokeWidth=0.6)
        .transform_filter("datum.id !== '010'")  # Antarctica: no news, a third of the map
    )
    points = (
        alt.Chart(alt.Data(values=values))
        .mark_circle(stroke="#3b4452", strokeWidth=0.6, opacity=0.9)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            size=alt.Size("events:Q", title="Events",
                          scale=alt.Scale(range=[30, 700], zero=False),
                          legend=alt.Legend(orient="bottom", symbolType="circle",
                                            symbolFillColor="#9aa3ae",
                                            symbolStrokeColor="#3b4452")),
            color=alt.Color("mean_goldstein:Q", title="Mean Goldstein",
                            scale=alt.Scale(scheme="redblue", domain=GOLDSTEIN_DOMAIN,
                                            clamp=True),
                            legend=alt.Legend(orient="bottom", gradientLength=220)),
            order=alt.Order("events:Q", sort="descending"),
            tooltip=[alt.Tooltip("location:N", title="Location"),
                     alt.Tooltip("country:N", title="Country"),
                     alt.Tooltip("precision:N", title="Precision"),
                     alt.Tooltip("events:Q", title="Events"),
                     alt.Tooltip("mean_goldstein:Q", title="Mean Goldstein", format="+.2f"),
                     alt.Tooltip("top_event_type:N", title="Most frequent type")],
        )
    )  # fmt: skip
    chart = (
        alt.layer(land, points).project(type="equalEarth").properties(width="container", height=430)
    )
    spec = dict(_configure(chart).to_dict())
    spec.setdefault("datasets", {})["world_outline"] = world_outline()
    return spec


# --- HTML ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="none">–</span>'
    if isinstance(value, datetime):
        return esc(_when(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return esc(f"{value:g}")
    if isinstance(value, list | tuple):
        return esc("; ".join(str(v) for v in value))
    return esc(value)


def table(
    rows: Rows,
    *,
    skip: Sequence[str] = (),
    bad: Callable[[dict[str, Any]], bool] = lambda _row: False,
    empty: str = "Nothing to show.",
) -> str:
    """An HTML table of a query's rows, every cell escaped; rows for which `bad` holds are
    marked."""
    columns, values = rows
    shown = [c for c in columns if c not in skip]
    if not values:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(c.replace('_', ' '))}</th>" for c in shown)
    body = []
    for row in values:
        record = dict(zip(columns, row, strict=True))
        cls = ' class="bad"' if bad(record) else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_cell(record[c])}</td>" for c in shown)
                    + "</tr>")  # fmt: skip
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def highlight(sentence: str, triggers: Sequence[str | None]) -> str:
    """The sentence, escaped, with the first occurrence of each trigger marked."""
    spans: list[tuple[int, int]] = []
    lowered = sentence.lower()
    for trigger in triggers:
        at = lowered.find(trigger.lower()) if trigger else -1
        if at >= 0 and not any(at < e and s < at + len(trigger or "") for s, e in spans):
            spans.append((at, at + len(trigger or "")))
    out, last = [], 0
    for begin, end in sorted(spans):
        out += [esc(sentence[last:begin]), "<mark>", esc(sentence[begin:end]), "</mark>"]
        last = end
    return "".join([*out, esc(sentence[last:])])


def _n(count: Any, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _actor(name: str | None, country: str | None) -> str:
    code = f' <span class="code">{esc(country)}</span>' if country else ""
    return f"<b>{esc(name or '?')}</b>{code}"


def _event_line(event: Mapping[str, Any]) -> str:
    quad = int(event.get("quad_class") or 0)
    target = ""
    if event.get("target_name") or event.get("target_actor"):
        target = " → " + _actor(event.get("target_name"), event.get("target_country"))
    counts = []
    if event.get("rollup_articles") is not None:
        # said only when the event is reported more than once
        if int(event["rollup_mentions"] or 0) > 1 or int(event["rollup_articles"] or 0) > 1:
            counts.append(
                f"event_rollup: {_n(event['rollup_mentions'], 'mention')} in "
                f"{_n(event['rollup_articles'], 'article')}, "
                f"{_n(event['rollup_stories'], 'story', 'stories')}, "
                f"{_n(event['rollup_sources'], 'outlet')}"
            )
    elif int(event.get("mentions") or 1) > 1:
        counts.append(f"{event['mentions']} mentions in this story")
    if event.get("event_date"):
        counts.append(f"on {esc(_when(event['event_date']))}")
    if event.get("location"):
        counts.append(f"in {esc(event['location'])}")
    return (
        f'<div class="ev"><span class="quad q{quad}">'
        f"{esc(QUAD_CLASSES.get(quad, 'QuadClass ?'))}</span> "
        f"{_actor(event.get('source_name'), event.get('source_country'))}{target}: "
        f"{esc(event.get('root_name'))} <span class='code'>{esc(event.get('cameo_code'))}</span>"
        f" <span class='gold'>Goldstein {esc(_signed(event.get('goldstein')))}</span>"
        + (f" <span class='counts'>· {' · '.join(counts)}</span>" if counts else "")
        + "</div>"
    )


def events_html(events: Sequence[Mapping[str, Any]]) -> str:
    """A story's events, grouped under the sentence each was coded from."""
    by_sentence: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        by_sentence.setdefault(str(event.get("sentence") or ""), []).append(event)
    items = [
        "<li>" + "".join(_event_line(e) for e in group)
        + f"<blockquote>{highlight(sentence, [e.get('trigger') for e in group])}</blockquote></li>"
        for sentence, group in by_sentence.items()
    ]  # fmt: skip
    return f'<ul class="events">{"".join(items)}</ul>'


def stories_html(data: ReportData) -> str:
    stories = data.records("report_stories")
    if not stories:
        return '<p class="empty">No articles with a usable body were published in this window.</p>'
    out = []
    for rank, story in enumerate(stories, 1):
        title = esc(story["title"] or "(untitled)")
        url = safe_url(story["url"])
        heading = f'<a href="{esc(url)}" rel="noopener noreferrer">{title}</a>' if url else title
        outlets = ", ".join(esc(o) for o in story["outlets"] or [])
        meta = [
            f"{story['articles']} article{'s' if story['articles'] != 1 else ''}"
            + (f" (of {story['articles_all_time']} in all)"
               if story.get("articles_all_time") not in (None, story["articles"]) else ""),
            f"{story['outlet_count']} outlet{'s' if story['outlet_count'] != 1 else ''}: "
            f"{outlets}",
            f"first published {esc(_when(story['first_published_at']))}",
            f"{story['events']} coded event{'s' if story['events'] != 1 else ''}",
        ]  # fmt: skip
        events = story["top_events"] or []
        more = story["events"] - len(events)
        listing = (
            events_html(events)
            + (f'<p class="more">and {more} more event(s)</p>' if more > 0 else "")
            if events
            else '<p class="empty">No coded events.</p>'
        )
        out.append(
            f'<article class="story"><h3><span class="rank">{rank}</span>{heading}</h3>'
            f'<p class="meta">{" · ".join(meta)}</p>{listing}</article>'
        )
    return "".join(out)


def _kpis(data: ReportData) -> str:
    totals = (data.records("report_totals") or [{}])[0]
    feeds = data.records("status_feeds")
    failing = sum(1 for f in feeds if (f.get("failures_in_a_row") or 0) > 0)
    events = int(totals.get("events") or 0)
    located = int(totals.get("located_events") or 0)
    share = f"{100 * located / events:.0f}%" if events else "–"
    items = [
        ("Articles", totals.get("articles", 0), f"{totals.get('usable_articles', 0)} usable"),
        ("Stories", totals.get("stories", 0), f"from {totals.get('feeds', 0)} feed(s)"),
        ("Factual events", events, "asserted or intended"),
        ("Located", share, f"{located} events on the map"),
        ("Feeds failing", failing, f"of {len(feeds)} feed(s) now"),
    ]
    return "".join(
        f'<div class="kpi{" bad" if label == "Feeds failing" and failing else ""}">'
        f'<div class="value">{esc(value)}</div><div class="label">{esc(label)}</div>'
        f'<div class="sub">{esc(sub)}</div></div>'
        for label, value, sub in items
    )


def _chart(name: str, spec: dict[str, Any] | None, empty: str) -> str:
    if spec is None:
        return f'<p class="empty">{esc(empty)}</p>'
    return (
        f'<div class="chart" id="chart-{name}" data-chart="{name}"></div>'
        f'<script type="application/json" id="spec-{name}">{script_json(spec)}</script>'
    )


def _health(data: ReportData) -> str:
    runs = data.tables.get("report_runs", ([], []))
    latest = data.records("report_runs")[:1]
    errors = list(latest[0]["errors"] or []) if latest else []
    error_list = "".join(f"<li>{esc(e)}</li>" for e in errors[:15])
    if len(errors) > 15:
        error_list += f"<li>… and {len(errors) - 15} more (table runs, column errors)</li>"
    failures = (
        f'<h3>Failures of the latest run</h3><ul class="errors">{error_list}</ul>'
        if errors
        else '<p class="empty">The latest run had no failures.</p>'
    )
    return (
        "<h3>Feeds</h3>"
        + table(data.tables.get("status_feeds", ([], [])),
                bad=lambda r: (r.get("failures_in_a_row") or 0) > 0, empty="No feeds yet.")
        + "<h3>Extraction, articles published in the window</h3>"
        + table(data.tables.get("report_extraction", ([], [])),
                bad=lambda r: r.get("status") != "ok", empty="No articles in this window.")
        + "<h3>Recent runs</h3>"
        + table(runs, skip=("errors",), bad=lambda r: r.get("status") == "failed",
                empty="No runs yet.")
        + failures
        + "<h3>Hosts</h3>"
        + table(data.tables.get("status_hosts", ([], [])),
                bad=lambda r: (r.get("consecutive_failures") or 0) > 0, empty="No fetches yet.")
    )  # fmt: skip


_SCRIPT = """
(function () {
  var charts = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  var options = {actions: false, renderer: "svg"};
  window.reportViews = {};
  Promise.all(charts.map(function (el) {
    var spec = JSON.parse(document.getElementById("spec-" + el.dataset.chart).textContent);
    return vegaEmbed(el, spec, options).then(function (result) {
      window.reportViews[el.dataset.chart] = result.view;
      el.dataset.rendered = "true";
    }).catch(function (error) {
      el.dataset.failed = String(error);
      el.textContent = "This chart could not be drawn: " + error;
    });
  })).then(function () { document.body.dataset.charts = "done"; });
})();
"""

# Nothing may be fetched: no connection, image, font, frame or stylesheet from anywhere.
# Vega compiles its expressions with Function(), hence 'unsafe-eval'.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
)

_STYLE = """
:root { --ink: #1d2430; --muted: #5b6472; --line: #e3e7ed; --card: #ffffff; --bg: #f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 FONT; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 24px 48px; }
header h1 { font-size: 26px; margin: 0 0 2px; letter-spacing: -0.01em; }
header .eyebrow { color: var(--muted); text-transform: uppercase; font-size: 12px;
  letter-spacing: 0.08em; margin: 0; }
header .sub { color: var(--muted); margin: 4px 0 18px; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin-bottom: 16px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 16px; }
.kpi .value { font-size: 26px; font-weight: 650; }
.kpi .label { font-weight: 600; }
.kpi .sub { color: var(--muted); font-size: 12px; }
.kpi.bad .value { color: #b3261e; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px 20px 18px; margin-bottom: 16px; min-width: 0; }
section h2 { font-size: 17px; margin: 0 0 2px; }
section > .note { color: var(--muted); margin: 0 0 12px; font-size: 13px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
.chart { width: 100%; }
.empty { color: var(--muted); font-style: italic; }
.story { border-top: 1px solid var(--line); padding: 12px 0 4px; }
.story:first-of-type { border-top: none; padding-top: 0; }
.story h3 { font-size: 15px; margin: 0 0 2px; }
.story h3 a { color: var(--ink); text-decoration: none; }
.story h3 a:hover { text-decoration: underline; }
.rank { display: inline-block; min-width: 22px; color: var(--muted); font-weight: 500; }
.meta { color: var(--muted); margin: 0 0 6px 22px; font-size: 13px; }
.events { list-style: none; margin: 0 0 0 22px; padding: 0; }
.events li { margin: 0 0 8px; }
.ev { font-size: 13px; }
.ev + .ev { margin-top: 3px; }
blockquote { margin: 3px 0 0; padding: 4px 10px; border-left: 3px solid var(--line);
  color: #333c4a; background: #fafbfc; font-size: 13px; }
mark { background: #fff1b8; padding: 0 1px; }
.quad { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px;
  color: #fff; vertical-align: 1px; }
.q1 { background: #6baed6; } .q2 { background: #2171b5; }
.q3 { background: #ef6548; } .q4 { background: #cb181d; } .q0 { background: #888; }
.code { color: var(--muted); font-size: 11px; font-family: ui-monospace, monospace; }
.gold, .counts { color: var(--muted); }
.more { color: var(--muted); margin: 0 0 6px 22px; font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th { text-align: left; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line);
  padding: 4px 8px; white-space: nowrap; }
td { border-bottom: 1px solid #eef1f4; padding: 4px 8px; vertical-align: top;
  max-width: 420px; overflow-wrap: anywhere; }
tr.bad td { background: #fdecea; }
.errors { font-size: 12.5px; color: #8c1d18; padding-left: 20px; }
.none { color: #b0b6bf; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 8px; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; }
  .kpis { grid-template-columns: repeat(2, 1fr); } }
""".replace("FONT", FONT)


def render_report(data: ReportData, bundle_dir: Path | None = None) -> str:
    """The whole report as one self-contained HTML document. `bundle_dir`: where the Vega
    bundle is cached between processes (`vega_bundle`)."""
    start, end = data.start, data.end
    days = days_chart(data)
    dyads = dyads_chart(data)
    where = map_chart(data)
    charts = [days, dyads, where]
    scripts = (
        f"<script>{vega_bundle(bundle_dir)}</script><script>{_SCRIPT}</script>"
        if any(c is not None for c in charts)
        else ""
    )
    title = f"News events, {_span(start, end)}"
    generated = data.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="newsevents {esc(data.version)}">
<title>{esc(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<header>
<p class="eyebrow">newsevents · daily report</p>
<h1>{esc(title)}</h1>
<p class="sub">{data.days} day{"s" if data.days != 1 else ""} ending {end.isoformat()} (UTC).
Each event counts on the publication day of the article that reports it. Factual events only:
asserted or intended, in their primary reading, with an identified actor.
Generated {esc(generated)}.</p>
</header>
<div class="kpis">{_kpis(data)}</div>
<div class="grid">
<section id="days"><h2>Events per day by QuadClass</h2>
<p class="note">Cooperation in blue, conflict in red; the darker shade is material,
the lighter verbal.</p>
{_chart("days", days, "No factual events in this window.")}</section>
<section id="dyads"><h2>Top dyads</h2>
<p class="note">Directed source → target pairs (countries, else actors), by events;
colour and label: mean Goldstein score (−10 conflict … +10 cooperation).</p>
{_chart("dyads", dyads, "No events with both a source and a target in this window.")}</section>
</div>
<section id="map"><h2>Where</h2>
<p class="note">Event locations; size: events, colour: mean Goldstein score. A country or
region without a closer place sits at its centre.</p>
{_chart("map", where, "No located events in this window.")}</section>
<section id="stories"><h2>Top stories</h2>
<p class="note">The stories carried by the most articles and outlets in the window, with
their coded events and the sentences they were coded from (the trigger is marked).</p>
{stories_html(data)}</section>
<section id="health"><h2>Feed and extraction health</h2>
<p class="note">Feeds, hosts and runs as they stood when the report was made; extraction
for the window's articles.</p>
{_health(data)}</section>
<footer>newsevents {esc(data.version)} · one self-contained file: it loads nothing from
the network · charts: Vega-Lite · map: Natural Earth 1:110m</footer>
</main>
{scripts}
</body>
</html>
"""
