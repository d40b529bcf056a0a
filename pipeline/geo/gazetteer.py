"""The offline gazetteer: every place name to its GeoNames entries.

Data: pipeline/data/gazetteer/gazetteer.tsv.gz, built by `make gazetteer`
(tools/build_gazetteer.py) from GeoNames data on PyPI, CC BY 4.0 (see the README there).
About 189,000 entries: populated places of 1,000 people or more, first- and second-order
divisions, countries, continents, and hand-written regions and seas.

Loading reads the file once per process (`load_gazetteer`) and indexes names only; an
entry's fields are parsed when it is first asked for. docs/PERFORMANCE.md has the load
time and memory.
"""

from __future__ import annotations

import gzip
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

# feature code -> the precision an event location at that entry has
_PRECISION = {"ADM1": "admin1", "ADM2": "admin2", "PCLI": "country"}


@dataclass(frozen=True, slots=True)
class Entry:
    geonames_id: int | None  # None for second-order divisions and hand-written regions
    name: str
    feature_class: str  # GeoNames: P populated place, A division, H water, L area, T relief
    feature_code: str  # PPL, PPLC, ADM1, ADM2, PCLI, CONT, RGN, SEA, ...
    country: str  # ISO 3166 alpha-3; "" for seas and regions across countries
    admin1: str  # GeoNames admin1 code ("GA", "12"); "" when none
    admin2: str  # name of the second-order division ("Clarke County"); "" when none
    latitude: float
    longitude: float
    population: int
    key: str  # (country, admin1, name, feature code): unique even without a GeoNames id
    ascii_name: str = ""
    alternate_names: tuple[str, ...] = ()  # Latin-script ones ("Kiev" for Kyiv)

    @property
    def precision(self) -> str:
        """city | admin1 | admin2 | country | region."""
        if self.feature_class == "P":
            return "city"
        return _PRECISION.get(self.feature_code, "region")

    @property
    def kind(self) -> str:
        """city | country | admin1 | admin2 | region (the precision, by another name)."""
        return self.precision


_NOT_NAME = re.compile(r"[.,'’`]")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    la1, lo1, la2, lo2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def ascii_fold(text: str) -> str:
    """Accents off ("Köln" -> "Koln"); letters without an ASCII form stay as they are."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_key(text: str) -> str:
    """The form names are looked up by: ASCII, lower case, without "the", periods,
    commas and apostrophes, hyphens as spaces ("the U.S." -> "us", "Nagorno-Karabakh" ->
    "nagorno karabakh", "Khar'kov" -> "kharkov"). Every name in the gazetteer goes
    through it at load, so each step runs only when it has something to do."""
    if not text.isascii():
        text = ascii_fold(text)
    text = text.lower()
    if "." in text or "," in text or "'" in text or "’" in text or "`" in text:
        text = _NOT_NAME.sub("", text)
    if "-" in text:
        text = text.replace("-", " ")
    if "  " in text or text[:1].isspace() or text[-1:].isspace() or "\t" in text:
        text = " ".join(text.split())
    return text[4:] if text.startswith("the ") else text


_SPELLING = [
    (re.compile(r"^(?:al|el|ad|ar|as|ash|at|az)\s+"), ""), (re.compile(r"h\b"), ""),
    (re.compile(r"(?:ou|oo)"), "u"), (re.compile(r"(?:ee|ie|ey|y)"), "i"),
    (re.compile(r"(?:kh|q|ck|c(?=[aou]))"), "k"), (re.compile(r"(?:dj|dzh|zh)"), "j"),
    (re.compile(r"ph"), "f"), (re.compile(r"e"), "a"), (re.compile(r"o"), "u"),
    (re.compile(r"w"), "v"), (re.compile(r"(.)\1+"), r"\1"), (re.compile(r"[\s'`’ʿʾ-]"), ""),
]  # fmt: skip


def spelling_key(text: str) -> str:
    """A coarse key that transliterations of one name share: "Hodeidah", "Hodeida" and
    "al-Hudaydah" -> "hudaida"; "Kharkov" and "Harkov" do not meet (k/h stays)."""
    key = name_key(text)
    for pattern, repl in _SPELLING:
        key = pattern.sub(repl, key)
    return key


class Gazetteer:
    def __init__(self, path: Path) -> None:
        # Line by line: one string of the whole file would hold every character in four
        # bytes (the file is not all ASCII), a transient 60 MB.
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split("\t")
            self._lines = [line.rstrip("\n") for line in handle]
        assert header[:4] == ["geonames_id", "name", "ascii_name", "alternate_names"], header
        self._entries: dict[int, Entry] = {}
        self.names: dict[str, list[int]] = {}  # own name and ASCII form -> rows
        self.alternates: dict[str, list[int]] = {}  # alternate names -> rows
        self.countries: dict[str, int] = {}  # ISO3 -> row
        self.admin1: dict[tuple[str, str], int] = {}  # (ISO3, admin1 code) -> row
        self.capitals: dict[str, list[int]] = {}  # ISO3 -> rows of PPLC entries
        self._spelling_index: dict[str, list[int]] | None = None
        names, alternates = self.names, self.alternates
        for row, line in enumerate(self._lines):
            _, name, ascii_name, alts, _, code, country, a1, _ = line.split("\t", 8)
            # A name with accents is keyed by its ASCII form, which is what folding it
            # gives ("Köln" -> "koln"), without the cost of folding 50,000 names.
            key = name_key(name if name.isascii() or not ascii_name else ascii_name)
            names.setdefault(key, []).append(row)
            if alts:
                for alt in alts.split("|"):
                    alternates.setdefault(name_key(alt), []).append(row)
            if code == "PCLI":
                self.countries[country] = row
            elif code == "ADM1":
                self.admin1[(country, a1)] = row
            elif code == "PPLC":
                self.capitals.setdefault(country, []).append(row)

    def entry(self, row: int) -> Entry:
        found = self._entries.get(row)
        if found is None:
            f = self._lines[row].split("\t")
            found = Entry(
                geonames_id=int(f[0]) if f[0] else None, name=f[1], feature_class=f[4],
                feature_code=f[5], country=f[6], admin1=f[7], admin2=f[8],
                latitude=float(f[9]), longitude=float(f[10]), population=int(f[11]),
                key=f"{f[6]}.{f[7]}.{f[1]}.{f[5]}",
                ascii_name=f[2], alternate_names=tuple(f[3].split("|")) if f[3] else (),
            )  # fmt: skip
            self._entries[row] = found
        return found

    def __len__(self) -> int:
        return len(self._lines)

    def entries(self) -> Iterator[Entry]:
        for row in range(len(self._lines)):
            yield self.entry(row)

    def candidates(self, name: str) -> list[tuple[Entry, bool]]:
        """Every entry called `name`, with whether it is by an alternate name."""
        key = name_key(name)
        out = [(self.entry(r), False) for r in self.names.get(key, ())]
        seen = {e.key for e, _ in out}
        for entry in map(self.entry, self.alternates.get(key, ())):
            if entry.key not in seen:
                seen.add(entry.key)
                out.append((entry, True))
        return out

    def by_spelling(self, name: str) -> list[tuple[Entry, bool]]:
        """Entries whose name is spelled the same way up to transliteration ("Hodeidah"
        for "Hodeida", "Marib" for "Ma'rib"): places of 15,000 or more, first-order
        divisions, countries and regions. The index is built on first use."""
        index = self._spellings()
        return [(self.entry(r), True) for r in index.get(spelling_key(name), ())]

    def _spellings(self) -> dict[str, list[int]]:
        if self._spelling_index is None:
            index: dict[str, list[int]] = {}
            for row, line in enumerate(self._lines):
                keys = line.rpartition("\t")[2]  # the last column, built by the tool
                if keys:
                    for key in keys.split("|"):
                        index.setdefault(key, []).append(row)
            self._spelling_index = index
        return self._spelling_index

    def country(self, iso3: str) -> Entry | None:
        row = self.countries.get(iso3)
        return None if row is None else self.entry(row)

    def iso3(self, code: str | None) -> str | None:
        """ISO3 for an ISO2 or ISO3 country code ("GB" -> "GBR"); None if unknown."""
        if not code:
            return None
        code = code.strip().upper()
        if len(code) == 3:
            return code if code in self.countries else None
        return _iso2_to_iso3().get(code)

    def capital(self, iso3: str) -> Entry | None:
        """A country's capital (the most populous, where GeoNames marks two)."""
        rows = self.capitals.get(iso3, ())
        return max((self.entry(r) for r in rows), key=lambda e: e.population, default=None)

    def admin1_of(self, entry: Entry) -> Entry | None:
        """The first-order division an entry lies in."""
        if not entry.admin1 or entry.feature_code == "ADM1":
            return None
        row = self.admin1.get((entry.country, entry.admin1))
        return None if row is None else self.entry(row)

    def locate(
        self, name: str, country: str | None = None, *, min_population: int = 15_000
    ) -> Entry | None:
        """The one well-known place called `name` (in `country`, when given): a country,
        else the most populous place of `min_population` people or more. The event coder
        looks places up this way, without an article's context; the geoparser
        (`pipeline.geo.geoparse`) resolves every mention with it."""
        best: Entry | None = None
        found = self.candidates(name)
        if any(not alt and (e.feature_class in "LHT" or e.feature_code == "PCLI"
                            or (e.feature_class == "P" and e.population >= min_population))
               for e, alt in found):  # fmt: skip
            # "Africa" is the continent, not Mahdia (whose old name it is); but "U.S." is
            # the country, not Us, a village in France, and "Kiev" the city, not the oblast
            found = [(e, alt) for e, alt in found if not alt]
        for entry, _ in found:
            if country and entry.country != country:
                continue
            if entry.feature_code == "PCLI":
                return entry
            if entry.feature_class != "P" or entry.population < min_population:
                continue
            if best is None or entry.population > best.population:
                best = entry
        return best


@cache
def _iso2_to_iso3() -> dict[str, str]:
    path = default_gazetteer_path().with_name("countries.tsv")
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return {f[0]: f[1] for f in (r.split("\t") for r in rows)}


# doc.user_data key under which the geoparser leaves its resolutions for the coder:
# (start_char, end_char) -> Entry, or None for a mention it could not resolve.
PLACES_KEY = "newsevents_places"


def geoparsed(doc: Any) -> bool:
    """Whether the geoparser has read this document (its readings are then the truth)."""
    return doc is not None and PLACES_KEY in doc.user_data


def place_at(doc: Any, start: int, end: int, text: str) -> Entry | None:
    """The place a span of a document names: the geoparser's reading of the mention
    there when the document went through it (with the article as context: "Athens" in a
    story from Georgia is Athens, Ga.), else the best-known place of that name."""
    resolved = doc.user_data.get(PLACES_KEY) if doc is not None else None
    if resolved is not None:
        for (s, e), entry in resolved.items():
            if s < end and e > start:
                return entry
    return load_gazetteer().locate(text)


def default_gazetteer_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "gazetteer" / "gazetteer.tsv.gz"))


@cache
def load_gazetteer() -> Gazetteer:
    return Gazetteer(default_gazetteer_path())
