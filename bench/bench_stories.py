"""Benchmark: what stories and the rollup add to a load, as the store grows.

    .venv/bin/python bench/bench_stories.py [--loads 10] [--size 1000] [--copies 0.1]

Each load is one batch of `--size` articles with 300-word bodies drawn from a Zipf-like
vocabulary of 20,000 words (so unrelated articles share common phrases, as news does),
of which a share `--copies` are reprints of an article stored before (a trimmed copy
with an outlet line), and one factual event per article. The store is a DuckDB file that
grows by one batch per load. For each load it prints the seconds of the whole load and of
its story step (MinHash bands, candidates, exact comparison, updates) and the rollup
refresh, read from the store's own timing hooks. Prints a Markdown table;
docs/PERFORMANCE.md records the figures measured with it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipeline.store.derived as derived  # noqa: E402
from pipeline.store import Batch, FileStore  # noqa: E402
from pipeline.store.schema import COLUMNS  # noqa: E402

NOW = datetime(2025, 11, 2, tzinfo=UTC)
TIMES: dict[str, float] = {}


def _timed(name: str, fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] = TIMES.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def _body(rng: random.Random, vocab: list[str], weights: list[float]) -> str:
    words = rng.choices(vocab, weights, k=300)
    return "\n\n".join(" ".join(words[i : i + 60]) + "." for i in range(0, 300, 60))


def _article(aid: str, body: str, when: datetime, outlet: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS["articles"])
    row.update(
        article_id=aid, url=f"http://127.0.0.1/{aid}", feed="f", title=aid, body=body,
        published_at=when, date_source="feed", site_name=outlet, language="en",
        status="ok", word_count=300, content_hash=aid, first_seen_at=when, fetched_at=when,
        run_id="b",
    )  # fmt: skip
    return row


def _event(aid: str, rng: random.Random, when: datetime) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS["events"])
    a, b = rng.sample(["USA", "CHN", "RUS", "UKR", "IND", "FRA", "DEU", "IRN", "ISR", "TUR"], 2)
    row.update(
        event_id=f"{aid}-0", article_id=aid, event_idx=0, sentence_idx=0, sentence="S.",
        source_text=a, source_name=a, source_actor=a, source_country=a, source_sector="",
        source_start=0, source_end=3, target_text=b, target_name=b, target_actor=b,
        target_country=b, trigger="met", trigger_start=4, trigger_end=7,
        cameo_code=rng.choice(["040", "042", "036", "112", "173"]), root_code="04",
        root_name="Consult", plover="CONSULT", quad_class=1, goldstein=1.0,
        modality="asserted", confidence=0.8, event_date=when.date(), date_source="published",
        date_precision="day", is_primary=True, flags=[], coder_version="bench",
    )  # fmt: skip
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loads", type=int, default=10)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--copies", type=float, default=0.1)
    args = ap.parse_args()
    derived.assign_stories = _timed("stories", derived.assign_stories)
    derived.refresh = _timed("refresh", derived.refresh)
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(20_000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    stored: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        st = FileStore(Path(tmp) / "news.duckdb", lock_timeout_s=5)
        print("| load | articles stored before | load s | stories s | rollup s |")
        print("|---:|---:|---:|---:|---:|")
        for n in range(args.loads):
            when = NOW + timedelta(hours=n)
            arts, evs = [], []
            for i in range(args.size):
                aid = f"l{n:03d}a{i:05d}"
                if stored and rng.random() < args.copies:
                    _, original = rng.choice(stored)
                    paragraphs = original.split("\n\n")
                    body = "\n\n".join(paragraphs[:4]) + "\n\nFrom our partners."
                else:
                    body = _body(rng, vocab, weights)
                arts.append(_article(aid, body, when, f"outlet{i % 40}"))
                evs.append(_event(aid, rng, when))
            run = {
                "run_id": f"bench-{n:03d}", "started_at": when, "finished_at": when,
                "status": "ok", "trigger": "bench", "feeds_total": 1, "feeds_failed": 0,
                "entries_seen": 0, "entries_dropped": 0, "articles_skipped": 0,
                "articles_fetched": 0, "articles_failed": 0, "articles_extracted": 0,
                "articles_short": 0, "articles_tagged": 0, "entities": 0, "events": 0,
                "errors": [],
            }  # fmt: skip
            batch = Batch(
                run=run, articles=arts, events=evs, tagged=[a["article_id"] for a in arts]
            )
            TIMES.clear()
            started = time.perf_counter()
            st.load(batch)
            took = time.perf_counter() - started
            print(f"| {n + 1} | {len(stored):,} | {took:.2f} | {TIMES['stories']:.2f} "
                  f"| {TIMES['refresh']:.2f} |", flush=True)  # fmt: skip
            stored.extend((a["article_id"], a["body"]) for a in arts)
        _, rows = st.query("select count(*), count(*) filter (where n_articles > 1) from stories")
        print(f"\nstories: {rows[0][0]:,}, of which with copies: {rows[0][1]:,}")


if __name__ == "__main__":
    main()
