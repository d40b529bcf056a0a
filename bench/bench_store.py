"""Benchmark: load time per 1,000 articles on each backend, and an analyst's query latency
while the pipeline loads. Local only: the demo corpus on 127.0.0.1, Postgres on a socket.

    .venv/bin/python bench/bench_store.py [--loads 5] [--backends file,lake,pg]

The batches are the demo pass's own rows (articles with their raw pages, entities, places
and events), cloned under new ids until a batch holds 1,000 articles, so each load is the
size and shape of real output. Each backend gets `--loads` such batches in turn, into a
growing store. Meanwhile another process plays the analyst: it runs an aggregate over
factual_events every 50 ms, reconnecting every query (the file backend: the published
copy; DuckLake: the lake attached), as `newsevents query` does, and records each query's
latency (opening the store included) and any error.

Prints Markdown tables; docs/ARCHITECTURE.md records the figures measured with it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from pipeline.demo import serve_corpus  # noqa: E402
from pipeline.run import run_pass  # noqa: E402
from pipeline.store import Batch, FileStore, LakeStore, Store, open_store  # noqa: E402
from pipeline.store.duckdb_file import copy_file  # noqa: E402
from pipeline.store.schema import COLUMNS  # noqa: E402
from pipeline.tag import load_nlp  # noqa: E402

ANALYST = """
import json, sys, time, select
from pipeline.config import load_settings
from pipeline.store import open_store
settings = load_settings(None, db=sys.argv[1], lake_data_path=sys.argv[2])
sql = "select root_code, count(*), avg(goldstein) from factual_events group by 1"
lat, errors = [], []
print("ready", flush=True)
while not select.select([sys.stdin], [], [], 0.05)[0]:
    t0 = time.perf_counter()
    try:
        open_store(settings).query(sql)  # what `newsevents query` runs
        lat.append(time.perf_counter() - t0)
    except Exception as exc:
        errors.append(str(exc)[:200])
print(json.dumps({"lat": lat, "errors": errors}))
"""


def demo_rows(tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of one demo pass, as a batch carries them."""
    settings = load_settings(None, db=str(tmp / "demo.duckdb"))
    with serve_corpus(ROOT / "samples" / "demo") as srv:
        run_pass(srv.feeds(), srv.allow(settings), nlp=load_nlp(settings.spacy_model))
    st = open_store(settings)
    out: dict[str, list[dict[str, Any]]] = {}
    for table in ("articles", "entities", "places", "events", "raw_pages"):
        columns = [c for c in COLUMNS[table] if c != "body_b64"]
        select = ", ".join(columns + (["body"] if table == "raw_pages" else []))
        names, rows = st.query(f"select {select} from {table}")
        out[table] = [dict(zip(names, r, strict=True)) for r in rows]
    for row in out["raw_pages"]:
        row["body_b64"] = base64.b64encode(bytes(row.pop("body"))).decode("ascii")
    return out


def clone_batch(rows: dict[str, list[dict[str, Any]]], run_id: str, n: int) -> Batch:
    """A batch of n articles: the demo's rows under new ids and URLs."""
    run = {"run_id": run_id, "started_at": rows["articles"][0]["fetched_at"],
           "finished_at": rows["articles"][0]["fetched_at"], "status": "ok",
           "trigger": "bench", "feeds_total": 0, "feeds_failed": 0, "entries_seen": n,
           "entries_dropped": 0, "articles_skipped": 0, "articles_fetched": n,
           "articles_failed": 0, "articles_extracted": n, "articles_short": 0,
           "articles_tagged": n, "entities": 0, "events": 0, "errors": []}  # fmt: skip
    batch = Batch(run=run)
    copies = -(-n // len(rows["articles"]))
    for k in range(copies):
        tag = f"{run_id}-{k}"
        for a in rows["articles"]:
            if len(batch.articles) == n:
                break
            aid = a["article_id"]
            batch.articles.append({**a, "article_id": f"{aid}{tag}", "url": f"{a['url']}?{tag}",
                                   "run_id": run_id})  # fmt: skip
            batch.tagged.append(f"{aid}{tag}")
            for table in ("entities", "places", "events"):
                for r in rows[table]:
                    if r["article_id"] == aid:
                        new = {**r, "article_id": f"{aid}{tag}"}
                        if table == "events":
                            new["event_id"] = f"{aid}{tag}-{r['event_id'].rsplit('-', 1)[1]}"
                        getattr(batch, table).append(new)
            for r in rows["raw_pages"]:
                if r["article_id"] == aid:
                    new = {**r, "url": f"{r['url']}?{tag}", "article_id": f"{aid}{tag}"}
                    batch.raw_pages.append({**new, "run_id": run_id})
    run["entities"], run["events"] = len(batch.entities), len(batch.events)
    return batch


def make(kind: str, tmp: Path, pg: Any) -> Store:
    if kind == "file":
        return FileStore(tmp / "news.duckdb", lock_timeout_s=60)
    if kind == "lake":
        return LakeStore(f"ducklake:sqlite:{tmp / 'lake.sqlite'}", tmp / "lake", lock_timeout_s=60)
    pg.psql("create database bench;")
    socket_dir = pg.get_uri().split("host=", 1)[1]
    return LakeStore(f"ducklake:postgres:dbname=bench host={socket_dir} user=postgres",
                     tmp / "lake", lock_timeout_s=60)  # fmt: skip


def bench(kind: str, rows: dict[str, list[dict[str, Any]]], loads: int, tmp: Path,
          pg: Any) -> dict[str, Any]:  # fmt: skip
    st = make(kind, tmp, pg)
    st.prepare()
    target = str(st.path) if isinstance(st, FileStore) else st.target
    data = str(st.data_path) if isinstance(st, LakeStore) else "data/lake"
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, target, data], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert analyst.stdout is not None and analyst.stdout.readline().strip() == "ready"
    times = []
    for i in range(loads):
        batch = clone_batch(rows, f"bench-{i}", 1000)
        t0 = time.perf_counter()
        st.load(batch)
        times.append(time.perf_counter() - t0)
    out, _ = analyst.communicate("stop\n", timeout=120)
    report = json.loads(out.strip().splitlines()[-1])
    query = sorted(report["lat"])
    size = copy_s = float("nan")
    if isinstance(st, FileStore):  # the publish step's copy, alone
        size = st.writer_path.stat().st_size
        t0 = time.perf_counter()
        copy_file(st.writer_path, tmp / "copy.duckdb")
        copy_s = time.perf_counter() - t0
    articles = st.query("select count(*) from articles")[1][0][0]
    names = {"file": "DuckDB file", "lake": "DuckLake, SQLite catalog",
             "pg": "DuckLake, Postgres catalog"}  # fmt: skip
    return {
        "backend": names[kind],
        "first": times[0],
        "median": statistics.median(times),
        "last": times[-1],
        "articles": articles,
        "size_mb": size / 1e6,
        "copy_s": copy_s,
        "queries": len(query),
        "errors": len(report["errors"]),
        "p50": statistics.median(query) if query else float("nan"),
        "p95": query[int(len(query) * 0.95)] if query else float("nan"),
        "max": query[-1] if query else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--backends", default="file,lake,pg")
    args = parser.parse_args()
    kinds = args.backends.split(",")
    pg = None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "pg" in kinds:
            os.environ.setdefault("XDG_RUNTIME_DIR", tmp)
            import pgserver

            data = tempfile.mkdtemp(prefix="bench-pg-")
            pg = pgserver.get_server(data, cleanup_mode="delete")
        rows = demo_rows(root)
        results = []
        for kind in kinds:
            (root / kind).mkdir()
            results.append(bench(kind, rows, args.loads, root / kind, pg))
        if pg is not None:
            pg.cleanup()
    print(f"Loads of 1,000 articles (the demo's rows cloned: about "
          f"{len(rows['entities']) * 1000 // len(rows['articles']):,} entities, "
          f"{len(rows['events']) * 1000 // len(rows['articles']):,} events and 1,000 raw pages "
          f"each), {args.loads} in turn into a growing store:\n")  # fmt: skip
    print("| backend | first load | median load | last load | articles after |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['first']:.2f} s | {r['median']:.2f} s | {r['last']:.2f} s "
              f"| {r['articles']:,} |")  # fmt: skip
    for r in results:
        if r["copy_s"] == r["copy_s"]:  # not nan: the file backend
            print(f"\nThe file backend's publish copy, part of each of its loads: "
                  f"{r['size_mb']:.0f} MB in {r['copy_s']:.2f} s at the end "
                  f"({r['size_mb'] / r['copy_s']:.0f} MB/s).")  # fmt: skip
    print("\nAn analyst's query while those loads ran (`newsevents query`'s path: open the "
          "store, an aggregate over factual_events):\n")  # fmt: skip
    print("| backend | queries | errors | p50 | p95 | max |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['queries']} | {r['errors']} | {r['p50'] * 1000:.0f} ms "
              f"| {r['p95'] * 1000:.0f} ms | {r['max'] * 1000:.0f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
