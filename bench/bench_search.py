"""Benchmark: the search index at 10,000 articles: its rebuild per load, a full rebuild,
its size, and search latency, on the DuckDB file and on DuckLake (SQLite catalog).

    .venv/bin/python bench/bench_search.py [--loads 10] [--backends file,lake]

The articles are the demo pass's rows cloned as bench/bench_store.py clones them (1,000
articles a load, with their entities, places, events and raw pages), each body then
rewritten as 15 sentences drawn at random (seeded) from the whole demo corpus, so that
bodies differ and the index sees a corpus of realistic size and vocabulary (about 330
words an article). Each load is Store.load, the path of every load (a pass, Airflow,
load-spool), so it includes the index's update (the first load builds it); the update
alone is timed inside it. Then a load of raw pages only (an ingest's: the index is left
alone), a forced build of the whole index (`newsevents reindex`), and searches: each one
as `newsevents search` runs it (open the store, hits from the index, events from the
store), in this process, and the whole command once in a fresh process.

Prints Markdown; docs/PERFORMANCE.md records the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import clone_batch, demo_rows  # noqa: E402

from pipeline.store import FileStore, LakeStore, Store  # noqa: E402
from pipeline.store import search as search_mod  # noqa: E402

QUERIES = ["rare earth", "sanctions", "ceasefire talks", "drone incursions", "nuclear inspections",
           "trade agreement tariffs", "military exercises", "election observers", "prisoner swap",
           "critical minerals stockpile"]  # fmt: skip


def sentences(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = []
    for a in rows["articles"]:
        if a["status"] == "ok":
            out += [s.strip() + "." for s in a["body"].replace("\n", " ").split(". ") if s.strip()]
    return out


def varied(batch: Any, pool: list[str], rng: random.Random) -> Any:
    for a in batch.articles:
        if a["status"] == "ok":
            a["body"] = " ".join(rng.choice(pool) for _ in range(15))
            a["content_hash"] = hashlib.sha1(a["body"].encode()).hexdigest()[:16]
            a["word_count"] = len(a["body"].split())
    return batch


def make(kind: str, tmp: Path) -> Store:
    if kind == "file":
        return FileStore(tmp / "news.duckdb", lock_timeout_s=60)
    return LakeStore(f"ducklake:sqlite:{tmp / 'lake.sqlite'}", tmp / "lake", lock_timeout_s=60)


def bench(
    kind: str, rows: dict[str, list[dict[str, Any]]], loads: int, tmp: Path
) -> dict[str, Any]:
    st = make(kind, tmp)
    st.prepare()
    pool, rng = sentences(rows), random.Random(7)
    builds: list[float] = []
    real = search_mod.refresh

    def timed(con: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(con, **kw)
        finally:
            builds.append(time.perf_counter() - t0)

    search_mod.refresh = timed  # type: ignore[assignment]
    load_s = []
    try:
        for i in range(loads):
            batch = varied(clone_batch(rows, f"bench-{i}", 1000), pool, rng)
            t0 = time.perf_counter()
            st.load(batch)
            load_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pages = clone_batch(rows, "bench-pages", 1)  # an ingest's batch: raw pages only
        pages.articles, pages.entities, pages.places, pages.events, pages.tagged = (
            [],
            [],
            [],
            [],
            [],
        )
        st.load(pages)
        no_articles_s = time.perf_counter() - t0
        full = []
        for _ in range(3):
            t0 = time.perf_counter()
            st.refresh_search_index(force=True)
            full.append(time.perf_counter() - t0)
    finally:
        search_mod.refresh = real  # type: ignore[assignment]
    latency = []
    for _ in range(3):
        for q in QUERIES:
            fresh = make(kind, tmp)  # as the CLI: a new store object, nothing cached
            t0 = time.perf_counter()
            result = fresh.search(q)
            latency.append(time.perf_counter() - t0)
            assert result.hits, q
    target = str(tmp / "news.duckdb") if kind == "file" else st.target
    env = {**os.environ, "NEWS_LAKE_DATA_PATH": str(tmp / "lake")}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "search", "--db", target, "rare earth"],
                   cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    command_s = time.perf_counter() - t0
    articles = st.query("select count(*) from articles where status = 'ok'")[1][0][0]
    index_mb = (
        st.search_index_path.stat().st_size / 1e6 if isinstance(st, LakeStore) else float("nan")
    )
    latency.sort()
    return {
        "backend": {"file": "DuckDB file", "lake": "DuckLake, SQLite catalog"}[kind],
        "articles": articles, "load_first": load_s[0], "load_last": load_s[-1],
        "build_first": builds[0], "build_last": builds[loads - 1],
        "build_median": statistics.median(builds[:loads]), "no_articles": no_articles_s,
        "builds_for_loads": len(builds) - 3, "full": statistics.median(full),
        "p50": statistics.median(latency), "p95": latency[int(len(latency) * 0.95)],
        "max": latency[-1], "command": command_s, "index_mb": index_mb,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--backends", default="file,lake")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = demo_rows(root)
        results = []
        for kind in args.backends.split(","):
            (root / kind).mkdir()
            results.append(bench(kind, rows, args.loads, root / kind))
    print(f"{args.loads} loads of 1,000 articles in turn (Store.load, the index updated in "
          f"each, built by the first), then a forced full build; load average at the end: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")  # fmt: skip
    print(
        "| backend | usable articles | load, first / last | index update in it, first (a "
        "build) / median / last | load without articles | full build | index file |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        size = f"{r['index_mb']:.0f} MB" if r["index_mb"] == r["index_mb"] else "(in the store)"
        print(f"| {r['backend']} | {r['articles']:,} | {r['load_first']:.2f} / "
              f"{r['load_last']:.2f} s | {r['build_first']:.2f} / {r['build_median']:.2f} / "
              f"{r['build_last']:.2f} s | {r['no_articles']:.2f} s (index untouched: "
              f"{r['builds_for_loads'] == args.loads}) | {r['full']:.2f} s | {size} |")  # fmt: skip
    print("\nSearch latency, Store.search as `newsevents search` runs it (open the store, hits "
          f"and events), {len(QUERIES)} queries x 3:\n")  # fmt: skip
    print("| backend | p50 | p95 | max | the whole command, one run |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['p50'] * 1000:.0f} ms | {r['p95'] * 1000:.0f} ms | "
              f"{r['max'] * 1000:.0f} ms | {r['command']:.2f} s |")  # fmt: skip


if __name__ == "__main__":
    main()
