"""Stories: the articles that carry the same text.

A wire story reprinted by twenty outlets is one story, whatever each outlet does to it: its
own headline and boilerplate, a trim to the first paragraphs, a dateline or credit line, a
few words changed, a later version with two paragraphs more. Two outlets that report one
meeting in their own words are two stories (and one event with mentions from both: that
is the rollup's business, not this module's).

How two articles are compared (documented in docs/STORIES.md, measured on
tests/data/story_pairs.jsonl):

- A body is reduced to word shingles: `SHINGLE` consecutive words, case-folded, with
  punctuation and numbers' formatting ignored.
- Candidates come from MinHash LSH (`datasketch.MinHash`, `NUM_PERM` permutations cut
  into `BANDS` bands): once over the whole body, and once over its lead (the first
  `LEAD_WORDS` words), so that a short copy that keeps only the first paragraphs, whose
  Jaccard similarity with the full text is low, still meets it. Two articles that share a
  band are candidates. The bands are stored (table story_bands), so a new article meets
  every article stored before it, across runs, without recomputing theirs.
- A candidate pair is then decided on the exact shingle sets: the same story when their
  Jaccard similarity is at least `MIN_JACCARD`, or when the shorter one's shingles lie
  mostly (`MIN_CONTAINMENT`) inside the longer one and it has at least `MIN_SHINGLES` of
  them (a trimmed copy).

The store (pipeline/store/sql.py) does the I/O: it reads the candidates, calls `assign`,
and writes the story ids, all inside the load's transaction.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE = 3
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
LEAD_WORDS = 80
MIN_JACCARD = 0.5
MIN_CONTAINMENT = 0.8
MIN_SHINGLES = 25
REPRESENTATIVES = 5
MAX_CANDIDATES = 20
SEED = 1  # fixed: the bands of stored articles must stay comparable with new ones
SCHEME = "affine32"  # datasketch 2: stated, so that a new default never changes the bands

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a text, case-folded; punctuation, quotes and dashes dropped."""
    return _WORD.findall(text.casefold())


def shingles(text: str) -> frozenset[str]:
    """The set of `SHINGLE`-word shingles of a text (one shingle for a shorter text)."""
    return _shingles_of(words(text))


def _shingles_of(ws: list[str]) -> frozenset[str]:
    if len(ws) <= SHINGLE:
        return frozenset([" ".join(ws)]) if ws else frozenset()
    return frozenset(" ".join(ws[i : i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1))


@lru_cache(maxsize=1)
def _template() -> MinHash:
    # The permutations are the costly part of a MinHash; every signature shares them.
    # datasketch is imported here, not with the module: its package imports scipy and
    # redis (about 1.7 s), and every process that opens the store imports this module,
    # while only a load of new articles makes signatures.
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def _signature(items: Iterable[str]) -> np.ndarray:
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_template().permutations, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in items])
    return m.hashvalues


def _band_hashes(signature: np.ndarray, kind: int) -> list[int]:
    out = []
    for band in range(BANDS):
        part = signature[band * ROWS : (band + 1) * ROWS].astype("<u4").tobytes()
        digest = hashlib.blake2b(struct.pack("<BB", kind, band) + part, digest_size=8).digest()
        out.append(int.from_bytes(digest, "little") >> 1)  # fits a signed bigint
    return out


def bands(text: str) -> list[int]:
    """The LSH band hashes of a body: `BANDS` for the whole text, `BANDS` for its lead.
    Empty for a body too short to compare."""
    ws = words(text)  # once: the body's shingles and its lead's come from the same words
    body = _shingles_of(ws)
    if len(body) < 2:
        return []
    lead = _shingles_of(ws[:LEAD_WORDS])
    return _band_hashes(_signature(body), 0) + _band_hashes(_signature(lead), 1)


@dataclass(frozen=True)
class Similarity:
    jaccard: float
    containment: float  # of the shorter text's shingles in the longer one
    shorter: int  # shingles in the shorter text

    @property
    def same_story(self) -> bool:
        return self.jaccard >= MIN_JACCARD or (
            self.containment >= MIN_CONTAINMENT and self.shorter >= MIN_SHINGLES
        )

    @property
    def score(self) -> float:
        return max(self.jaccard, self.containment if self.shorter >= MIN_SHINGLES else 0.0)


def similarity(a: frozenset[str], b: frozenset[str]) -> Similarity:
    if not a or not b:
        return Similarity(0.0, 0.0, 0)
    common = len(a & b)
    shorter = min(len(a), len(b))
    return Similarity(common / len(a | b), common / shorter, shorter)


def same_story(a: str, b: str) -> bool:
    """Whether two bodies carry the same story (the decision, without the LSH step)."""
    return similarity(shingles(a), shingles(b)).same_story


@dataclass(frozen=True)
class NewArticle:
    article_id: str
    body: str
    duplicate_of: str | None = None


@dataclass(frozen=True)
class Stored:
    """A stored article that a new one may join: its story, its body, and how many of
    that story's articles are representatives (have their bands stored)."""

    story_id: str
    body: str
    representatives: int


@dataclass(frozen=True)
class Assigned:
    story_id: str
    matched: str | None  # the article it was matched to; None: it founded the story
    score: float
    representative: bool  # its bands are stored, for later articles to meet


def assign(
    new: Sequence[NewArticle],
    bands_of: Mapping[str, Sequence[int]],
    stored_candidates: Mapping[str, Mapping[str, int]],
    stored: Mapping[str, Stored],
) -> dict[str, Assigned]:
    """Give each new article a story, in the order given (the earliest first).

    bands_of: new article id -> its bands; stored_candidates: new article id -> {stored
    article id: bands shared}; stored: those stored articles. An article that matches
    none founds a story named after itself; an exact duplicate joins its original's story.

    The work stays bounded when one story is copied hundreds of times: only the first
    `REPRESENTATIVES` articles of a story keep their bands (later copies still join it
    through them), and each article is compared exactly with at most `MAX_CANDIDATES`
    candidates, those sharing the most bands first."""
    story = {aid: st.story_id for aid, st in stored.items()}
    reps: dict[str, int] = {st.story_id: st.representatives for st in stored.values()}
    bodies = {aid: st.body for aid, st in stored.items()} | {n.article_id: n.body for n in new}
    texts: dict[str, frozenset[str]] = {}
    in_batch: dict[int, list[str]] = defaultdict(list)  # band -> this batch's representatives

    def shingled(aid: str) -> frozenset[str]:
        if aid not in texts:
            texts[aid] = shingles(bodies[aid])
        return texts[aid]

    out: dict[str, Assigned] = {}
    for article in new:
        aid = article.article_id
        if article.duplicate_of and article.duplicate_of in story:
            sid, matched, score = story[article.duplicate_of], article.duplicate_of, 1.0
        else:
            shared = Counter(stored_candidates.get(aid, {}))
            for band in bands_of.get(aid, ()):
                shared.update(in_batch.get(band, ()))
            ranked = sorted((-n, other) for other, n in shared.items() if other != aid)
            best: tuple[float, str] | None = None
            for _, other in ranked[:MAX_CANDIDATES]:
                if other not in story:
                    continue
                sim = similarity(shingled(aid), shingled(other))
                if sim.same_story and (best is None or sim.score > best[0]):
                    best = (sim.score, other)
            if best is None:
                sid, matched, score = aid, None, 0.0
            else:
                sid, matched, score = story[best[1]], best[1], round(best[0], 4)
        representative = reps.get(sid, 0) < REPRESENTATIVES and bool(bands_of.get(aid))
        if representative:
            reps[sid] = reps.get(sid, 0) + 1
            for band in bands_of[aid]:
                in_batch[band].append(aid)
        story[aid] = sid
        out[aid] = Assigned(sid, matched, score, representative)
    return out


# --- measuring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PairScores:
    pairs: int
    true_positive: int
    false_positive: int
    false_negative: int
    missed_by_lsh: int  # same-story pairs that the decision would take but no band joined
    errors: tuple[tuple[str, str, bool], ...]  # (pair id, kind, gold same_story)

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        gold = self.true_positive + self.false_negative
        return self.true_positive / gold if gold else 1.0


def score_pairs(pairs: Iterable[Mapping[str, object]]) -> PairScores:
    """Score the whole path (LSH candidates, then the decision) on labelled pairs:
    {"pair_id", "kind", "same_story", "a": {"body"}, "b": {"body"}}."""
    tp = fp = fn = lsh = n = 0
    errors = []
    for pair in pairs:
        n += 1
        a, b = (str(pair[side]["body"]) for side in ("a", "b"))  # type: ignore[index]
        candidate = bool(set(bands(a)) & set(bands(b)))
        decided = same_story(a, b)
        found, gold = candidate and decided, bool(pair["same_story"])
        tp += found and gold
        fp += found and not gold
        fn += gold and not found
        lsh += gold and decided and not candidate
        if found != gold:
            errors.append((str(pair["pair_id"]), str(pair["kind"]), gold))
    return PairScores(n, tp, fp, fn, lsh, tuple(errors))
