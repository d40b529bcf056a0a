"""The small typed records that flow between stages.

Every stage is a function from records to records. Records are frozen so a stage
cannot change what an earlier stage produced; build a new one with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Feed:
    """One entry of the feed registry (config/feeds.yaml)."""

    name: str
    url: str
    outlet: str | None = None
    country: str | None = None
    language: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed, with its link resolved and canonicalised."""

    feed: str
    url: str  # canonical URL: the article key everywhere downstream
    link: str  # the link as resolved against the feed URL, before canonicalisation
    title: str | None
    summary: str | None
    published_at: datetime | None  # UTC, with the feed's time of day
    entry_id: str | None = None
    updated_at: datetime | None = None  # the feed's "updated" time, if it gives one


@dataclass(frozen=True)
class ParsedFeed:
    feed: str
    version: str  # feedparser's version string: rss20, rss10, atom10, ...
    title: str | None
    entries: tuple[FeedEntry, ...]
    dropped: int  # entries without a usable http(s) link
    warning: str | None = None  # set when the XML was malformed but entries were recovered


@dataclass(frozen=True)
class Page:
    """The outcome of one HTTP fetch. `error` is set when the fetch failed."""

    url: str
    final_url: str
    status: int | None
    content_type: str | None
    body: bytes
    fetched_at: datetime
    duration_ms: int
    error_class: str | None = None
    error: str | None = None
    retries: int = 0  # attempts beyond the first
    headers: tuple[tuple[str, str], ...] = ()  # response headers, as received
    address: str | None = None  # the IP address actually connected to

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass(frozen=True)
class Article:
    """An extracted article. `status` says whether the body is usable news."""

    article_id: str
    url: str
    final_url: str
    feed: str
    title: str | None
    body: str
    author: str | None
    published_at: datetime | None
    date_source: str  # page+feed_time | page | feed | none
    site_name: str | None
    language: str | None
    status: str  # ok | too_short | empty | not_html
    status_detail: str | None
    word_count: int
    content_hash: str
    fetched_at: datetime
    duplicate_of: str | None = None
    page_canonical: str | None = None  # the page's own <link rel=canonical>, canonicalised


@dataclass(frozen=True)
class Entity:
    article_id: str
    entity_idx: int
    text: str  # as written
    norm: str  # normalised: possessive and stray punctuation removed
    label: str  # spaCy label: GPE, NORP, ORG, PERSON, LOC, FAC, EVENT, DATE, ...
    start_char: int
    end_char: int
    sentence_idx: int


@dataclass(frozen=True)
class PlaceMention:
    """A place mention and the gazetteer entry it resolves to (all None: unresolved)."""

    article_id: str
    place_idx: int
    text: str  # as written, without "the" and a possessive
    label: str  # GPE | LOC | FAC (spaCy) | DATELINE
    start_char: int  # offsets within the article body, as the entities table's
    end_char: int
    sentence_idx: int
    geonames_id: int | None  # None also for divisions and regions that have no id here
    name: str | None  # the entry's name ("Kyiv" for "Kiev")
    feature_code: str | None  # GeoNames: PPL, PPLC, ADM1, ADM2, PCLI, RGN, SEA, ...
    admin1: str | None  # name of the first-order division it lies in (or is)
    admin2: str | None
    country: str | None  # ISO 3166 alpha-3
    latitude: float | None
    longitude: float | None
    precision: str | None  # city | admin1 | admin2 | country | region
    # How it was resolved: city_state, dateline, nearby, article_country, feed_country,
    # country_name, population, only; "unresolved" with a reason.
    method: str
    confidence: float
    reason: str | None  # not_in_gazetteer | ambiguous: ... | weak_match: ...
    n_candidates: int


@dataclass(frozen=True)
class Actor:
    """A resolved (or unresolved) actor mention."""

    text: str  # as written
    name: str  # normalised name
    code: str  # CAMEO-style code, e.g. USAGOV, CHNMIL, IGOUNO; "" when unresolved
    country: str  # ISO 3166 alpha-3, "" when unknown
    sector: str  # GOV, MIL, ...; "" when none
    start_char: int  # offsets within the sentence
    end_char: int


@dataclass(frozen=True)
class Event:
    """One coded event: who did what to whom, with the sentence it came from."""

    article_id: str
    event_idx: int
    sentence_idx: int
    sentence: str
    source: Actor
    target: Actor | None
    trigger: str
    trigger_start: int  # offsets within the sentence
    trigger_end: int
    cameo_code: str
    root_code: str
    root_name: str
    plover: str
    quad_class: int
    goldstein: float
    modality: str  # asserted | intended | negated | hypothetical
    confidence: float
    event_date: date | None
    date_source: str  # text | published | none
    date_precision: str = "day"  # day | month | year
    location: str | None = None
    location_country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # what the point stands for (city | admin2 | admin1 | region | country) and where
    # the text gave it (sentence | target | dateline | article); pipeline.geo.locate
    location_precision: str | None = None
    location_source: str | None = None
    location_geonames_id: int | None = None
    location_place_idx: int | None = None  # the places row (same article) it came from
    coder_version: str = ""
    # False for a second reading the conventions keep beside the primary one ("agreed to
    # lift sanctions": the intent is primary, the lifting a second reading).
    is_primary: bool = True
    # background (history dated by a past year or war), no_actor (neither actor is a
    # country, an organisation or a group), second_reading
    flags: tuple[str, ...] = ()
    rule_id: str = ""  # the trigger rule that coded it (triggers.jsonl or petrarch_triggers.jsonl)


@dataclass(frozen=True)
class FetchLogRow:
    """One attempt at fetching a URL, successful or not, as recorded in fetch_log."""

    url: str
    feed: str
    kind: str  # feed | article
    status: int | None
    bytes: int
    duration_ms: int
    fetched_at: datetime
    final_url: str | None = None
    content_type: str | None = None
    error_class: str | None = None
    error: str | None = None
    retries: int = 0


@dataclass(frozen=True)
class FeedHealth:
    """What one pass learned about one feed."""

    feed: Feed
    ok: bool
    entries: int
    dropped: int
    status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class RunStats:
    """Counters for the runs table. Mutable: a pass fills it as it goes."""

    feeds_total: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0  # answered 304 to a conditional GET
    entries_seen: int = 0
    entries_dropped: int = 0
    articles_skipped: int = 0  # already stored, not fetched again
    articles_fetched: int = 0
    articles_failed: int = 0
    articles_extracted: int = 0
    articles_short: int = 0
    articles_tagged: int = 0
    entities: int = 0
    events: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
