"""Actor dictionaries: from a mention ("Chinese Defense Minister Dong Jun", "Beijing",
"the Kremlin", "NATO") to a CAMEO-style actor code ("CHNMIL", "CHN", "RUS", "IGOWSTNAT").

The dictionaries are TSV files under pipeline/data/actors/ (see the README there): the
hand-written tables (countries, organisations, sectors, office_holders) and the tables
generated from the Phoenix dictionaries (phoenix_actors, phoenix_sectors; see
tools/convert_petrarch.py). Where both define a phrase, the hand-written entry wins; for
a person, the hand-written terms of office win from the first of them on, and Phoenix's
dated entries cover the years before. Users extend the tables without touching code by
pointing NEWS_ACTORS_DIR at a copy. Matching is longest-phrase-first over lower-cased
tokens. An actor that cannot be resolved keeps its text and gets an empty code: it is
never guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

ORG_ROOTS = {"IGO", "NGO", "IMG", "MNC"}  # code roots that are not countries
# Entry kinds that name a country or a place in one.
PLACE_KINDS = frozenset({"country", "capital", "place", "demonym", "metonym"})
_TOKEN = re.compile(r"[\w.'’-]+|[^\w\s]", re.UNICODE)


def tokens_of(text: str, *, lower: bool = True) -> tuple[str, ...]:
    """Lower-cased tokens, with possessives and stray trailing periods removed."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower() if lower else text):
        tok = tok.replace("’", "'")
        if tok.lower().endswith("'s") and len(tok) > 2:
            tok = tok[:-2]
        elif tok.endswith("'") and len(tok) > 2:
            tok = tok[:-1]  # plural possessive: "the rebels' spokesman"
        if tok.endswith(".") and tok.count(".") == 1 and len(tok) > 2:
            tok = tok[:-1]  # "Jun." -> "jun"; keeps "u.s." and "u.k."
        if tok.lower() in {"'s", "'", "the"}:
            continue
        out.append(tok)
    return tuple(out)


@dataclass(frozen=True)
class Entry:
    """What a dictionary phrase means."""

    kind: str  # country | capital | place | demonym | metonym | org | person
    name: str  # normalised name
    country: str = ""
    sector: str = ""
    code: str = ""  # full code for organisations (IGOUNO, ...) and Phoenix people
    start: date | None = None  # office-holders: term start
    end: date | None = None  # office-holders: term end (None: still in office)
    source: str = "hand"  # hand | phoenix

    def valid_on(self, when: date) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


@dataclass(frozen=True)
class Match:
    start: int  # token index, inclusive
    end: int  # token index, exclusive
    entry: Entry


# Sectors of an office that a title names ("President", "Prime Minister", "General").
_OFFICES = {"GOV", "MIL", "LEG", "JUD", "COP"}


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split("|") if v.strip()]


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a TSV file with a header; lines starting with '#' are comments."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value and value.strip() else None


class ActorDictionary:
    """Phrase tables for countries, organisations, sectors and dated office-holders."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.phrases: dict[tuple[str, ...], list[Entry]] = {}
        self.sectors: dict[tuple[str, ...], str] = {}
        self.country_names: dict[str, str] = {}
        # Countries that had another code for a time: SRB -> [("SCG", 1992-04-28, ..., names)].
        # When names is not empty, only mentions with one of those words change code.
        self.historical: dict[str, list[tuple[str, date, date, frozenset[str]]]] = {}
        # Phrases written in capitals ("US", "WHO", "IT") match only when the mention is
        # in capitals too: "who met" is not the World Health Organization.
        self.caps_only: set[tuple[str, ...]] = set()
        # Office-holders by the last word of their name, for "Prime Minister Thatcher".
        self.surnames: dict[str, list[Entry]] = {}
        # Generated one-word phrases ("bush", "rice") match only a capitalised mention.
        self.proper_only: set[tuple[str, ...]] = set()
        self.max_len = 1
        self._load()

    def _add(self, phrase: str, entry: Entry) -> None:
        key = tokens_of(phrase)
        if not key:
            return
        if entry.source != "hand":
            known = self.phrases.get(key)
            # A hand-written phrase keeps its meaning; a generated one only adds people
            # (for their earlier terms) and phrases the hand-written tables lack.
            if known and (entry.kind != "person" or any(e.kind != "person" for e in known)):
                return
            if len(key) == 1 and key not in self.phrases:
                self.proper_only.add(key)
        bare = phrase.replace("the ", "").replace(".", "")
        if bare.isupper() and len(bare) <= 6 and key not in self.phrases:
            self.caps_only.add(key)
        elif key in self.caps_only and not bare.isupper():
            self.caps_only.discard(key)
        self.phrases.setdefault(key, []).append(entry)
        self.max_len = max(self.max_len, len(key))
        if entry.kind == "person" and phrase == entry.name:
            self.surnames.setdefault(key[-1], []).append(entry)

    def _load(self) -> None:
        d = self.directory
        for row in read_tsv(d / "countries.tsv"):
            iso3, name = row["iso3"].strip(), row["name"].strip()
            self.country_names[iso3] = name
            for phrase in [name, *_split(row.get("aliases", ""))]:
                self._add(phrase, Entry("country", name, country=iso3))
            for phrase in _split(row.get("demonyms", "")):
                self._add(phrase, Entry("demonym", name, country=iso3))
            for phrase in _split(row.get("capitals", "")):
                self._add(phrase, Entry("capital", name, country=iso3))
            for phrase in _split(row.get("metonyms", "")):
                self._add(phrase, Entry("metonym", name, country=iso3))
        for row in read_tsv(d / "organisations.tsv"):
            entry = Entry(
                "org", row["name"].strip(), country=row.get("country", "").strip(), code=row["code"]
            )
            for phrase in [row["name"], *_split(row.get("aliases", ""))]:
                self._add(phrase, entry)
        for row in read_tsv(d / "sectors.tsv"):
            for phrase in _split(row.get("terms", "")):
                key = tokens_of(phrase)
                if key:
                    self.sectors[key] = row["code"].strip()
                    self.max_len = max(self.max_len, len(key))
        for row in read_tsv(d / "office_holders.tsv"):
            country = row["country"].strip()
            # Officials of an organisation carry its code in the country column (IGOUNO).
            org = country if country[:3] in ORG_ROOTS else ""
            entry = Entry(
                "person",
                row["name"].strip(),
                country="" if org else country,
                code=org,
                sector=row["sector"].strip(),
                start=_date(row.get("start", "")),
                end=_date(row.get("end", "")),
            )
            for phrase in [row["name"], *_split(row.get("aliases", ""))]:
                self._add(phrase, entry)
        historical = d / "historical_countries.tsv"
        if historical.is_file():
            for row in read_tsv(historical):
                start, end = _date(row["start"]), _date(row["end"])
                names = frozenset(n.lower() for n in _split(row.get("names", "")))
                if start and end:
                    self.historical.setdefault(row["country"], []).append(
                        (row["code"], start, end, names)
                    )
        self._load_generated(d)

    def _load_generated(self, d: Path) -> None:
        sectors = d / "phoenix_sectors.tsv"
        if sectors.is_file():
            for row in read_tsv(sectors):
                for phrase in _split(row.get("terms", "")):
                    key = tokens_of(phrase)
                    if key and key not in self.sectors:
                        self.sectors[key] = row["code"].strip()
                        self.max_len = max(self.max_len, len(key))
        actors = d / "phoenix_actors.tsv"
        if not actors.is_file():
            return
        for row in read_tsv(actors):
            kind, code = row["kind"], row["code"]
            entry = Entry(
                kind if kind in {"person", "country", "place"} else "org",
                row["name"],
                country=row["country"],
                sector=row["sector"],
                code=code if kind not in {"country", "place"} else "",
                start=_date(row["start"]),
                end=_date(row["end"]),
                source="phoenix",
            )
            if kind == "country" and code not in self.country_names:
                self.country_names[code] = row["name"]
            for phrase in [row["name"], *_split(row["aliases"])]:
                self._add(phrase, entry)

    def match(self, toks: Sequence[str], original: Sequence[str] | None = None) -> list[Match]:
        """Non-overlapping longest matches of dictionary phrases, left to right.

        `original` holds the same tokens with their case, for capitals-only phrases."""
        out: list[Match] = []
        i = 0
        while i < len(toks):
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                key = tuple(toks[i : i + n])
                entries = self.phrases.get(key)
                if entries and key in self.caps_only and original is not None:
                    written = "".join(original[i : i + n]).replace(".", "")
                    if not written.isupper():
                        entries = None
                if (
                    entries
                    and key in self.proper_only
                    and original is not None
                    and not original[i][:1].isupper()
                ):
                    entries = None
                if entries:
                    # Several entries for one phrase: e.g. an office-holder with two terms.
                    out.extend(Match(i, i + n, e) for e in entries)
                    i += n
                    break
            else:
                i += 1
        return out

    def countries_in(self, text: str, kinds: Iterable[str] = PLACE_KINDS) -> list[str]:
        """The countries of the phrases of these kinds in `text`, left to right ("" for
        a region): "Kyiv" -> ["UKR"], "French and German" -> ["FRA", "DEU"]."""
        wanted = set(kinds)
        hits = self.match(tokens_of(text), tokens_of(text, lower=False))
        return [h.entry.country for h in hits if h.entry.kind in wanted]

    def sector_of(self, toks: Sequence[str]) -> str:
        """The sector named in a phrase: the longest sector term wins, then the leftmost."""
        best: tuple[int, int, str] | None = None
        for i in range(len(toks)):
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                code = self.sectors.get(tuple(toks[i : i + n]))
                if code:
                    if best is None or n > best[0]:
                        best = (n, -i, code)
                    break
        return best[2] if best else ""

    def office_holder(self, surname: str, when: date, country: str = "") -> Entry | None:
        """The one person with this surname who held an office on `when` (in `country`,
        when given): "Prime Minister Thatcher" in 1982. None when no one or several did."""
        found = {
            e.name: e for e in self.surnames.get(surname, ())
            if e.sector in _OFFICES and e.valid_on(when) and (not country or e.country == country)
        }  # fmt: skip
        return next(iter(found.values())) if len(found) == 1 else None

    def person_entries(self, entries: Iterable[Entry], when: date | None) -> Entry | None:
        """The office-holder entry valid on `when` (term start <= when <= term end).

        The hand-written table is newer: from a person's first hand-written term on, its
        terms decide, and outside them the person is a former office-holder (country +
        ELI, as Phoenix codes them). Before that, the Phoenix entries decide. A person
        with no valid entry keeps their country, not an office."""
        people = [e for e in entries if e.kind == "person"]
        if not people:
            return None
        hand = [e for e in people if e.source == "hand"]
        older = [e for e in people if e.source != "hand"]
        if when is None:
            return (hand or older)[0]
        for entry in hand:
            if entry.valid_on(when):
                return entry
        starts = [e.start for e in hand if e.start is not None]
        if hand and starts and when >= min(starts):
            return Entry("person", hand[0].name, country=hand[0].country, sector="ELI")
        dated = [e for e in older if e.start or e.end]
        for entry in [*dated, *(e for e in older if not (e.start or e.end))]:
            if entry.valid_on(when):
                return entry
        first = people[0]
        return Entry("person", first.name, country=first.country)


def default_actors_dir() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "actors"))


@cache
def load_actor_dictionary(directory: str | None = None) -> ActorDictionary:
    return ActorDictionary(Path(directory) if directory else default_actors_dir())
