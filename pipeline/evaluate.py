"""Code researchers' own text, and score the coder against a hand-annotated gold file.

`analyse_items` is what `newsevents code` runs; `score` is what `newsevents eval-events` and
the quality-floor test run. Both use the same coder as the pipeline's tag stage.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.coding import EventCoder, default_coder
from pipeline.coding.codes import load_codes
from pipeline.coding.segment import prepare_text
from pipeline.console import format_table
from pipeline.records import Event, PlaceMention
from pipeline.store import event_row, place_row
from pipeline.tag import Analysis, analyse_doc

# Negated and hypothetical mentions are not events that happened or were announced.
FACTUAL = {"asserted", "intended"}


def counts_as_event(event: Event) -> bool:
    """What the factual_events view holds: asserted or intended, the primary reading, and
    at least one actor that is a country, an organisation or a named group."""
    return event.modality in FACTUAL and event.is_primary and "no_actor" not in event.flags


# JSON names for two columns of the events table; the interface uses them.
_JSON_NAMES = {"cameo_code": "cameo", "root_code": "root"}
_LEAD = ("source_actor", "target_actor", "cameo", "root")


def event_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event: the fields of a row of the events table (store.event_row),
    without its keys, with cameo/root for cameo_code/root_code and an ISO event_date."""
    row = event_row(event, "")
    for key in ("event_id", "article_id", "event_idx"):
        del row[key]
    out = {_JSON_NAMES.get(k, k): v for k, v in row.items()}
    out["event_date"] = event.event_date.isoformat() if event.event_date else None
    return {k: out[k] for k in _LEAD} | out


def place_dict(place: PlaceMention) -> dict[str, Any]:
    """The JSON form of a place mention: a row of the places table without article_id."""
    row = place_row(place)
    del row["article_id"]
    return row


class InputError(ValueError):
    """A line of a sentences file is unusable. The message names the line."""


def parse_item(line: str, where: str) -> dict[str, Any]:
    """One line of a sentences file, checked. Raises InputError naming the line."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON: {exc.msg}") from exc
    return check_item(item, where)


def check_item(item: Any, where: str) -> dict[str, Any]:
    """An item ({"id", "text", "date"?}) with a text and, if any, an ISO date."""
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise InputError(f"{where}: expected an object with a 'text' string")
    if item.get("date") is not None:
        try:
            date.fromisoformat(str(item["date"]))
        except ValueError as exc:
            raise InputError(f"{where}: 'date' must be YYYY-MM-DD, got {item['date']!r}") from exc
    return item


def read_items(lines: Iterable[str], source: str = "<input>") -> list[dict[str, Any]]:
    """All items of a sentences file; the first bad line raises InputError."""
    items, errors = read_items_lenient(lines, source)
    if errors:
        raise InputError(errors[0])
    return items


def read_items_lenient(
    lines: Iterable[str], source: str = "<input>"
) -> tuple[list[dict[str, Any]], list[str]]:
    """The good items of a sentences file, and one message per bad line (with its line
    number): a bad line is skipped, never the rest of the file."""
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append(parse_item(line, f"{source}:{n}"))
        except InputError as exc:
            errors.append(str(exc))
    return items, errors


def analyse_items(
    items: Sequence[dict[str, Any]], nlp: Any, coder: EventCoder | None = None
) -> list[Analysis]:
    """Entities, places and located events for each item ({"id", "text", "date"?,
    "feed_country"?}), in input order, via nlp.pipe: what the pipeline does to a body."""
    return list(each_analysis(items, nlp, coder))


def each_analysis(
    items: Sequence[dict[str, Any]], nlp: Any, coder: EventCoder | None = None
) -> Iterator[Analysis]:
    """`analyse_items`, one item at a time as nlp.pipe parses them (so a caller can say
    how far it is)."""
    coder = coder or default_coder()
    texts = (prepare_text(item["text"]) for item in items)
    for item, doc in zip(items, nlp.pipe(texts), strict=True):
        published = date.fromisoformat(item["date"]) if item.get("date") else None
        yield analyse_doc(doc, article_id=str(item.get("id", "")), published=published,
                          coder=coder, feed_country=item.get("feed_country"))  # fmt: skip


def code_items(
    items: Sequence[dict[str, Any]], nlp: Any, coder: EventCoder | None = None
) -> list[list[Event]]:
    """Events for each item, in input order (`analyse_items`, events only)."""
    return [a.events for a in analyse_items(items, nlp, coder)]


# --- scoring -----------------------------------------------------------------------------


def _country(code: str) -> str:
    return code[:3] if code else ""


@cache
def _plover_of() -> dict[str, str]:
    return {code: info.plover for code, info in load_codes().items()}


def plover(event: dict[str, Any]) -> str:
    """The PLOVER category of an event: its own `plover` field (a PLOVER-coded gold
    set), else the one the code table maps its CAMEO code to ("" for roots 01 and 02)."""
    if event.get("plover") is not None:
        return str(event["plover"]).upper()
    return _plover_of().get(str(event.get("cameo", "")), "")


def keys(event: dict[str, Any], level: str) -> tuple[str, ...]:
    """What must agree at each level: root; root + source/target country; exact code +
    both actor codes; the PLOVER category."""
    src, tgt = event.get("source", "") or "", event.get("target", "") or ""
    if level == "plover":
        return (plover(event),)
    cameo = str(event["cameo"])
    if level == "root":
        return (cameo[:2],)
    if level == "dyad":
        return (cameo[:2], _country(src), _country(tgt))
    return (cameo, src, tgt)


LEVELS = ("root", "dyad", "exact", "plover")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    levels: dict[str, Counts] = field(default_factory=lambda: {lv: Counts() for lv in LEVELS})
    by_root: dict[str, Counts] = field(default_factory=dict)  # at the dyad level
    by_root_root: dict[str, Counts] = field(default_factory=dict)  # at the root level
    sentences: int = 0
    no_event_items: int = 0  # gold items with no event
    no_event_hit: int = 0  # ... of which the coder gave at least one event


def score(
    gold: Sequence[Sequence[dict[str, Any]]], predicted: Sequence[Sequence[dict[str, Any]]]
) -> Scores:
    """Compare per-item multisets of events (an item is a sentence or a whole article).
    Each event is a dict with source, target and cameo (or plover); predictions with a
    non-factual modality, and gold events marked "primary": false, are left out. The
    CAMEO levels are scored only when every gold event has a CAMEO code."""
    result = Scores(sentences=len(gold))
    gold = [[e for e in g if e.get("primary", True) is not False] for g in gold]
    has_cameo = all("cameo" in e for g in gold for e in g)
    for gold_events, pred_events in zip(gold, predicted, strict=True):
        pred_events = [e for e in pred_events if e.get("modality", "asserted") in FACTUAL]
        if not gold_events:
            result.no_event_items += 1
            result.no_event_hit += bool(pred_events)
        for level in LEVELS:
            if level != "plover" and not has_cameo:
                continue
            g = Counter(keys(e, level) for e in gold_events)
            p = Counter(keys(e, level) for e in pred_events)
            hit = sum((g & p).values())
            c = result.levels[level]
            c.tp += hit
            c.fp += sum(p.values()) - hit
            c.fn += sum(g.values()) - hit
            if level in {"root", "dyad"}:
                table = result.by_root if level == "dyad" else result.by_root_root
                for key in set(g) | set(p):
                    root = table.setdefault(key[0], Counts())
                    both = min(g[key], p[key])
                    root.tp += both
                    root.fp += p[key] - both
                    root.fn += g[key] - both
    return result


def predicted_dicts(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The events that count (`counts_as_event`), as dicts for `score`."""
    return [
        {
            "source": e.source.code,
            "target": e.target.code if e.target else "",
            "cameo": e.cameo_code,
            "modality": e.modality,
        }
        for e in events
        if counts_as_event(e)
    ]


def split_of(item_id: str) -> str:
    """The half of a gold set an item belongs to: "tune" (errors may be read and rules
    changed for them) or "report" (never read; its figures are the ones published). The
    split is fixed by the item's id, so it never depends on the coder."""
    return "tune" if int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 2 == 0 else "report"


def evaluate_file(
    path: Path, nlp: Any, coder: EventCoder | None = None, split: str = "all"
) -> Scores:
    items = read_items(path.read_text(encoding="utf-8").splitlines(), str(path))
    if split != "all":
        items = [it for it in items if split_of(str(it.get("id", ""))) == split]
    events = code_items(items, nlp, coder)
    return score([it.get("events", []) for it in items], [predicted_dicts(e) for e in events])


def format_scores(scores: Scores) -> str:
    """The scores as `newsevents eval-events` prints them: two tables (pipeline.console)."""

    def d(x: float) -> Decimal:  # three decimals, right-aligned as a number
        return Decimal(f"{x:.3f}")

    levels = [[level, d(c.precision), d(c.recall), d(c.f1), c.tp, c.fp, c.fn]
              for level in LEVELS if (c := scores.levels[level]).tp or c.fp or c.fn]  # fmt: skip
    columns = ["level", "precision", "recall", "f1", "tp", "fp", "fn"]
    lines = [f"{scores.sentences} items (sentences or articles)", "",
             format_table(columns, levels)]  # fmt: skip
    if scores.by_root_root:
        roots = []
        for root in sorted(scores.by_root_root):
            c = scores.by_root_root[root]
            f1 = scores.by_root.get(root, Counts()).f1
            roots.append([root, d(c.precision), d(c.recall), d(c.f1), c.tp + c.fn, d(f1)])
        columns = ["root", "precision", "recall", "f1", "gold", "dyad f1"]
        lines += ["", "per root: at the root level, and root + both countries (dyad)",
                  format_table(columns, roots)]  # fmt: skip
    if scores.no_event_items:
        lines.append(
            f"\nno-event items given an event: {scores.no_event_hit} of {scores.no_event_items}"
        )
    lines.append(
        "\nlevels: root = CAMEO root; dyad = root + source and target country; "
        "exact = full code + both actor codes; plover = PLOVER category"
    )
    return "\n".join(lines)
