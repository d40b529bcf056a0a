"""Code researchers' own text, and score the coder against a hand-annotated gold file.

`code_items` is what `newsevents code` runs; `score` is what `newsevents eval-events` and
the quality-floor test run. Both use the same coder as the pipeline's tag stage.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.coding import EventCoder, default_coder
from pipeline.records import Event
from pipeline.store import event_row

# Negated and hypothetical mentions are not events that happened or were announced.
FACTUAL = {"asserted", "intended"}


# JSON names for two columns of the events table; the interface uses them.
_JSON_NAMES = {"cameo_code": "cameo", "root_code": "root"}
_LEAD = ("source_actor", "target_actor", "cameo", "root")


def event_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event: the fields of a row of the events table (store.event_row),
    without its keys, with cameo/root for cameo_code/root_code and an ISO event_date."""
    row = event_row(event)
    for key in ("event_id", "article_id", "event_idx"):
        del row[key]
    out = {_JSON_NAMES.get(k, k): v for k, v in row.items()}
    out["target_actor"] = out["target_actor"] or ""
    out["event_date"] = event.event_date.isoformat() if event.event_date else None
    return {k: out[k] for k in _LEAD} | out


class InputError(ValueError):
    """A line of a sentences file is unusable. The message names the line."""


def read_items(lines: Iterable[str], source: str = "<input>") -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}:{n}: not valid JSON: {exc.msg}") from exc
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f"{source}:{n}: expected an object with a 'text' string")
        if item.get("date") is not None:
            try:
                date.fromisoformat(str(item["date"]))
            except ValueError as exc:
                raise InputError(f"{source}:{n}: 'date' must be YYYY-MM-DD") from exc
        items.append(item)
    return items


def code_items(
    items: Sequence[dict[str, Any]], nlp: Any, coder: EventCoder | None = None
) -> list[list[Event]]:
    """Events for each item ({"id", "text", "date"?}), in input order, via nlp.pipe."""
    coder = coder or default_coder()
    out: list[list[Event]] = []
    for item, doc in zip(items, nlp.pipe(item["text"] for item in items), strict=True):
        published = date.fromisoformat(item["date"]) if item.get("date") else None
        out.append(coder.code_doc(doc, article_id=str(item.get("id", "")), published=published))
    return out


# --- scoring -----------------------------------------------------------------------------


def _country(code: str) -> str:
    return code[:3] if code else ""


def keys(event: dict[str, Any], level: str) -> tuple[str, ...]:
    """What must agree at each level: root; root + source/target country; exact code +
    both actor codes."""
    src, tgt = event.get("source", "") or "", event.get("target", "") or ""
    cameo = str(event["cameo"])
    if level == "root":
        return (cameo[:2],)
    if level == "dyad":
        return (cameo[:2], _country(src), _country(tgt))
    return (cameo, src, tgt)


LEVELS = ("root", "dyad", "exact")


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
    sentences: int = 0


def score(
    gold: Sequence[Sequence[dict[str, Any]]], predicted: Sequence[Sequence[dict[str, Any]]]
) -> Scores:
    """Compare per-sentence multisets of events. Each event is a dict with source, target
    and cameo; predictions with a non-factual modality are ignored."""
    result = Scores(sentences=len(gold))
    for gold_events, pred_events in zip(gold, predicted, strict=True):
        pred_events = [e for e in pred_events if e.get("modality", "asserted") in FACTUAL]
        for level in LEVELS:
            g = Counter(keys(e, level) for e in gold_events)
            p = Counter(keys(e, level) for e in pred_events)
            hit = sum((g & p).values())
            c = result.levels[level]
            c.tp += hit
            c.fp += sum(p.values()) - hit
            c.fn += sum(g.values()) - hit
            if level == "dyad":
                for key in set(g) | set(p):
                    root = result.by_root.setdefault(key[0], Counts())
                    both = min(g[key], p[key])
                    root.tp += both
                    root.fp += p[key] - both
                    root.fn += g[key] - both
    return result


def predicted_dicts(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [
        {
            "source": e.source.code,
            "target": e.target.code if e.target else "",
            "cameo": e.cameo_code,
            "modality": e.modality,
        }
        for e in events
    ]


def evaluate_file(path: Path, nlp: Any, coder: EventCoder | None = None) -> Scores:
    items = read_items(path.read_text(encoding="utf-8").splitlines(), str(path))
    events = code_items(items, nlp, coder)
    return score([it.get("events", []) for it in items], [predicted_dicts(e) for e in events])


def format_scores(scores: Scores) -> str:
    lines = [f"{scores.sentences} sentences", "", "level   precision  recall  f1     tp   fp   fn"]
    names = {"root": "root", "dyad": "dyad", "exact": "exact"}
    for level in LEVELS:
        c = scores.levels[level]
        lines.append(
            f"{names[level]:<7} {c.precision:>9.3f}  {c.recall:>6.3f}  {c.f1:.3f}  "
            f"{c.tp:>4} {c.fp:>4} {c.fn:>4}"
        )
    lines += ["", "per root (root + source and target country):",
              "root  precision  recall  f1     tp   fp   fn"]  # fmt: skip
    for root in sorted(scores.by_root):
        c = scores.by_root[root]
        lines.append(
            f"{root:<5} {c.precision:>9.3f}  {c.recall:>6.3f}  {c.f1:.3f}  "
            f"{c.tp:>4} {c.fp:>4} {c.fn:>4}"
        )
    lines.append(
        "\nlevels: root = CAMEO root; dyad = root + source and target country; "
        "exact = full code + both actor codes"
    )
    return "\n".join(lines)
