"""The geoparser: every place mention of an article resolved to a gazetteer entry.

A mention is a GPE, LOC or FAC entity, or the place of a dateline. Each is resolved with
the article as context, strongest evidence first:

1. a "City, State" or "City, Country" pair ("Athens, Ga.", "Tripoli, Lebanon"), and a
   kind word ("Idlib province", "the town of Douma");
2. the dateline ("KYIV, Ukraine (AP) —");
3. the divisions (states, provinces) the article names, and the places near the ones
   already resolved;
4. the countries the article is about (country names and demonyms, counted);
5. the feed's country;
6. and last, population.

Every mention becomes a row of the `places` table, resolved or not: one that no entry
carries is kept with reason `not_in_gazetteer`, one whose candidates nothing tells apart
with `ambiguous: ...`, one that only a small place far from the story would match with
`weak_match`. docs/GEO.md describes the method and its measured accuracy.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.coding.dictionary import read_tsv
from pipeline.coding.segment import dateline
from pipeline.geo.gazetteer import (
    PLACES_KEY,
    Entry,
    Gazetteer,
    haversine_km,
    load_gazetteer,
    name_key,
)
from pipeline.records import PlaceMention

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# The small model tags many places as people, organisations or works ("shelled Kharkiv",
# "officials in Kyiv said", "the road to Frankfort"), or not at all. Such a span is a
# place mention when the gazetteer has that name and either it is one word naming a
# country, a division or a place this large, or the text uses it as a place: after a
# preposition of place, in a list with a place, or as "north of X".
OTHER_LABELS = frozenset({"PERSON", "ORG", "PRODUCT", "WORK_OF_ART", "EVENT", "NORP"})
OTHER_MIN_POPULATION = 100_000
_LOC_PREPS = frozenset({"in", "near", "at", "outside", "from", "to", "into", "through",
                        "toward", "towards", "across", "around", "between", "via", "inside",
                        "beyond", "throughout", "within"})  # fmt: skip
_OF_HEADS = frozenset({"north", "south", "east", "west", "northeast", "northwest",
                       "southeast", "southwest", "outskirt", "outskirts", "edge", "center",
                       "centre", "km", "kilometer", "kilometre", "mile", "heart", "suburb",
                       "part", "province", "city", "town", "village", "region", "district",
                       "capital", "resident", "people", "mayor", "governor", "port", "border",
                       "entrance", "street", "streets", "county"})  # fmt: skip
# A name the model did not tag, before a kind word: "the Donetsk region".
_UNTAGGED = re.compile(
    r"\b(?P<name>[A-Z][a-z'’\-]+(?: [A-Z][a-z'’\-]+)?) (?P<kind>region|province|oblast|"
    r"governorate|prefecture)\b"
)
# A word after a name that says what kind of place it is: "Idlib province".
_KIND_AFTER = {
    "province": "admin", "governorate": "admin", "oblast": "admin", "region": "admin",
    "state": "admin", "prefecture": "admin", "territory": "admin", "district": "admin",
    "county": "admin2", "parish": "admin2", "department": "admin",
    "city": "city", "town": "city", "village": "city",
}  # fmt: skip
# "the province of Idlib", "the town of Douma", "the Ukrainian city of Kharkiv"
_KIND_BEFORE = re.compile(
    r"\b(?P<kind>province|governorate|oblast|region|state|city|town|village|district|"
    r"county|capital|port|suburb|enclave)\s+of\s+$",
    re.I,
)
# "Idlib province", "Washington state", "the Kherson region": the division
_ADMIN_AFTER = re.compile(r"\s+(?:state|province|governorate|oblast|region)\b", re.I)
_PAIR = re.compile(r",\s*(?P<region>(?:[A-Z][\w'’.\-]*\.?)(?:\s+[A-Z][\w'’.\-]*\.?){0,3})")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_TRAIL = " ,;:\"“”'‘’()[]"
NEAR_KM = 150.0
# Hand-written regions and seas, and continents, have no population; they are well known,
# so they rank as a large city would ("the Red Sea", not Egypt's Red Sea province).
_FEATURE_WEIGHT = 6.0  # log10 of a pseudo-population of 1,000,000


@dataclass
class _Mention:
    text: str  # as written
    key: str  # the name looked up
    label: str
    start: int
    end: int
    sentence_idx: int
    hint: str = ""  # admin | admin2 | city: from a kind word
    within: list[Entry] = field(default_factory=list)  # "City, State": the state
    pair_of: int | None = None  # index of the city this region qualifies
    candidates: list[tuple[Entry, bool]] = field(default_factory=list)
    chosen: Entry | None = None
    method: str = ""
    confidence: float = 0.0
    reason: str = ""
    spelled: bool = False  # found by transliteration, not by name
    looked_up: bool = False  # candidates read from the gazetteer (maybe none)


_TITLES = frozenset({"president", "minister", "gov", "governor", "sen", "senator", "rep", "mr",
                     "mrs", "ms", "dr", "king", "queen", "prince", "gen", "general", "judge",
                     "mayor", "chancellor", "secretary", "pope", "sheikh", "lt", "col", "sgt",
                     "officer", "coach", "spokesman", "spokeswoman"})  # fmt: skip


@cache
def known_people() -> frozenset[str]:
    """Names and surnames of the office-holders the coder knows ("Bush" is not Bush,
    Egypt), from pipeline/data/actors/office_holders.tsv."""
    path = Path(str(resources.files("pipeline") / "data" / "actors" / "office_holders.tsv"))
    out: set[str] = set()
    for row in read_tsv(path):
        for name in [row["name"], *row["aliases"].split("|")]:
            if name:
                out.add(name.lower())
                out.add(name.split()[-1].lower())
    return frozenset(out)


@cache
def demonyms() -> dict[str, str]:
    """Demonym and adjective -> ISO3 ("Ukrainian" -> UKR), from the actor country table."""
    path = Path(str(resources.files("pipeline") / "data" / "actors" / "countries.tsv"))
    out: dict[str, str] = {}
    for row in read_tsv(path):
        for word in row["demonyms"].split("|"):
            if word:
                out[word.lower()] = row["iso3"]
    return out


def _unresolved(m: _Mention, reason: str) -> None:
    m.chosen, m.method, m.confidence, m.reason = None, "", 0.0, reason


def _locative(tok: Any, depth: int = 0) -> bool:
    """Whether a token is used as a place: the object of "in", "near", "from"...; "north
    of X", "the outskirts of X"; or a conjunct of a place ("Lexington and Versailles")."""
    if tok.dep_ == "pobj":
        prep = tok.head
        if prep.lower_ in _LOC_PREPS:
            return True
        if prep.lower_ == "of" and prep.head.lemma_.lower() in _OF_HEADS:
            return True
    if tok.dep_ in {"conj", "appos"} and depth < 3 and tok.head is not tok:
        head = tok.head
        return head.ent_type_ in PLACE_LABELS or _locative(head, depth + 1)
    return False


def distance_km(a: Entry, b: Entry) -> float:
    """Great-circle distance between two entries."""
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)


def _clean(text: str) -> str:
    text = " ".join(text.split()).strip(_TRAIL)
    text = _POSSESSIVE.sub("", text)
    if text.lower().startswith("the "):
        text = text[4:]
    return text.strip(_TRAIL)


class Geoparser:
    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.gaz = gazetteer or load_gazetteer()

    # -- candidates ---------------------------------------------------------------------

    def _lookup(self, m: _Mention) -> None:
        cands = self.gaz.candidates(m.key)
        words = m.key.split()
        if not cands and len(words) > 1 and words[-1] in _KIND_AFTER:
            # "Idlib province", "Kherson region": the name, and what kind of place it is
            m.hint = m.hint or _KIND_AFTER[words[-1]]
            m.key = " ".join(words[:-1])
            cands = self.gaz.candidates(m.key)
        if not cands and len(words) > 1 and words[0] in {"north", "south", "east", "west",
                                                         "northern", "southern", "eastern",
                                                         "western", "central"}:  # fmt: skip
            # "northern Syria", "eastern Ukraine", "West Texas": the country or division
            # itself (not "West Side" -> Side, Turkey)
            cands = [c for c in self.gaz.candidates(" ".join(words[1:]))
                     if c[0].feature_class != "P"]  # fmt: skip
        if not cands:
            cands = self.gaz.by_spelling(m.key)
            m.spelled = bool(cands)
        m.looked_up = True
        if m.hint:
            wanted = {
                "admin": {"ADM1", "ADM2"}, "admin2": {"ADM2"},
            }.get(m.hint)  # fmt: skip
            if wanted:
                kept = [c for c in cands if c[0].feature_code in wanted]
            else:  # city
                kept = [c for c in cands if c[0].feature_class == "P"]
            cands = kept or cands
        m.candidates = cands

    def _mentions(self, doc: Any, text: str) -> list[_Mention]:
        sent_starts = [s.start_char for s in doc.sents]

        def sentence_of(char: int) -> int:
            return max(0, bisect_right(sent_starts, char) - 1)

        out: list[_Mention] = []
        found = dateline(text)
        covered: set[int] = set()
        if found is not None:
            start = text.find(found.place, 0, found.start + 1)
            if start >= 0:
                city = _Mention(found.place, name_key(found.place.title()), "DATELINE",
                                start, start + len(found.place), 0)  # fmt: skip
                out.append(city)
                covered.update(range(city.start, city.end))
                if found.region:
                    rstart = text.find(found.region, city.end, found.start + 1)
                    region = _Mention(found.region, name_key(found.region), "DATELINE",
                                      rstart, rstart + len(found.region), 0)  # fmt: skip
                    region.pair_of = 0
                    state = self._postal_state(found.region)  # "LONG BEACH, CA"
                    if state is not None:
                        region.candidates = [(state, False)]
                    out.append(region)
                    covered.update(range(region.start, region.end))
        deferred = []
        for ent in doc.ents:
            if ent.start_char in covered:
                continue
            if ent.label_ not in PLACE_LABELS and not self._place_like(ent):
                if ent.label_ in OTHER_LABELS and ent.label_ != "NORP":
                    deferred.append(ent)
                continue
            raw = ent.text
            offset = ent.start_char
            # "Athens, Ga." tagged as one entity: two mentions, the city and its state.
            parts = re.split(r"(,\s*)", raw)
            pieces: list[tuple[str, int]] = []
            pos = offset
            for p in parts:
                if p and not p.startswith(","):
                    pieces.append((p, pos))
                pos += len(p)
            first_index = len(out)
            for n, (piece, pstart) in enumerate(pieces):
                clean = _clean(piece)
                if not clean or not clean[0].isupper():
                    continue  # "east", "the west": directions, not places
                lead = piece.find(clean)
                m = _Mention(clean, name_key(clean), ent.label_, pstart + lead,
                             pstart + lead + len(clean), sentence_of(pstart))  # fmt: skip
                if n > 0:
                    m.pair_of = first_index
                before = text[max(0, m.start - 40) : m.start]
                kind = _KIND_BEFORE.search(before)
                if kind:
                    word = kind.group("kind").lower()
                    m.hint = {"capital": "city", "port": "city", "suburb": "city",
                              "enclave": ""}.get(word, _KIND_AFTER.get(word, ""))  # fmt: skip
                if n == 0 and _ADMIN_AFTER.match(text, m.end):
                    m.hint = "admin"
                out.append(m)
            # "Paris, Texas" with "Texas" outside the entity (or not tagged at all)
            last = out[-1] if len(out) > first_index else None
            if last is not None and last.pair_of is None:
                pm = _PAIR.match(text, ent.end_char)
                if pm:
                    region_text = pm.group("region")
                    words = region_text.split()
                    for k in range(len(words), 0, -1):
                        cand = " ".join(words[:k])
                        cand = cand if cand.endswith(".") and len(cand) <= 6 else cand.rstrip(".")
                        hits = [e for e, _ in self.gaz.candidates(cand)
                                if e.feature_code in {"ADM1", "PCLI"}]  # fmt: skip
                        if hits:
                            rstart = pm.start("region")
                            region = _Mention(cand, name_key(cand), "GPE", rstart,
                                              rstart + len(cand), sentence_of(rstart))  # fmt: skip
                            region.pair_of = len(out) - 1
                            covered.update(range(rstart, rstart + len(cand)))
                            out.append(region)
                            break
                        state = self._postal_state(cand)  # "Springfield, IL"
                        if state is not None:
                            region = _Mention(cand, cand, "GPE", pm.start("region"),
                                              pm.start("region") + 2,
                                              sentence_of(pm.start("region")))  # fmt: skip
                            region.pair_of = len(out) - 1
                            region.candidates = [(state, False)]
                            covered.update(range(region.start, region.end))
                            out.append(region)
                            break
        taken = {i for m in out for i in range(m.start, m.end)}
        # Second chance, in the countries the article's places are in: a person, an
        # organisation or an untagged name that is a place there ("Saraqeb" in a story
        # about Idlib, tagged as an organisation).
        countries = {e.country for m in out for e, alt in self._candidates_of(m)
                     if e.feature_code == "PCLI" or m.label == "DATELINE"}  # fmt: skip
        spans = [(e.start_char, e.end_char, e.label_) for e in deferred]
        spans += [(a, b, "PROPN") for a, b in self._untagged(doc, taken, countries)]
        for start, end, label in spans:
            if start in taken:
                continue
            name = _clean(text[start:end])
            if not name:
                continue
            lead = text.find(name, start, end)
            if label != "PROPN" and (" " in name or not self._local(name, countries)):
                continue  # one word only: "Pedro Sanchez" and "White House" are not towns
            hint = "admin" if _ADMIN_AFTER.match(text, lead + len(name)) else ""
            out.append(_Mention(name, name_key(name), label, lead, lead + len(name),
                                sentence_of(lead), hint=hint))  # fmt: skip
            taken.update(range(lead, lead + len(name)))
        # "the Ukrainian capital": a demonym that names a place, the country's capital
        for ent in doc.ents:
            if ent.label_ != "NORP" or ent.end >= len(doc) or ent.start_char in taken:
                continue
            if doc[ent.end].lower_ != "capital" or doc[ent.end].pos_ != "NOUN":
                continue
            country = demonyms().get(_clean(ent.text).lower())
            capital = self.gaz.capital(country) if country else None
            if capital is not None:
                end = doc[ent.end].idx + len(doc[ent.end].text)
                m = _Mention(text[ent.start_char : end], f"capital of {country}", "NORP",
                             ent.start_char, end, sentence_of(ent.start_char))  # fmt: skip
                m.candidates = [(capital, False)]
                out.append(m)
                taken.update(range(ent.start_char, end))
        for um in _UNTAGGED.finditer(text):
            if um.start() in taken or um.group("name").lower() in {"the", "a", "this"}:
                continue
            name = um.group("name")
            m = _Mention(name, name_key(name), "GPE", um.start(), um.start() + len(name),
                         sentence_of(um.start()), hint="admin")  # fmt: skip
            out.append(m)
        # Entities inside a pair region already taken ("Ga." also tagged on its own).
        seen: set[tuple[int, int]] = set()
        kept = []
        for m in out:
            if (m.start, m.end) in seen:
                continue
            seen.add((m.start, m.end))
            kept.append(m)
        return kept

    def _postal_state(self, code: str) -> Entry | None:
        """The US state a two-letter postal code names ("CA", "IL"): GeoNames' US admin1
        codes are the postal codes."""
        if len(code) != 2 or not code.isupper():
            return None
        row = self.gaz.admin1.get(("USA", code))
        return None if row is None else self.gaz.entry(row)

    def _place_like(self, ent: Any) -> bool:
        if ent.label_ not in OTHER_LABELS:
            return False
        name = _clean(ent.text)
        if not name[:1].isupper():
            return False  # "the bush"
        before = ent.doc[ent.start - 1] if ent.start > 0 else None
        if before is not None and before.lower_.rstrip(".") in _TITLES:
            return False  # "President Bush", "Prime Minister Pedro Sanchez"
        if ent.label_ == "PERSON" and name.lower() in known_people():
            return False
        cands = [e for e, alt in self.gaz.candidates(name) if not alt]
        if not cands:
            return False
        big = any(
            e.feature_code in {"PCLI", "ADM1"}
            or (e.feature_class == "P" and e.population >= OTHER_MIN_POPULATION)
            for e in cands
        )
        if len(ent) == 1 and ent.label_ == "PERSON" and big:
            return True  # "shelled Kharkiv"
        return _locative(ent.root)

    def _candidates_of(self, m: _Mention) -> list[tuple[Entry, bool]]:
        if not m.candidates and not m.looked_up:
            self._lookup(m)
        return m.candidates

    def _local(self, name: str, countries: set[str]) -> bool:
        """A place of that name, by its own name, in one of the article's countries: a
        division, or a place of 5,000 or more."""
        return any(
            not alt and e.country in countries
            and (e.feature_class != "P" or e.population >= 5_000)
            for e, alt in self.gaz.candidates(name)
        )  # fmt: skip

    def _untagged(self, doc: Any, taken: set[int], countries: set[str]) -> list[tuple[int, int]]:
        """Spans of proper nouns the model tagged as nothing that the gazetteer has, used
        as places ("from Lexington and Versailles"), or local to the article's countries."""
        out = []
        i = 0
        while i < len(doc):
            tok = doc[i]
            if tok.pos_ != "PROPN" or tok.ent_type_ or tok.idx in taken or not tok.is_title:
                i += 1
                continue
            j = i
            while j + 1 < len(doc) and doc[j + 1].pos_ == "PROPN" and not doc[j + 1].ent_type_:
                j += 1
            span = doc[i : j + 1]
            if ((_locative(span.root) and any(not a for _, a in self.gaz.candidates(span.text)))
                    or self._local(span.text, countries)):  # fmt: skip
                out.append((span.start_char, span.end_char))
            i = j + 1
        return out

    # -- resolution ---------------------------------------------------------------------

    def parse(
        self, doc: Any, *, article_id: str, feed_country: str | None = None
    ) -> list[PlaceMention]:
        text = doc.text
        mentions = self._mentions(doc, text)
        for m in mentions:
            self._candidates_of(m)
        # Pairs: the region of "City, Region" resolves first, and fences the city in.
        for m in mentions:
            if m.pair_of is None or not m.candidates:
                continue
            regions = [e for e, _ in m.candidates if e.feature_code in {"ADM1", "PCLI"}]
            if regions:
                city = mentions[m.pair_of]
                # "Gori, Georgia": the Georgia that has a Gori; else the state
                holds = [r for r in regions if any(
                    c.country == r.country and (r.feature_code == "PCLI" or c.admin1 == r.admin1)
                    for c, _ in city.candidates
                )]  # fmt: skip
                m.chosen = max(holds or regions,
                               key=lambda e: (e.feature_code == "ADM1", e.population))  # fmt: skip
                m.method, m.confidence = "city_state", 0.95
                mentions[m.pair_of].within.append(m.chosen)
        countries = self._article_countries(doc, mentions)
        dl_country, dl_admin1 = "", ("", "")
        for m in mentions:
            if m.label == "DATELINE" and m.pair_of is not None and m.chosen is not None:
                dl_country = m.chosen.country
                if m.chosen.feature_code == "ADM1":
                    dl_admin1 = (m.chosen.country, m.chosen.admin1)
        admin1s = {(e.country, e.admin1) for m in mentions for e, _ in m.candidates
                   if e.feature_code == "ADM1" and len(m.candidates) == 1}  # fmt: skip
        if dl_admin1[0]:
            admin1s.add(dl_admin1)
        # Pass 1: what needs no neighbours. Pass 2: the rest, beside what pass 1 found
        # under other names (a name never supports itself).
        anchors: list[tuple[str, Entry]] = []
        qualified: dict[str, tuple[Entry | None, str, float, str]] = {}
        for m in mentions:
            if m.within:
                self._resolve(m, countries, dl_country, admin1s, [], feed_country, True, dl_admin1)
                if m.chosen is not None and m.method == "city_state":
                    # "PORTLAND, Maine": every other "Portland" of the article too
                    qualified.setdefault(m.key, (m.chosen, "city_state", 0.9, ""))
        for final in (False, True):
            by_key = dict(qualified)
            for m in mentions:
                if m.chosen is not None and m.method == "city_state":
                    continue
                if m.key in by_key and not m.within and not m.hint:
                    # one sense per article: the same name is the same place
                    m.chosen, m.method, m.confidence, m.reason = by_key[m.key]
                    continue
                others = [e for k, e in anchors if k != m.key]
                self._resolve(
                    m, countries, dl_country, admin1s, others, feed_country, final, dl_admin1
                )
                if not m.within and not m.hint:
                    # ("Washington state" says nothing of the other "Washington"s)
                    by_key[m.key] = (m.chosen, m.method, m.confidence, m.reason)
            if not final:
                anchors = [(m.key, m.chosen) for m in mentions if m.chosen is not None
                           and m.confidence >= 0.6 and m.chosen.feature_class in {"P", "A"}
                           and m.chosen.feature_code != "PCLI"]  # fmt: skip
                admin1s |= {
                    (m.chosen.country, m.chosen.admin1) for m in mentions
                    if m.chosen is not None and m.chosen.feature_code == "ADM1"
                }  # fmt: skip
                dl = next((m for m in mentions if m.label == "DATELINE"), None)
                if dl is not None and dl.chosen is not None:
                    dl_country = dl_country or dl.chosen.country
                    if not dl_admin1[0] and dl.chosen.admin1:
                        dl_admin1 = (dl.chosen.country, dl.chosen.admin1)
                        admin1s.add(dl_admin1)
        doc.user_data[PLACES_KEY] = {(m.start, m.end): m.chosen for m in mentions}
        ordered = sorted(mentions, key=lambda m: m.start)
        return [self._row(article_id, i, m) for i, m in enumerate(ordered)]

    def _article_countries(self, doc: Any, mentions: list[_Mention]) -> dict[str, float]:
        """Each country's share of the article's country evidence: country names, places
        only one country has, and demonyms ("Ukrainian")."""
        counts: dict[str, float] = defaultdict(float)
        for m in mentions:
            countries = {e.country for e, _ in m.candidates if e.country}
            names_country = [e for e, alt in m.candidates if e.feature_code == "PCLI"]
            if names_country:
                for e in names_country:
                    counts[e.country] += 1 / len(names_country)
            elif len(countries) == 1:
                counts[next(iter(countries))] += 0.5
        words = demonyms()
        for ent in doc.ents:
            if ent.label_ == "NORP":
                code = words.get(_clean(ent.text).lower())
                if code:
                    counts[code] += 1
        total = sum(counts.values())
        return {c: n / total for c, n in counts.items()} if total else {}

    def _resolve(
        self,
        m: _Mention,
        countries: dict[str, float],
        dl_country: str,
        admin1s: set[tuple[str, str]],
        anchors: Sequence[Entry],  # resolved under other names
        feed_country: str | None,
        final: bool,
        dl_admin1: tuple[str, str] = ("", ""),
    ) -> None:
        cands = m.candidates
        if not cands:
            _unresolved(m, "not_in_gazetteer")
            return
        if m.within:
            fenced = [
                c for c in cands
                if any(
                    (c[0].country == w.country and (w.feature_code == "PCLI"
                                                    or c[0].admin1 == w.admin1))
                    for w in m.within
                )
            ]  # fmt: skip
            if fenced:
                best = max(fenced, key=lambda c: self._base(c[0], c[1], m))
                m.chosen, m.method, m.confidence, m.reason = best[0], "city_state", 0.95, ""
                return
        # A division named as its big city ("New York", "Kharkiv", "Idlib" for a city of
        # 100,000 or more): the city, unless the text says province or state.
        big_cities = {(e.country, e.admin1) for e, _ in cands
                      if e.feature_class == "P" and e.population >= 100_000}  # fmt: skip
        scored = []
        for entry, alt in cands:
            base = self._base(entry, alt, m)
            context = 0.0
            why = ""
            city_named = (
                entry.feature_code == "ADM1" and (entry.country, entry.admin1) in big_cities
            )
            if city_named and m.hint != "admin":
                base -= 1.5
            if entry.country and entry.country == dl_country and entry.feature_code != "PCLI":
                context += 2.5
                why = "dateline"
            if (
                entry.admin1
                and (entry.country, entry.admin1) in admin1s
                and entry.feature_code != "ADM1"
            ):
                context += 3.0
                why = why or "nearby"
            if final and anchors and entry.feature_code != "PCLI":
                if entry.feature_code == "ADM1" and not city_named:
                    # "Georgia" beside Atlanta and Savannah: the state they lie in
                    inside = {
                        a.key for a in anchors
                        if a.country == entry.country and a.admin1 == entry.admin1
                    }  # fmt: skip
                    if inside:
                        context += 2.0 * min(len(inside), 3)
                        why = why or "nearby"
                elif min(distance_km(entry, a) for a in anchors) < NEAR_KM:
                    context += 2.0
                    why = why or "nearby"
            share = countries.get(entry.country, 0.0)
            if share and entry.feature_code != "PCLI":
                context += 3.0 * share
                why = why or "article_country"
            if entry.feature_code == "PCLI" and share:
                context += 1.0 * share  # "Congo" in a story about Goma
            if entry.feature_code == "PPLC" and (share or entry.country == dl_country):
                # "Washington" in a story from Georgia: the capital, not Washington, Ga.
                context += 3.0
                why = why or "article_country"
            if feed_country and entry.country == feed_country and entry.feature_code != "PCLI":
                context += 1.5
                why = why or "feed_country"
            scored.append((base + context, base, context, why, entry))
        scored.sort(key=lambda s: -s[0])
        top = scored[0]
        pop_best = max(scored, key=lambda s: s[1])
        if len(scored) == 1:
            method = "only" if top[2] == 0 else top[3]
        elif top[4] is pop_best[4] and top[2] == 0:
            method = "population"
        elif top[4].feature_code == "PCLI":
            method = "country_name"
        else:
            method = top[3] or "population"
        margin = top[0] - scored[1][0] if len(scored) > 1 else 3.0
        confidence = round(min(0.99, 0.5 + 0.15 * margin + (0.2 if top[2] else 0.0)), 2)
        entry = top[4]
        if len(scored) > 1 and top[2] == 0 and entry.feature_code not in {"PCLI", "PPLC"}:
            second = scored[1][4]
            if (margin < 0.3 and second.country != entry.country
                    and distance_km(entry, second) > 161):  # fmt: skip
                _unresolved(
                    m,
                    f"ambiguous: {entry.name} ({entry.country}, {entry.population:,}) "
                    f"or {second.name} ({second.country}, {second.population:,})",
                )
                return
        if top[2] == 0 and entry.feature_class == "P" and entry.population < 5_000 and not final:
            _unresolved(m, "weak_match")  # pass 2, which knows the neighbours, decides
            return
        if top[2] == 0 and entry.feature_class == "P" and entry.population < 5_000:
            _unresolved(m, f"weak_match: only {entry.name} ({entry.country}, {entry.population:,})")
            return
        if m.spelled and top[2] == 0 and entry.feature_class == "P" and entry.population < 100_000:
            # a transliteration match needs the article's support, or a large place
            _unresolved(m, f"weak_match: only spelled like {entry.name} ({entry.country})")
            return
        if m.spelled and method in {"only", "population"}:
            method, confidence = "spelling", min(confidence, 0.7)
        m.chosen, m.method, m.confidence, m.reason = entry, method, confidence, ""

    @staticmethod
    def _base(entry: Entry, alt: bool, m: _Mention) -> float:
        """What an entry is worth without the article: its size, and the kind of name."""
        score = math.log10(entry.population + 1) if entry.population else _FEATURE_WEIGHT
        if entry.feature_code == "PCLI":
            score += 3.0  # "Georgia", "Lebanon", "Jordan": the country, unless told
        elif entry.feature_code == "PPLC":
            score += 1.0
        elif entry.feature_code == "ADM1" and m.hint != "admin":
            score -= 0.7  # "Kiev", "Idlib", "New York": the city, unless told
        elif entry.feature_code == "ADM2" and m.hint not in {"admin", "admin2"}:
            score -= 1.5
        if alt:
            score -= 1.0
        return score

    def _row(self, article_id: str, idx: int, m: _Mention) -> PlaceMention:
        e = m.chosen
        admin1 = self.gaz.admin1_of(e) if e is not None else None
        return PlaceMention(
            article_id=article_id,
            place_idx=idx,
            text=m.text,
            label=m.label,
            start_char=m.start,
            end_char=m.end,
            sentence_idx=m.sentence_idx,
            geonames_id=e.geonames_id if e else None,
            name=e.name if e else None,
            feature_code=e.feature_code if e else None,
            admin1=(
                admin1.name if admin1 else (e.name if e and e.feature_code == "ADM1" else None)
            ),
            admin2=(e.admin2 or None) if e else None,
            country=(e.country or None) if e else None,
            latitude=e.latitude if e else None,
            longitude=e.longitude if e else None,
            precision=e.precision if e else None,
            method=("demonym" if m.label == "NORP" else m.method) if e else "unresolved",
            confidence=m.confidence if e else 0.0,
            reason=m.reason or None,
            n_candidates=len(m.candidates),
        )


@cache
def default_geoparser() -> Geoparser:
    return Geoparser()
