"""Benchmark: load time per 1,000 articles on each backend, and an analyst's query latency
while the pipeline loads. Local only: the demo corpus on 127.0.0.1, Postgres on a socket.

    .venv/bin/python bench/bench_store.py [--loads 5] [--backends file,lake,pg]
    .venv/bin/python bench/bench_store.py --realistic 10000 [--per-load 1000] [--backends file,lake]

The batches are the demo pass's own rows (articles with their raw pages, entities, places
and events), cloned under new ids until a batch holds 1,000 articles, so each load is the
size and shape of real output. Each backend gets `--loads` such batches in turn, into a
growing store. Meanwhile another process plays the analyst: it runs an aggregate over
factual_events every 50 ms, reconnecting every query (the file backend: the published
copy; DuckLake: the lake attached), as `newsevents query` does, and records each query's
latency (opening the store included) and any error.

With `--realistic N`, the batches are N made-up articles instead, each with a body of its
own (300-1,500 words: not clones, which make every article a copy, the story step's worst
case), about 40 entities, 5 places and 10 events, and a raw page of HTML; they are loaded
`--per-load` at a time into a new store per backend, and the total is split by step (the
store's own functions, timed from outside). No analyst runs beside these loads.

Prints Markdown tables; docs/ARCHITECTURE.md and docs/PERFORMANCE.md record the figures.
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


# --- realistic batches: unique bodies, and each step of a load timed ----------------------

SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
STOP = ("the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as", "was",
        "by", "at", "said", "from", "it", "an", "be", "has", "are", "this", "have", "will",
        "its", "but", "were", "not", "which", "they", "after", "been", "had", "who", "their",
        "also", "more")  # fmt: skip
ENTITY_LABELS = ("GPE", "PERSON", "ORG", "NORP", "DATE", "LOC")
ACTORS = ("USA", "CHN", "RUS", "UKR", "IND", "FRA", "DEU", "IRN", "ISR", "TUR", "GBR", "JPN",
          "BRA", "ZAF", "EGY", "POL", "KOR", "PRK", "SAU", "PAK")  # fmt: skip
CAMEO = (("040", "04", "Consult", 1, 1.0), ("042", "04", "Consult", 1, 1.9),
         ("036", "03", "Express intent to cooperate", 1, 4.0),
         ("112", "11", "Disapprove", 3, -2.0), ("173", "17", "Coerce", 4, -5.0),
         ("190", "19", "Fight", 4, -10.0),
         ("061", "06", "Engage in material cooperation", 2, 6.4))  # fmt: skip


class Corpus:
    """Unique news-like articles: 300-1,500 words from a Zipf-like vocabulary of 20,000
    alphabetic words (as the search index's tokenizer sees words) with stop words
    between, in sentences and paragraphs; ~40 entities, ~5 places and ~10 events an
    article; each with its raw page (the body inside ~9 KB of page furniture: about the
    size of the demo's pages)."""

    def __init__(self, seed: int = 7) -> None:
        import random

        self.rng = random.Random(seed)
        rng = self.rng
        vocab: set[str] = set()
        while len(vocab) < 20_000:
            vocab.add("".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3, 3, 4)))))
        self.vocab = sorted(vocab)
        rng.shuffle(self.vocab)
        self.weights = [1 / (i + 1) ** 0.9 for i in range(len(self.vocab))]
        self.names = [w.capitalize() + " " + rng.choice(self.vocab).capitalize()
                      for w in self.vocab[:3000]]  # fmt: skip
        self.furniture = " ".join(f'<li><a href="/section/{w}">{w}</a></li>'
                                  for w in self.vocab[:100])  # fmt: skip

    def body(self, n: int) -> str:
        rng = self.rng
        ws = rng.choices(self.vocab, self.weights, k=n)
        for i in rng.sample(range(n), n // 3):
            ws[i] = rng.choice(STOP)
        sentences, i = [], 0
        while i < n:
            k = rng.randint(10, 28)
            s = ws[i : i + k]
            sentences.append(s[0].capitalize() + " " + " ".join(s[1:]) + ".")
            i += k
        paragraphs = [" ".join(sentences[j : j + 4]) for j in range(0, len(sentences), 4)]
        return "\n\n".join(paragraphs)

    def batch(self, run_id: str, start: int, n: int, when: Any) -> Batch:
        from datetime import timedelta

        rng = self.rng
        run = {"run_id": run_id, "started_at": when, "finished_at": when, "status": "ok",
               "trigger": "bench", "feeds_total": 1, "feeds_failed": 0, "entries_seen": n,
               "entries_dropped": 0, "articles_skipped": 0, "articles_fetched": n,
               "articles_failed": 0, "articles_extracted": n, "articles_short": 0,
               "articles_tagged": n, "entities": 0, "events": 0, "errors": []}  # fmt: skip
        batch = Batch(run=run)
        for k in range(start, start + n):
            aid = f"r{k:07d}"
            url = f"https://news{k % 40}.example/2025/11/{aid}"
            body = self.body(rng.randint(300, 1500))
            title = self.body(rng.randint(6, 12)).rstrip(".")
            published = when - timedelta(hours=rng.randint(0, 24 * 14))
            article: dict[str, Any] = dict.fromkeys(COLUMNS["articles"])
            article.update(
                article_id=aid, url=url, final_url=url, feed=f"feed{k % 40}", title=title,
                body=body, author=rng.choice(self.names), published_at=published,
                date_source="feed", site_name=f"News {k % 40}", language="en",
                summary=body[:200], status="ok", word_count=len(body.split()),
                content_hash=f"{k:016x}", first_seen_at=when, fetched_at=when, run_id=run_id,
                coder_version="bench",
            )  # fmt: skip
            batch.articles.append(article)
            batch.tagged.append(aid)
            size = len(body)
            for e in range(rng.randint(30, 50)):
                s = rng.randrange(0, size - 20)
                name = rng.choice(self.names[:600] if e % 2 else self.names)
                batch.entities.append({
                    "article_id": aid, "entity_idx": e, "text": name, "norm": name.lower(),
                    "label": rng.choice(ENTITY_LABELS), "start_char": s,
                    "end_char": s + len(name), "sentence_idx": s // 120,
                })  # fmt: skip
            for p in range(rng.randint(2, 8)):
                s = rng.randrange(0, size - 20)
                batch.places.append({
                    **dict.fromkeys(COLUMNS["places"]), "article_id": aid, "place_idx": p,
                    "text": "Place", "label": "GPE", "start_char": s, "end_char": s + 5,
                    "sentence_idx": s // 120, "geonames_id": 1000 + rng.randrange(500),
                    "name": "Place", "feature_code": "PPLC", "country": rng.choice(ACTORS)[:2],
                    "latitude": rng.uniform(-60, 60), "longitude": rng.uniform(-180, 180),
                    "precision": "city", "method": "bench", "confidence": 0.9,
                    "reason": "bench", "n_candidates": 3,
                })  # fmt: skip
            for e in range(rng.randint(6, 14)):
                a, b = rng.sample(ACTORS, 2)
                code, root, root_name, quad, goldstein = rng.choice(CAMEO)
                s = rng.randrange(0, size - 40)
                ev: dict[str, Any] = dict.fromkeys(COLUMNS["events"])
                ev.update(
                    event_id=f"{aid}-{e:04x}", article_id=aid, event_idx=e,
                    sentence_idx=s // 120, sentence=body[s : s + 140], source_text=a,
                    source_name=a, source_actor=a, source_country=a, source_sector="GOV",
                    source_start=s, source_end=s + 3, target_text=b, target_name=b,
                    target_actor=b, target_country=b, target_sector="GOV", target_start=s + 20,
                    target_end=s + 23, trigger="met", trigger_start=s + 10, trigger_end=s + 13,
                    cameo_code=code, root_code=root, root_name=root_name, plover="CONSULT",
                    quad_class=quad, goldstein=goldstein,
                    modality=rng.choice(("asserted",) * 3 + ("intended", "negated")),
                    confidence=round(rng.uniform(0.3, 1.0), 3),
                    event_date=(published - timedelta(days=rng.randint(0, 2))).date(),
                    date_source="published", date_precision="day", is_primary=e == 0,
                    flags=[], coder_version="bench", rule_id=f"rule-{code}",
                )  # fmt: skip
                batch.events.append(ev)
            html = (f"<!doctype html><html><head><title>{title}</title></head><body>"
                    f"<nav><ul>{self.furniture}</ul></nav><article><h1>{title}</h1>"
                    + "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
                    + f"</article><footer><ul>{self.furniture}</ul></footer>"
                    "</body></html>")  # fmt: skip
            batch.raw_pages.append({
                "url": url, "article_id": aid, "feed": f"feed{k % 40}", "link": url,
                "final_url": url, "status": 200, "content_type": "text/html",
                "body_b64": base64.b64encode(html.encode()).decode("ascii"),
                "fetched_at": when, "entry_title": title, "entry_summary": body[:200],
                "entry_published_at": published, "run_id": run_id, "enriched_at": when,
            })  # fmt: skip
        run["entities"], run["events"] = len(batch.entities), len(batch.events)
        return batch


class Steps:
    """Exclusive seconds per step of a load, from wrappers around the store's own
    functions (a step's time leaves out the steps it calls)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}  # CPU seconds of this process (DuckDB's threads too)
        self._stack: list[tuple[float, float]] = []  # time of the steps each open step calls

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        fn = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append((0.0, 0.0))
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
                inner, inner_cpu = self._stack.pop()
                self.seconds[label] = self.seconds.get(label, 0.0) + took - inner
                self.cpu[label] = self.cpu.get(label, 0.0) + took_cpu - inner_cpu
                if self._stack:
                    outer, outer_cpu = self._stack[-1]
                    self._stack[-1] = (outer + took, outer_cpu + took_cpu)

        setattr(owner, attr, timed)


def instrument() -> Steps:
    import pipeline.store.base as base_mod
    import pipeline.store.derived as derived_mod
    import pipeline.store.sql as sql_mod

    steps = Steps()
    steps.wrap(base_mod, "write_spool", "spool (write JSONL)")
    steps.wrap(sql_mod, "load_batch", "rows (read_json, merge/insert, commit)")
    steps.wrap(derived_mod, "assign_stories", "stories")
    steps.wrap(derived_mod, "touch_events", "rollup")
    steps.wrap(derived_mod, "refresh", "rollup")
    steps.wrap(sql_mod, "rebuild_daily_summary", "daily_summary")
    for cls in (FileStore, LakeStore):
        steps.wrap(cls, "refresh_search_index", "search index")
    steps.wrap(FileStore, "_after_write", "publish (checkpoint, copy)")
    return steps


def bench_realistic(kinds: list[str], articles: int, per_load: int, tmp: Path, pg: Any) -> None:
    """Load `articles` realistic articles in loads of `per_load` into a new store per
    backend; print each load's seconds and the total split by step."""
    from datetime import UTC, datetime

    steps = instrument()
    corpus = Corpus()
    when = datetime(2025, 11, 20, tzinfo=UTC)
    started = time.perf_counter()
    batches = [corpus.batch(f"bench-{i:04d}", i * per_load, min(per_load, articles - i * per_load),
                            when) for i in range(-(-articles // per_load))]  # fmt: skip
    made = time.perf_counter() - started
    words = sum(len(a["body"].split()) for b in batches for a in b.articles)
    html = sum(len(p["body_b64"]) * 3 // 4 for b in batches for p in b.raw_pages)
    print(f"{articles:,} articles in {len(batches)} load(s) of {per_load:,}: "
          f"{words / articles:,.0f} words an article, "
          f"{sum(len(b.entities) for b in batches) / articles:.1f} entities, "
          f"{sum(len(b.places) for b in batches) / articles:.1f} places, "
          f"{sum(len(b.events) for b in batches) / articles:.1f} events, "
          f"{html / articles / 1000:.0f} KB of HTML (made in {made:.1f} s); "
          f"load average {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    names = {"file": "DuckDB file", "lake": "DuckLake, SQLite catalog",
             "pg": "DuckLake, Postgres catalog"}  # fmt: skip
    for kind in kinds:
        (tmp / kind).mkdir()
        st = make(kind, tmp / kind, pg)
        st.prepare()
        steps.seconds.clear()
        steps.cpu.clear()
        times = []
        cpu0 = time.process_time()
        for batch in batches:
            batch.store_id = None  # spooling gives it the store's id: each backend its own
            t0 = time.perf_counter()
            st.load(batch)
            times.append(time.perf_counter() - t0)
        total, total_cpu = sum(times), time.process_time() - cpu0
        split, cpu = dict(steps.seconds), dict(steps.cpu)
        split["other (open, migrate, claim)"] = total - sum(split.values())
        cpu["other (open, migrate, claim)"] = total_cpu - sum(cpu.values())
        n = st.query("select count(*) from articles")[1][0][0]
        print(f"### {names[kind]}: {total:.2f} s in all, {total_cpu:.2f} CPU-s "
              f"({n:,} articles stored)\n")  # fmt: skip
        if len(times) > 1:
            print(f"loads: first {times[0]:.2f} s, median {statistics.median(times):.2f} s, "
                  f"last {times[-1]:.2f} s\n")  # fmt: skip
        print("| step | seconds | share | CPU-seconds (DuckDB's threads included) |")
        print("|---|---:|---:|---:|")
        for label, s in sorted(split.items(), key=lambda kv: -kv[1]):
            print(f"| {label} | {s:.2f} | {s / total:.0%} | {cpu[label]:.2f} |")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--backends", default="file,lake,pg")
    parser.add_argument(
        "--realistic",
        type=int,
        metavar="N",
        default=0,
        help="load N realistic articles (unique bodies) and time each step",
    )
    parser.add_argument(
        "--per-load", type=int, default=1000, help="with --realistic: articles per load"
    )
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
        if args.realistic:
            bench_realistic(kinds, args.realistic, args.per_load, root, pg)
            if pg is not None:
                pg.cleanup()
            return
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
