"""Benchmark: the peak memory of one pass (`newsevents run`) over N synthetic articles.

Writes N article pages (about 600 words each, sentences drawn from a fixed word list, every
page unique, padded with markup to --page-kb) and one RSS feed listing them into a temp
dir, serves them on 127.0.0.1 (the standard library's threaded http.server), and runs
`newsevents run` in a child process into a fresh DuckDB store. Reports the child's peak
RSS (VmHWM, read by the child itself at exit; its extraction worker's peak beside it) and
the wall time, per N. Local only.

    .venv/bin/python bench/bench_memory.py --sizes 1000 10000 [--page-kb 100]

`--pythonpath DIR` runs the child with DIR first on its path: the pass of another checkout
(say `git archive main | tar -x -C DIR`, with DIR/pipeline/sql a link to DIR/sql), to
measure before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent

ACTORS = ["The foreign minister of France", "Police in Nairobi", "The government of Japan",
          "Protesters in Santiago", "The Kenyan president", "Rebels near Goma",
          "The European Union", "Officials in Berlin", "The United Nations", "Farmers in Punjab",
          "The Brazilian army", "Lawmakers in Canberra", "Workers in Lagos",
          "The Chinese embassy", "Diplomats from Egypt", "The mayor of Toronto"]  # fmt: skip
VERBS = ["met with", "criticised", "accused", "signed an agreement with", "praised",
         "threatened", "called on", "negotiated with", "condemned", "visited",
         "arrested members of", "rejected the proposal of", "offered aid to",
         "demanded talks with"]  # fmt: skip
TIMES = ["on Monday", "on Tuesday", "late on Wednesday", "this week", "on Friday",
         "after a long meeting", "during a summit", "in a statement",
         "at a press conference"]  # fmt: skip
FILLER = ["the", "a", "of", "in", "and", "to", "with", "for", "on", "after", "before",
          "over", "under", "report", "said", "says", "according", "sources", "local",
          "regional", "national", "economic", "political", "security", "water", "trade",
          "border", "election", "budget", "health", "school", "market", "price", "road",
          "river", "city", "village", "council", "committee", "agency", "court", "judge",
          "union", "company", "bank", "energy", "oil", "grain"]  # fmt: skip


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.5:
        a, b = rng.sample(ACTORS, 2)
        return f"{a} {rng.choice(VERBS)} {b[0].lower()}{b[1:]} {rng.choice(TIMES)}."
    words = rng.choices(FILLER, k=rng.randint(8, 18))
    return " ".join(words).capitalize() + "."


def article_html(i: int, page_kb: int) -> str:
    rng = random.Random(i)
    paragraphs, words = [], 0
    while words < 600:
        text = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        words += len(text.split())
        paragraphs.append(f"<p>{escape(text)}</p>")
    title = f"Report {i}: {rng.choice(ACTORS)} {rng.choice(VERBS)} partners"
    head = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}"
            f"</title></head><body><header><nav>Home | World | Business</nav></header>"
            f"<article><h1>{escape(title)}</h1><p>Dispatch number {i}.</p>"
            + "".join(paragraphs) + "</article>")  # fmt: skip
    # Page weight: real news pages are mostly markup and scripts around the article.
    pad = max(0, page_kb * 1024 - len(head) - 64)
    filler = ("var x=" + "0" * 90 + ";\n") * (pad // 97)
    return head + f"<script>{filler}</script><footer>(c) Bench</footer></body></html>"


def write_site(site: Path, n: int, page_kb: int) -> None:
    (site / "a").mkdir(parents=True)
    items = []
    for i in range(n):
        (site / "a" / f"{i}.html").write_text(article_html(i, page_kb), encoding="utf-8")
        items.append(f"<item><title>Report {i}</title><link>{{BASE}}/a/{i}.html</link>"
                     f"<pubDate>Mon, 01 Dec 2025 10:00:00 GMT</pubDate></item>")  # fmt: skip
    (site / "feed.xml").write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Bench</title>"
        "<link>{BASE}/</link><description>bench</description>" + "".join(items)
        + "</channel></rss>", encoding="utf-8",
    )  # fmt: skip
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feed = site / "feed.xml"
    feed.write_text(feed.read_text(encoding="utf-8").replace("{BASE}", base), encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def child(out: str, argv: list[str]) -> None:
    """In the child: `newsevents run`, then its own peak RSS and its children's."""
    from pipeline.cli import main as cli_main

    t0 = time.perf_counter()
    code = cli_main(argv)
    wall = time.perf_counter() - t0
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(out).write_text(json.dumps({"code": code, "wall_s": wall, "peak_rss_kb": hwm,
                                     "worker_peak_rss_kb": children}))  # fmt: skip


def measure(n: int, page_kb: int, pythonpath: str | None, tmp: Path) -> dict[str, float]:
    site = tmp / f"site{n}"
    write_site(site, n, page_kb)
    with serve(site) as base:
        hostport = base.split("//", 1)[1]
        (tmp / f"feeds{n}.yaml").write_text(
            f"feeds:\n  - name: bench\n    url: \"{base}/feed.xml\"\n    outlet: Bench\n"
            "    language: en\n", encoding="utf-8",
        )  # fmt: skip
        env = {
            **os.environ,
            "NEWS_DB": str(tmp / f"store{n}" / "news.duckdb"),
            "NEWS_FEEDS": str(tmp / f"feeds{n}.yaml"),
            "NEWS_ALLOW_PRIVATE_HOSTS": hostport,
            "NEWS_PER_HOST_DELAY": "0",
            "NEWS_PER_HOST_CONCURRENCY": "8",
            "NEWS_CONCURRENCY": "8",
        }
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        out = tmp / f"result{n}.json"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--child", str(out), "run", "--no-progress"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        result = json.loads(out.read_text())
        result["outer_wall_s"] = time.perf_counter() - t0
    import duckdb

    with duckdb.connect(env["NEWS_DB"], read_only=True) as con:
        result["articles"], result["runs"] = con.execute(
            "select (select count(*) from articles), (select count(*) from runs)"
        ).fetchone() or (0, 0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--page-kb", type=int, default=100)
    parser.add_argument("--pythonpath", help="put DIR first on the child's path")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:])
        return
    print(
        "| pages | page KB | articles loaded | peak RSS (MB) | extraction worker peak (MB) "
        "| wall (s) |"
    )
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            r = measure(n, args.page_kb, args.pythonpath, Path(tmp))
        peak, worker = r["peak_rss_kb"] / 1024, r["worker_peak_rss_kb"] / 1024
        print(f"| {n:,} | {args.page_kb} | {r['articles']:,} | {peak:.0f} | {worker:.0f} | "
              f"{r['wall_s']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
