"""resolve_date against a reference date: Sunday 2 November 2025."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.timex import resolve_date

REF = date(2025, 11, 2)  # a Sunday


def test_reference_is_a_sunday() -> None:
    assert REF.weekday() == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("October 30", date(2025, 10, 30)),
        ("on October 30", date(2025, 10, 30)),
        ("Oct. 30", date(2025, 10, 30)),
        ("October 30th", date(2025, 10, 30)),
        ("30 October 2025", date(2025, 10, 30)),
        ("30th October", date(2025, 10, 30)),
        ("October 30, 2024", date(2024, 10, 30)),
        ("2025-10-30", date(2025, 10, 30)),
    ],
)
def test_day_and_month(text: str, expected: date) -> None:
    assert resolve_date(text, REF) == (expected, "day")


def test_day_of_month_later_in_the_year_is_last_year() -> None:
    # Said on 2 November without a year, "December 5" in the past tense is last December.
    assert resolve_date("December 5", REF) == (date(2024, 12, 5), "day")


def test_tomorrows_day_of_month_stays_in_this_year() -> None:
    # One day of slack for time zones.
    assert resolve_date("November 3", REF) == (date(2025, 11, 3), "day")


def test_day_of_month_in_the_future_tense() -> None:
    assert resolve_date("October 30", REF, future=True) == (date(2026, 10, 30), "day")
    assert resolve_date("December 5", REF, future=True) == (date(2025, 12, 5), "day")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in May 2023", date(2023, 5, 1)),
        ("May 2023", date(2023, 5, 1)),
        ("November 2023", date(2023, 11, 1)),
        ("since March 2020", date(2020, 3, 1)),
        ("in May", date(2025, 5, 1)),
    ],
)
def test_month_precision(text: str, expected: date) -> None:
    assert resolve_date(text, REF) == (expected, "month")


def test_month_alone_in_the_past_tense() -> None:
    assert resolve_date("December", REF) == (date(2024, 12, 1), "month")
    assert resolve_date("November", REF) == (date(2025, 11, 1), "month")


def test_month_alone_in_the_future_tense() -> None:
    assert resolve_date("April", REF, future=True) == (date(2026, 4, 1), "month")
    assert resolve_date("December", REF, future=True) == (date(2025, 12, 1), "month")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("last Saturday", date(2025, 11, 1)),
        ("Saturday", date(2025, 11, 1)),
        ("on Saturday", date(2025, 11, 1)),
        ("Saturday's", date(2025, 11, 1)),
        ("Monday", date(2025, 10, 27)),
        ("last Sunday", date(2025, 10, 26)),
        ("Sunday", date(2025, 11, 2)),
    ],
)
def test_weekdays_in_the_past(text: str, expected: date) -> None:
    assert resolve_date(text, REF) == (expected, "day")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("next Monday", date(2025, 11, 3)), ("next Sunday", date(2025, 11, 9))],
)
def test_next_weekday(text: str, expected: date) -> None:
    assert resolve_date(text, REF) == (expected, "day")


def test_weekday_in_the_future_tense_is_ahead() -> None:
    assert resolve_date("Saturday", REF, future=True) == (date(2025, 11, 8), "day")
    assert resolve_date("on Monday", REF, future=True) == (date(2025, 11, 3), "day")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", date(2025, 11, 1)),
        ("Yesterday", date(2025, 11, 1)),
        ("last night", date(2025, 11, 1)),
        ("today", REF),
        ("this morning", REF),
        ("tomorrow", date(2025, 11, 3)),
        ("last week", date(2025, 10, 26)),
    ],
)
def test_relative_days(text: str, expected: date) -> None:
    assert resolve_date(text, REF) == (expected, "day")


def test_last_month_and_last_year() -> None:
    assert resolve_date("last month", REF) == (date(2025, 10, 1), "month")
    assert resolve_date("last year", REF) == (date(2024, 1, 1), "year")


@pytest.mark.parametrize(("text", "year"), [("2022", 2022), ("in 1998", 1998)])
def test_year_alone(text: str, year: int) -> None:
    assert resolve_date(text, REF) == (date(year, 1, 1), "year")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "soon", "the other day", "blorptastic", "2025-02-30", "1066", "Mayor Smith"],
)
def test_unreadable_expressions_are_none(text: str) -> None:
    assert resolve_date(text, REF) is None
