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
import operator
import re
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    pass

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
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # datasketch's own (a, b) for this seed and scheme: the bands of stored articles were
    # made with them, so they are taken from it rather than re-derived. datasketch is
    # imported here, not with the module: its package imports scipy and redis (about
    # 1.7 s), and every process that opens the store imports this module, while only a
    # load of new articles makes signatures.
    from datasketch import MinHash

    a, b = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer, as datasketch's affine32 scheme pre-mixes each hash."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


_SHA1 = hashlib.sha1
_DIGEST = operator.methodcaller("digest")
_CHUNK = 4096  # shingles a block of signatures is computed over: 4096 x 128 fits a cache


def _shingle_hashes(ws: list[str]) -> bytes:
    """The SHA-1 digests (20 bytes each, in order) of a body's shingles at every position,
    repeats included; datasketch's sha1_hash32 keeps the first 4 bytes, little-endian.
    Built and hashed by C iterators (map, zip), not a Python loop per shingle."""
    wb = " ".join(ws).encode("utf-8").split(b" ")  # each word's UTF-8 bytes (no spaces in one)
    return b"".join(map(_DIGEST, map(_SHA1, map(b" ".join, zip(wb, wb[1:], wb[2:], strict=False)))))


def signatures(texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """The MinHash signatures (body, lead) of many bodies at once, identical to
    datasketch's `MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).update_batch` over
    the body's shingle set and its lead's (tests/test_stories.py compares them), or None
    for a body too short to compare. The permutations run over all bodies' shingle hashes
    at once, a block at a time; a repeated shingle changes no minimum, so no set is made."""
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(texts)
    digests: list[bytes] = []
    which: list[int] = []  # the text of each signature
    for i, text in enumerate(texts):
        ws = words(text)
        if len(ws) <= SHINGLE:  # one shingle at most: too short
            continue
        d = _shingle_hashes(ws)
        if d == d[:20] * (len(d) // 20):  # one distinct shingle, repeated
            continue
        digests.append(d)
        which.append(i)
    if not digests:
        return out
    counts = np.fromiter((len(d) // 20 for d in digests), dtype=np.int64, count=len(digests))
    hashes = _fmix32(np.frombuffer(b"".join(digests), dtype="<u4").reshape(-1, 5)[:, 0])
    lead_counts = np.minimum(counts, LEAD_WORDS - SHINGLE + 1)  # the lead's shingles come first
    ends = np.cumsum(counts)
    starts = ends - counts
    a, b = _permutations()
    body = np.empty((len(digests), NUM_PERM), dtype=np.uint32)
    lead = np.empty_like(body)
    first = 0
    while first < len(digests):
        last = int(np.searchsorted(ends, starts[first] + _CHUNK, side="right"))
        last = max(last, first + 1)  # a body longer than a block is a block of its own
        base = starts[first]
        permuted = hashes[base : ends[last - 1], None] * a
        permuted += b
        offsets = starts[first:last] - base
        body[first:last] = np.minimum.reduceat(permuted, offsets, axis=0)
        rows = np.concatenate(
            [np.arange(o, o + n) for o, n in zip(offsets, lead_counts[first:last], strict=True)]
        )
        lead_offsets = np.concatenate(([0], np.cumsum(lead_counts[first : last - 1])))
        lead[first:last] = np.minimum.reduceat(permuted[rows], lead_offsets, axis=0)
        first = last
    for k, i in enumerate(which):
        out[i] = (body[k], lead[k])
    return out


def _band_hashes(signature: np.ndarray, kind: int) -> list[int]:
    out = []
    for band in range(BANDS):
        part = signature[band * ROWS : (band + 1) * ROWS].astype("<u4").tobytes()
        digest = hashlib.blake2b(struct.pack("<BB", kind, band) + part, digest_size=8).digest()
        out.append(int.from_bytes(digest, "little") >> 1)  # fits a signed bigint
    return out


def bands_of_texts(texts: Sequence[str]) -> list[list[int]]:
    """The LSH band hashes of many bodies (see `bands`), computed together."""
    return [
        _band_hashes(sig[0], 0) + _band_hashes(sig[1], 1) if sig is not None else []
        for sig in signatures(texts)
    ]


def bands(text: str) -> list[int]:
    """The LSH band hashes of a body: `BANDS` for the whole text, `BANDS` for its lead.
    Empty for a body too short to compare."""
    return bands_of_texts([text])[0]


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
