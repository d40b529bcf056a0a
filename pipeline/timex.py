"""Resolve date expressions ("on October 30", "in May 2023", "last Saturday") against a
reference date (the article's publication date). Pure functions, no dependencies.

Returns the date and its precision (day, month or year); a month or year is anchored on
its first day. Expressions it cannot read return None: the caller falls back to the
publication date and says so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    d: i
    for i, d in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY_FIRST = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?\b"
)
_MONTH_FIRST = re.compile(
    rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{{4}}))?"
)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}(?:\s+of)?(?:\s+(?P<year>\d{{4}}))?\b")
_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_YEAR = re.compile(r"\b(?P<year>(?:19|20)\d{2})\b")
_WEEKDAY = re.compile(
    r"\b(?P<rel>last|next|this|on)?\s*(?P<wd>" + "|".join(WEEKDAYS) + r")(?:'s|’s)?\b"
)


def _month_before(month: int, ref: date, future: bool) -> int:
    """The year of a month mentioned without one: the latest such month not after the
    reference (or the next one, for future-tense mentions)."""
    if future:
        return ref.year if month >= ref.month else ref.year + 1
    return ref.year if month <= ref.month else ref.year - 1


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def resolve_date(text: str, ref: date, *, future: bool = False) -> tuple[date, str] | None:
    """Resolve one date expression. `future` is set for events in the future tense."""
    low = text.lower().strip()
    if not low:
        return None
    if low in {"today", "tonight", "this morning", "this afternoon", "this evening"}:
        return ref, "day"
    if low in {"yesterday", "last night"}:
        return ref - timedelta(days=1), "day"
    if low == "tomorrow":
        return ref + timedelta(days=1), "day"
    m = _ISO.search(low)
    if m:
        d = _safe(int(m["year"]), int(m["month"]), int(m["day"]))
        return (d, "day") if d else None
    for pattern in (_MONTH_FIRST, _DAY_FIRST):
        m = pattern.search(low)
        if m:
            month, day = MONTHS[m["month"]], int(m["day"])
            if m["year"]:
                year = int(m["year"])
            else:
                year = ref.year
                candidate = _safe(year, month, day)
                if candidate and not future and candidate > ref + timedelta(days=1):
                    year -= 1
                elif candidate and future and candidate < ref:
                    year += 1
            d = _safe(year, month, day)
            if d:
                return d, "day"
    m = _MONTH_YEAR.search(low)
    if m and (m["year"] or low.startswith(("in ", "since ", "by ", "until ")) or low == m[0]):
        month = MONTHS[m["month"]]
        year = int(m["year"]) if m["year"] else _month_before(month, ref, future)
        return date(year, month, 1), "month"
    m = _WEEKDAY.search(low)
    if m:
        target = WEEKDAYS[m["wd"]]
        delta = (ref.weekday() - target) % 7
        if m["rel"] == "next" or (future and m["rel"] != "last"):
            ahead = (target - ref.weekday()) % 7 or 7
            return ref + timedelta(days=ahead), "day"
        if m["rel"] == "last" and delta == 0:
            delta = 7
        return ref - timedelta(days=delta), "day"
    m = _YEAR.search(low)
    if m:
        return date(int(m["year"]), 1, 1), "year"
    if "last week" in low:
        return ref - timedelta(days=7), "day"
    if "last month" in low:
        first = ref.replace(day=1) - timedelta(days=1)
        return first.replace(day=1), "month"
    if "last year" in low:
        return date(ref.year - 1, 1, 1), "year"
    return None
