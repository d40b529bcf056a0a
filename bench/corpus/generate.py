"""A deterministic generator of English news web pages, for benchmarks. Local only.

    .venv/bin/python bench/corpus/generate.py OUT --n 1000 [--seed 0] [--base-url URL]

writes OUT/feed.xml (RSS 2.0, one item per article), one HTML page per article under
OUT/<year>/<month>/ and OUT/articles.jsonl (one line per article: its path, genre, layout
and body word count), and prints the corpus's statistics. `generate()` does the same from
Python and returns the feed's path. The text comes from texts/ (paragraph pools by genre,
with placeholders) and the pages from layouts/ (HTML templates with `{{slot}}` markers);
README.md describes both.

Pages are built one at a time and written at once, so that 10,000 of them never sit in
memory together. The same (n, seed, base_url) gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from random import Random
from typing import Any
from xml.sax.saxutils import escape as xml_escape

HERE = Path(__file__).resolve().parent
TEXTS = HERE / "texts"
LAYOUTS = HERE / "layouts"

MIN_WORDS = 300
MAX_WORDS = 3000
FIRST_DAY = datetime(1995, 1, 1, tzinfo=UTC)
LAST_DAY = datetime(2026, 6, 30, tzinfo=UTC)

# The share of articles per genre (the pools' word shares are about the same).
GENRE_WEIGHTS: dict[str, float] = {
    "wire": 40,
    "local": 20,
    "business": 15,
    "sports": 10,
    "feature": 15,
}

# The layouts a genre's articles appear in, with their weights.
LAYOUT_WEIGHTS: dict[str, dict[str, float]] = {
    "wire": {"wire": 30, "local": 15, "amp": 15, "table": 10, "live": 10, "magazine": 5},
    "local": {"local": 45, "amp": 15, "table": 15, "wire": 10, "blog": 5, "live": 10},
    "business": {"wire": 25, "local": 20, "amp": 15, "magazine": 15, "table": 10, "live": 15},
    "sports": {"local": 25, "live": 30, "amp": 15, "wire": 10, "table": 10, "blog": 10},
    "feature": {"blog": 40, "magazine": 35, "local": 10, "amp": 10, "table": 5},
}

# The sizes (KB) of the inlined script bundle a layout's pages carry, one drawn per page:
# the old table-based site has little script, the newspaper's pages much.
SCRIPT_KB: dict[str, list[int]] = {
    "wire": [8, 24, 60, 120],
    "local": [24, 60, 120],
    "blog": [8, 24, 60],
    "magazine": [8, 24, 60, 120],
    "amp": [0],
    "table": [1, 4, 10],
    "live": [8, 24, 60, 120],
}

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]  # fmt: skip

PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)(?:\.(\w+))?(?::(\d+)-(\d+))?\}")
ALTERNATIVES = re.compile(r"\[([^\[\]|]*(?:\|[^\[\]|]*)+)\]")
SENTENCE_END = re.compile(r'(?:(?<=[.!?])|(?<=[.!?]["”]))\s+(?=[A-Z"“])')
SLOT = re.compile(r"\{\{(\w+)\}\}")


# ---------------------------------------------------------------------------- source texts


@dataclass(frozen=True)
class Source:
    """One source article of a genre file: its titles, dateline kind and paragraphs."""

    id: str
    genre: str
    topic: str
    titles: tuple[str, ...]
    dateline: str  # capital, city, town or none
    paragraphs: tuple[str, ...]


def parse_sources(text: str, name: str) -> list[Source]:
    """The source articles of one genre file ("== id", header lines, "----", paragraphs)."""
    sources: list[Source] = []
    blocks = re.split(r"^== ", text, flags=re.M)
    for block in blocks[1:]:
        head, sep, body = block.partition("\n----\n")
        if not sep:
            raise ValueError(f"{name}: source without a '----' line: {block[:60]!r}")
        lines = head.splitlines()
        fields: dict[str, list[str]] = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), []).append(value.strip())
        paragraphs = [
            " ".join(p.split())
            for p in re.split(r"\n\s*\n", body)
            if p.strip() and not p.lstrip().startswith("#")
        ]
        sources.append(
            Source(
                id=lines[0].strip(),
                genre=fields["genre"][0],
                topic=fields["topic"][0],
                titles=tuple(fields["title"]),
                dateline=fields.get("dateline", ["none"])[0],
                paragraphs=tuple(paragraphs),
            )
        )
    return sources


@cache
def load_sources() -> dict[str, list[Source]]:
    """Every source article of texts/*.txt, by genre."""
    by_genre: dict[str, list[Source]] = {}
    for path in sorted(TEXTS.glob("*.txt")):
        if path.name == "comments.txt":
            continue
        for source in parse_sources(path.read_text(encoding="utf-8"), path.name):
            by_genre.setdefault(source.genre, []).append(source)
    return by_genre


@cache
def load_fillers() -> dict[str, Any]:
    fillers: dict[str, Any] = json.loads((TEXTS / "fillers.json").read_text(encoding="utf-8"))
    return fillers


@dataclass(frozen=True)
class Rule:
    """One rewrite of texts/variants.json; `key` is a literal every match contains, checked
    first because a substring test costs far less than a regular expression."""

    key: str
    pattern: re.Pattern[str]
    alternatives: tuple[str, ...]
    p: float


def literal_key(pattern: str) -> str:
    """The literal text a pattern starts with (after any \\b): what every match contains."""
    text = pattern.removeprefix("\\b")
    return re.split(r"[\\()\[?*+.|{]", text, maxsplit=1)[0]


@cache
def load_variants() -> dict[str, list[Rule]]:
    """The rules of each house style ("uk", "us"): its spellings, then the phrase rules."""
    data = json.loads((TEXTS / "variants.json").read_text(encoding="utf-8"))
    phrases = [
        Rule(literal_key(r["pattern"]), re.compile(r["pattern"]), tuple(r["alternatives"]), r["p"])
        for r in data["phrases"]
    ]
    styles: dict[str, list[Rule]] = {}
    for style, table in (
        ("uk", data["house_style"]["uk"]),
        ("us", data["house_style"]["uk_to_us"]),
    ):
        spellings = [
            Rule(old, re.compile(rf"\b{re.escape(old)}\b"), (new,), 1.0)
            for old, new in table.items()
            if old != new
        ]
        styles[style] = spellings + phrases
    return styles


@cache
def rules_for(raw: str, style: str) -> tuple[Rule, ...]:
    """The rules of a style whose key occurs in a source paragraph (before its fillers,
    which are names and numbers: they seldom bring a key in, and then it is left alone)."""
    return tuple(rule for rule in load_variants()[style] if rule.key in raw)


def restyle(text: str, style: str, rng: Random, raw: str | None = None) -> str:
    """`text` in a house style's spelling ("uk" or "us"), with the phrase rules of
    texts/variants.json applied at random; `raw`, the paragraph before filling, picks
    the rules that can apply."""
    rules = rules_for(raw, style) if raw is not None else load_variants()[style]
    for rule in rules:
        if rule.key not in text:
            continue

        def pick(m: re.Match[str], rule: Rule = rule) -> str:
            if rule.p < 1.0 and rng.random() >= rule.p:
                return m.group(0)
            return rng.choice(rule.alternatives)

        text = rule.pattern.sub(pick, text)
    return text


@cache
def load_comments() -> tuple[str, ...]:
    text = (TEXTS / "comments.txt").read_text(encoding="utf-8")
    return tuple(
        " ".join(c.split())
        for c in re.split(r"\n\s*\n", text)
        if c.strip() and not c.lstrip().startswith("#")
    )


# ------------------------------------------------------------------------------- fillers


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    female: bool

    def attr(self, name: str | None) -> str:
        if name is None:
            return f"{self.first} {self.last}"
        forms = {
            "last": self.last,
            "first": self.first,
            "he": "she" if self.female else "he",
            "him": "her" if self.female else "him",
            "his": "her" if self.female else "his",
        }
        value = forms.get(name.lower())
        if value is None:
            raise KeyError(f"unknown person attribute {name!r}")
        return value[0].upper() + value[1:] if name[0].isupper() else value


def make_person(rng: Random, pool_name: str, taken: set[str]) -> Person:
    pool = load_fillers()["name_pools"][pool_name]
    for _ in range(20):
        female = rng.random() < 0.45
        person = Person(rng.choice(pool["f" if female else "m"]), rng.choice(pool["last"]), female)
        if person.last not in taken:
            break
    taken.add(person.last)
    return person


def bind_fillers(rng: Random, genre: str, date: datetime) -> dict[str, Any]:
    """One article's fillers: every placeholder's value, fixed for the whole article."""
    f = load_fillers()
    countries = rng.sample(f["countries"], 3)
    pools = list(f["name_pools"])
    taken: set[str] = set()
    home = "anglo" if genre in ("local", "feature") and rng.random() < 0.7 else None
    c1, c2, c3 = countries
    people = [
        make_person(rng, home or c1["names"], taken),
        make_person(rng, c2["names"] if genre == "wire" else rng.choice(pools), taken),
        make_person(rng, home or c1["names"], taken),
        make_person(rng, home or c1["names"], taken),
        make_person(rng, rng.choice(pools), taken),
    ]
    cities = rng.sample(c1["cities"], 2)
    year = date.year
    year_past = max(1972, year - rng.randint(3, 24))
    b: dict[str, Any] = {
        "PERSON": people[0],
        "PERSON2": people[1],
        "PERSON3": people[2],
        "PERSON4": people[3],
        "PERSON5": people[4],
        "COUNTRY": c1["name"],
        "CAPITAL": c1["capital"],
        "DEMONYM": c1["demonym"],
        "CITY": cities[0],
        "CITY2": cities[1],
        "COUNTRY2": c2["name"],
        "CAPITAL2": c2["capital"],
        "DEMONYM2": c2["demonym"],
        "COUNTRY2_CITY": rng.choice(c2["cities"]),
        "COUNTRY3": c3["name"],
        "CAPITAL3": c3["capital"],
        "YEAR": str(year),
        "YEAR_PREV": str(year - 1),
        "YEAR_PAST": str(year_past),
        "DECADE": f"{year_past // 10 * 10}s",
        "WEEKDAY": WEEKDAYS[date.weekday()],
        "WEEKDAY2": WEEKDAYS[(date.weekday() + rng.randint(1, 5)) % 7],
        "MONTH": MONTHS[(date.month - 1 - rng.randint(1, 5)) % 12],
        "MONTH2": MONTHS[(date.month - 1 + rng.randint(1, 4)) % 12],
        "DAY": str(rng.randint(1, 28)),
        "NUMBER": str(rng.randint(3, 60)),
        "NUMBER2": str(rng.randint(2, 40)),
        "NUMBER3": str(rng.randint(5, 95)),
        "PCT": f"{rng.uniform(0.3, 9.8):.1f}",
        "PCT2": f"{rng.uniform(0.1, 3.9):.1f}",
    }
    for key, items, count in (
        ("MINISTRY", f["ministries"], 2),
        ("PARTY", f["parties"], 2),
        ("GROUP", f["armed_groups"], 2),
        ("ORG", f["orgs"], 2),
        ("COMPANY", f["companies"], 3),
        ("INDEX", f["indexes"], 2),
        ("CURRENCY", f["currencies"], 2),
        ("SECTOR", f["sectors"], 2),
        ("CLUB", f["clubs"], 3),
        ("LEAGUE", f["leagues"], 1),
        ("STADIUM", f["stadiums"], 1),
        ("TOWN", f["towns"], 2),
        ("COUNTY", f["counties"], 1),
        ("STATE", f["states"], 1),
        ("STREET", f["streets"], 3),
        ("SCHOOL", f["schools"], 2),
    ):
        for k, value in enumerate(rng.sample(items, count), start=1):
            b[key if k == 1 else f"{key}{k}"] = value
    agency = rng.choice(f["agencies"])
    b["AGENCY"] = agency["name"]
    b["_agency_style"] = agency["style"]
    b["_style"] = "uk" if rng.random() < 0.45 else "us"
    return b


def fill(text: str, b: dict[str, Any], rng: Random) -> str:
    """`text` with its [a|b] alternatives chosen and its {PLACEHOLDER}s filled from `b`."""
    text = ALTERNATIVES.sub(lambda m: rng.choice(m.group(1).split("|")), text)

    def one(m: re.Match[str]) -> str:
        key, attr, lo, hi = m.groups()
        if key == "N":
            return str(rng.randint(int(lo), int(hi)))
        value = b[key]
        if isinstance(value, Person):
            return value.attr(attr)
        if attr is not None:
            raise KeyError(f"{key} has no attribute {attr!r}")
        return str(value)

    return PLACEHOLDER.sub(one, text)


def dateline(source: Source, b: dict[str, Any]) -> str:
    if source.dateline == "none":
        return ""
    place, country = {
        "capital": (b["CAPITAL"], b["COUNTRY"]),
        "capital2": (b["CAPITAL2"], b["COUNTRY2"]),
        "city": (b["CITY"], b["COUNTRY"]),
        "town": (b["TOWN"], b["STATE"]),
    }[source.dateline]
    if source.genre != "wire":
        return f"{place.upper()} — "
    style = b["_agency_style"]
    if style == "ap":
        return f"{place.upper()}, {country} ({b['AGENCY']}) — "
    if style == "reuters":
        return f"{place.upper()} ({b['AGENCY']}) - "
    return f"{place} ({b['AGENCY']}) - "


# ------------------------------------------------------------------------------ articles


@dataclass(frozen=True)
class Article:
    """One generated article: what its page shows and what the manifest records."""

    index: int
    id: str
    genre: str
    topic: str
    source: str
    layout: str
    title: str
    author: str
    outlet: str
    published: datetime
    paragraphs: tuple[str, ...]
    path: str
    related: tuple[str, ...]
    b: dict[str, Any]
    words: int  # the body's words: the paragraphs' whitespace-separated tokens

    @property
    def description(self) -> str:
        first = re.sub(r"^[^—]{0,60}(?:—|\) -|[A-Z]{3,} -) ", "", self.paragraphs[0])
        return SENTENCE_END.split(first)[0]


def weighted(rng: Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def vary(paragraph: str, rng: Random) -> str:
    """Sometimes drop one sentence (never the first) from a paragraph of three or more;
    never a quote or an attribution, whose neighbours would no longer read right."""
    if rng.random() >= 0.2:
        return paragraph
    sentences = SENTENCE_END.split(paragraph)
    if len(sentences) < 3:
        return paragraph
    candidates = [
        k
        for k, sentence in enumerate(sentences[1:], start=1)
        if not any(mark in sentence for mark in ('"', "“", "”", " said", " says", " told "))
    ]
    if not candidates:
        return paragraph
    del sentences[rng.choice(candidates)]
    return " ".join(sentences)


@cache
def extension_pools(source: Source) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """The paragraphs that can extend an article from `source` (other sources' paragraphs
    but their leads): of its topic, then of its genre's other topics; each with whether
    it varies (has a placeholder or alternatives)."""
    same: list[tuple[str, bool]] = []
    other: list[tuple[str, bool]] = []
    for s in load_sources()[source.genre]:
        if s is source:
            continue
        pool = same if s.topic == source.topic else other
        pool.extend((p, "{" in p or "[" in p) for p in s.paragraphs[1:])
    return same, other


def build_body(rng: Random, source: Source, b: dict[str, Any]) -> list[str]:
    """The paragraphs of one article: its source's, cut or extended with same-topic, then
    same-genre paragraphs (never another article's lead), up to a log-uniform length."""
    target = math.exp(rng.uniform(math.log(MIN_WORDS), math.log(MAX_WORDS)))
    own = list(source.paragraphs)
    # Leave out a few of the source's later paragraphs, so that two long articles from one
    # source differ in selection as well as in fillers.
    own = own[:3] + [p for p in own[3:] if rng.random() > 0.12]
    same_pool, other_pool = extension_pools(source)
    # Paragraphs without a placeholder read the same in every article: extensions mostly
    # take the ones that vary. A sample, not a shuffle: no article needs the whole pool.
    same_topic = [p for p, varies in same_pool if varies or rng.random() < 0.3]
    other = [p for p, varies in other_pool if varies or rng.random() < 0.3]
    same_topic = rng.sample(same_topic, min(len(same_topic), 60))
    other = rng.sample(other, min(len(other), 60))
    body: list[str] = []
    words = 0
    lead = True
    for raw in [*own, *same_topic, *other]:
        text = restyle(fill(raw, b, rng), b["_style"], rng, raw)
        if lead:
            text = dateline(source, b) + text
            lead = False
        else:
            text = vary(text, rng)
        n = len(text.split())
        if words + n > MAX_WORDS:
            continue
        if len(body) >= len(own) and len(body) > 3:
            # Extensions go in anywhere after the first three paragraphs.
            body.insert(rng.randint(3, len(body)), text)
        else:
            body.append(text)
        words += n
        if words >= target and words >= MIN_WORDS:
            break
    return body


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower().encode("ascii", "ignore").decode())
    return slug.strip("-")[:70].rstrip("-")


def iter_articles(n: int, seed: int = 0) -> Iterator[Article]:
    """The corpus's n articles, one at a time; no two bodies are the same."""
    by_genre = load_sources()
    outlets = load_fillers()["outlets"]
    span = int((LAST_DAY - FIRST_DAY).total_seconds())
    seen: set[bytes] = set()
    for i in range(n):
        for attempt in range(100):
            rng = Random(f"newsbench-{seed}-{i}-{attempt}")
            genre = weighted(rng, GENRE_WEIGHTS)
            published = FIRST_DAY + timedelta(seconds=rng.randrange(span))
            layouts = dict(LAYOUT_WEIGHTS[genre])
            if "table" in layouts:
                # the old table-based site is mostly where old articles are
                layouts["table"] *= 4.0 if published.year < 2004 else 0.4
            layout = weighted(rng, layouts)
            sources = by_genre[genre]
            source = rng.choice(sources)
            b = bind_fillers(rng, genre, published)
            paragraphs = build_body(rng, source, b)
            digest = hashlib.blake2b("\n".join(paragraphs).encode(), digest_size=16).digest()
            if digest not in seen:
                break
        else:  # pragma: no cover - 100 identical draws in a row cannot happen
            raise RuntimeError(f"article {i}: no distinct body")
        seen.add(digest)
        title = fill(rng.choice(source.titles), b, rng)
        title = title[0].upper() + title[1:]
        if genre == "wire" and layout in ("wire", "amp", "table"):
            author = f"{make_person(rng, 'anglo', set()).attr(None)}, {b['AGENCY']}"
        else:
            author = make_person(
                rng,
                rng.choice(["anglo", "anglo", "hispanic", "south_asian", "west_african", "german"]),
                set(),
            ).attr(None)
        related = tuple(
            fill(rng.choice(rng.choice(sources).titles), b, rng) for _ in range(rng.randint(4, 9))
        )
        article_id = f"{i + 1:06d}"
        path = f"{published:%Y/%m}/{slugify(title)}-{article_id}.html"
        yield Article(
            index=i,
            id=article_id,
            genre=genre,
            topic=source.topic,
            source=source.id,
            layout=layout,
            title=title,
            author=author,
            outlet=rng.choice(outlets[layout]),
            published=published,
            paragraphs=tuple(paragraphs),
            path=path,
            related=related,
            b=b,
            words=sum(len(p.split()) for p in paragraphs),
        )


# ------------------------------------------------------------------------------- layouts


@cache
def load_template(layout: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A layout's template split at its {{slot}}s: (literal parts, slot names)."""
    text = (LAYOUTS / f"{layout}.html").read_text(encoding="utf-8")
    pieces = SLOT.split(text)
    return tuple(pieces[0::2]), tuple(pieces[1::2])


def render_template(layout: str, slots: dict[str, str]) -> str:
    parts, names = load_template(layout)
    out = [parts[0]]
    for name, part in zip(names, parts[1:], strict=True):
        out.append(slots[name])
        out.append(part)
    return "".join(out)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


@cache
def css_block(name: str, kb: int) -> str:
    """Inlined "critical" CSS of about `kb` KB: utility classes, as real sites ship them."""
    rng = Random(f"css-{name}-{kb}")
    props = ["margin-top", "margin-bottom", "padding-left", "padding-right", "font-size",
             "line-height", "max-width", "min-height", "gap", "border-radius"]  # fmt: skip
    out = []
    size = 0
    while size < kb * 1024:
        prop = rng.choice(props)
        value = rng.randint(0, 64)
        rule = f".u-{prop[:2]}{prop.split('-')[-1][:1]}-{value}{{{prop}:{value}px}}"
        if rng.random() < 0.2:
            rule = f"@media (min-width:{rng.choice([600, 768, 1024, 1280])}px){{.md\\:{rule[1:]}}}"
        out.append(rule)
        size += len(rule)
    return "".join(out)


@cache
def vendor_script(name: str, kb: int) -> str:
    """A block of minified-looking JavaScript, about `kb` KB: the bundles real pages inline."""
    rng = Random(f"script-{name}-{kb}")
    words = ["push", "call", "apply", "slot", "consent", "track", "render", "bid", "queue",
             "viewport", "lazy", "observe", "metric", "beacon", "ready", "hydrate"]  # fmt: skip
    chunks = [
        f'!function(){{"use strict";var __{name}={{v:"{rng.randint(1, 9)}.{rng.randint(0, 40)}"}};'
    ]
    size = 0
    while size < kb * 1024:
        a, c = rng.choice(words), rng.choice(words)
        ident = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(2))
        chunk = (
            f"function {ident}{rng.randint(0, 999)}(e,t,n){{var r=e&&e.{a}||[];"
            f"if(!t)return r;for(var o=0;o<r.length;o++){{n=r[o];if(n&&n.{c}===t)"
            f"return n.{a}(t,{rng.randint(0, 9999)})}}return void 0}}"
        )
        chunks.append(chunk)
        size += len(chunk)
    chunks.append("}();")
    return "".join(chunks)


def json_ld(a: Article, url: str) -> str:
    data = {
        "@type": "NewsArticle",
        "headline": a.title,
        "datePublished": a.published.isoformat(),
        "dateModified": (a.published + timedelta(hours=3)).isoformat(),
        "author": [{"@type": "Person", "name": a.author}],
        "publisher": {"@type": "Organization", "name": a.outlet},
        "mainEntityOfPage": url,
        "articleSection": a.genre,
        "wordCount": a.words,
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def related_list(a: Article, base: str, cls: str) -> str:
    items = "".join(
        f'<li class="{cls}__item"><a href="{base}/{a.published:%Y/%m}/{slugify(t)}.html">'
        f"{esc(t)}</a></li>"
        for t in a.related
    )
    return f'<ul class="{cls}">{items}</ul>'


def paragraphs_html(paragraphs: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)


def body_wire(a: Article, rng: Random) -> str:
    return paragraphs_html(a.paragraphs)


def body_amp(a: Article, rng: Random) -> str:
    return paragraphs_html(a.paragraphs)


def body_local(a: Article, rng: Random) -> str:
    out = []
    for k, p in enumerate(a.paragraphs):
        out.append(f"<p>{esc(p)}</p>")
        if k % 4 == 3:
            out.append(
                f'<div class="ad-slot ad-slot--inline" id="ad-inline-{k}" '
                f'data-ad-unit="/{rng.randint(1000, 9999)}/news/inline">'
                '<span class="ad-label">Advertisement</span><div class="ad-frame"></div></div>'
            )
        if k == 5 and a.related:
            out.append(
                '<aside class="read-more"><strong>READ MORE:</strong> '
                f'<a href="/news/{slugify(a.related[0])}.html">'
                f"{esc(a.related[0])}</a></aside>"
            )
    return "\n".join(out)


def body_table(a: Article, rng: Random) -> str:
    return "\n".join(f'<font face="Arial, Helvetica" size="2">{esc(p)}</font><br><br>'
                     for p in a.paragraphs)  # fmt: skip


def body_magazine(a: Article, rng: Random) -> str:
    out = []
    for k, p in enumerate(a.paragraphs):
        if k == 0:
            out.append(f'<p class="lede"><span class="dropcap">{esc(p[0])}</span>{esc(p[1:])}</p>')
            continue
        out.append(f"<p>{esc(p)}</p>")
        if k % 7 == 3:
            quote = max(SENTENCE_END.split(p), key=len)
            out.append(
                '<aside class="pullquote" aria-hidden="true">'
                f"<blockquote>{esc(quote)}</blockquote></aside>"
            )
        if k % 9 == 5:
            n = rng.randint(1, 9999)
            place = rng.choice([a.b["CITY"], a.b["CAPITAL"], a.b["TOWN"]])
            photographer = make_person(rng, "anglo", set()).attr(None)
            out.append(
                f'<figure class="inline-figure"><img src="/images/{n}.jpg" alt="" loading="lazy" '
                f'width="1200" height="800"><figcaption>A street in {esc(place)}. '
                f'<span class="credit">Photograph: {esc(photographer)} for {esc(a.outlet)}</span>'
                "</figcaption></figure>"
            )
    return "\n".join(out)


def body_blog(a: Article, rng: Random) -> str:
    out = []
    for k, p in enumerate(a.paragraphs):
        out.append(f"<p>{esc(p)}</p>")
        if k == 2:
            out.append('<div class="wp-block-spacer" style="height:20px" aria-hidden="true"></div>')
    return "\n".join(out)


def body_live(a: Article, rng: Random) -> str:
    out = []
    when = a.published + timedelta(hours=rng.randint(4, 12))
    k = 0
    entry = 0
    paragraphs = list(a.paragraphs)
    while k < len(paragraphs):
        size = rng.choice([1, 1, 2, 2, 3])
        chunk = paragraphs[k : k + size]
        k += size
        entry += 1
        pinned = " live-entry--pinned" if entry == 1 else ""
        author = make_person(rng, "anglo", set()).attr(None)
        out.append(
            f'<article class="live-entry{pinned}" id="entry-{entry}">'
            '<header class="live-entry__meta">'
            f'<time datetime="{when.isoformat()}">{when:%H:%M}</time>'
            f'<span class="live-entry__author">{esc(author)}</span></header>'
            f'<div class="live-entry__body">{paragraphs_html(chunk)}</div>'
            '<footer class="live-entry__share"><button>Share</button>'
            f'<a href="#entry-{entry}">Link to this post</a></footer>'
            "</article>"
        )
        when -= timedelta(minutes=rng.randint(3, 40))
    return "\n".join(out)


BODY_RENDERERS: dict[str, Callable[[Article, Random], str]] = {
    "wire": body_wire,
    "local": body_local,
    "blog": body_blog,
    "magazine": body_magazine,
    "amp": body_amp,
    "table": body_table,
    "live": body_live,
}


def comments_html(a: Article, rng: Random) -> str:
    pool = load_comments()
    count = rng.choice([0, 3, 8, 15, 30, 60, 120])
    out = [
        f'<h3 class="comments-title">{count} thoughts on “{esc(a.title)}”</h3>'
        '<ol class="comment-list">'
    ]
    when = a.published
    for k in range(count):
        who = make_person(rng, rng.choice(list(load_fillers()["name_pools"])), set())
        handle = rng.choice([who.attr(None), who.first, f"{who.first.lower()}{rng.randint(1, 99)}"])
        when += timedelta(minutes=rng.randint(5, 600))
        reply = " depth-2" if k and rng.random() < 0.3 else ""
        out.append(
            f'<li class="comment{reply}" id="comment-{k + 1}"><article class="comment-body">'
            '<footer class="comment-meta">'
            f'<img class="avatar" src="/avatars/{rng.randint(1, 500)}.png" alt="" '
            'width="48" height="48">'
            f'<b class="fn">{esc(handle)}</b> <time datetime="{when.isoformat()}">'
            f"{when:%B %-d, %Y at %-I:%M %p}</time></footer>"
            f'<div class="comment-content"><p>{esc(fill(rng.choice(pool), a.b, rng))}</p></div>'
            '<div class="reply"><a class="comment-reply-link" href="#respond">Reply</a></div>'
            "</article></li>"
        )
    out.append("</ol>")
    return "\n".join(out)


def key_points(a: Article) -> str:
    items = "".join(f"<li>{esc(SENTENCE_END.split(p)[0])}</li>" for p in a.paragraphs[1:4])
    return f'<ul class="key-points">{items}</ul>'


def page_state(a: Article, url: str, rng: Random) -> str:
    """The hydration state a script-heavy site inlines: the article again, and more."""
    state = {
        "props": {
            "pageProps": {
                "article": {
                    "id": a.id,
                    "headline": a.title,
                    "url": url,
                    "published": a.published.isoformat(),
                    "byline": a.author,
                    "blocks": [{"type": "paragraph", "text": p} for p in a.paragraphs],
                },
                "related": [{"headline": t, "slug": slugify(t)} for t in a.related],
                "flags": {f"exp_{k}": rng.random() < 0.5 for k in range(rng.randint(40, 200))},
            }
        },
        "buildId": hashlib.sha1(a.outlet.encode()).hexdigest()[:12],
    }
    return json.dumps(state, ensure_ascii=False).replace("</", "<\\/")


def render_page(a: Article, base_url: str) -> str:
    rng = Random(f"page-{a.id}-{a.title}")
    url = f"{base_url}/{a.path}"
    section = {
        "wire": "World",
        "local": "Local News",
        "business": "Business",
        "sports": "Sport",
        "feature": "Life & Culture",
    }[a.genre]
    slots = {
        "title": esc(a.title),
        "title_attr": attr(a.title),
        "description": attr(a.description),
        "url": attr(url),
        "base": attr(base_url),
        "date_iso": a.published.isoformat(),
        "date_human": f"{a.published:%B} {a.published.day}, {a.published:%Y}",
        "time_human": f"{a.published:%H:%M} GMT",
        "year": str(a.published.year),
        "author": esc(a.author),
        "outlet": esc(a.outlet),
        "section": section,
        "section_slug": slugify(section),
        "topic": a.topic,
        "id": a.id,
        "jsonld": json_ld(a, url),
        "body": BODY_RENDERERS[a.layout](a, rng),
        "related": related_list(a, base_url, "related"),
        "comments": comments_html(a, rng) if a.layout == "blog" else "",
        "key_points": key_points(a) if a.layout == "live" else "",
        "state": page_state(a, url, rng) if a.layout == "local" else "",
        "vendor": vendor_script(a.layout, rng.choice(SCRIPT_KB[a.layout])),
        "tracker": vendor_script("tracker", 6),
        "css": css_block(a.layout, rng.choice([8, 14, 24])),
        "words": str(a.words),
    }
    return render_template(a.layout, slots)


# ------------------------------------------------------------------------------ the site


def rss_item(a: Article, base_url: str) -> str:
    url = f"{base_url}/{a.path}"
    return (
        "<item>"
        f"<title>{xml_escape(a.title)}</title>"
        f"<link>{xml_escape(url)}</link>"
        f'<guid isPermaLink="false">newsbench-{a.id}</guid>'
        f"<pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{xml_escape(a.description)}</description>"
        f"<category>{xml_escape(a.genre)}</category>"
        "</item>\n"
    )


def generate(out_dir: Path, n: int, seed: int = 0, base_url: str = "http://127.0.0.1:8000") -> Path:
    """Write n articles' pages, feed.xml and articles.jsonl into out_dir; the feed's path."""
    base_url = base_url.rstrip("/")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    feed = out_dir / "feed.xml"
    made: set[Path] = set()
    with (
        feed.open("w", encoding="utf-8", newline="\n") as rss,
        (out_dir / "articles.jsonl").open("w", encoding="utf-8", newline="\n") as manifest,
    ):
        rss.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
            "<title>News benchmark corpus</title>"
            f"<link>{xml_escape(base_url)}/</link>"
            f"<description>{n} generated articles (seed {seed})</description>\n"
        )
        for a in iter_articles(n, seed):
            page = out_dir / a.path
            if page.parent not in made:
                page.parent.mkdir(parents=True, exist_ok=True)
                made.add(page.parent)
            data = render_page(a, base_url).encode("utf-8")
            page.write_bytes(data)
            rss.write(rss_item(a, base_url))
            record = {
                "id": a.id,
                "path": a.path,
                "genre": a.genre,
                "topic": a.topic,
                "source": a.source,
                "layout": a.layout,
                "published": a.published.isoformat(),
                "title": a.title,
                "words": a.words,
                "bytes": len(data),
            }
            manifest.write(json.dumps(record, ensure_ascii=False) + "\n")
        rss.write("</channel></rss>\n")
    return feed


def corpus_stats(out_dir: Path) -> dict[str, Any]:
    """Statistics of a generated site, from its articles.jsonl."""
    lines = (Path(out_dir) / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    words = [r["words"] for r in records]
    sizes = [r["bytes"] for r in records]
    return {
        "articles": len(records),
        "words_total": sum(words),
        "words_median": statistics.median(words),
        "words_min": min(words),
        "words_max": max(words),
        "page_kb_min": round(min(sizes) / 1024, 1),
        "page_kb_median": round(statistics.median(sizes) / 1024, 1),
        "page_kb_max": round(max(sizes) / 1024, 1),
        "site_mb": round(sum(sizes) / 1024 / 1024, 1),
        "genres": dict(Counter(r["genre"] for r in records).most_common()),
        "layouts": dict(Counter(r["layout"] for r in records).most_common()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the directory to write the site into")
    parser.add_argument("--n", type=int, default=1000, help="how many articles (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000",
        help="the feed's links start with it (default http://127.0.0.1:8000)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    feed = generate(args.out, args.n, args.seed, args.base_url)
    elapsed = time.perf_counter() - started
    stats = corpus_stats(args.out)
    print(f"feed: {feed}")
    print(f"generated in {elapsed:.1f} s")
    for key, value in stats.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
