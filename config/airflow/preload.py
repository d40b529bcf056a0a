"""Run an Airflow component with the pipeline's heavy libraries imported first.

    python config/airflow/preload.py scheduler --skip-serve-logs   # as standalone.py does

The LocalExecutor forks its workers from the scheduler, and each worker forks the process
of every task it runs. So what the scheduler imported before it started, every task
process has already: importing these libraries took each task 1-3 s (about 1.3 s for
what `pipeline.run` needs and 1.5 s more for spaCy, on an idle 2-core machine), and a
cycle runs eight task processes one after another.

Only third-party libraries are preloaded, never `pipeline` itself: a task imports the
pipeline's own modules when it runs (a fraction of a second), so an edit to pipeline/
takes effect at the next task, as without the preload. No model is loaded here, and
nothing that starts threads or opens a file or connection when imported (vl-convert
starts a JavaScript runtime when used, so it is left out). NEWSEVENTS_PRELOAD="" in the
environment of `make airflow` turns the preload off, and a list of module names replaces
it.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

# What the pipeline's tasks import (python -X importtime -c "import pipeline.run"), the
# spaCy library (not its model), and Altair for the report.
MODULES = (
    "numpy",
    "duckdb",
    "httpx",
    "feedparser",
    "trafilatura",
    "courlan",
    "charset_normalizer",
    "warcio",
    "yaml",
    "spacy",
    "altair",
)


def modules(env: dict[str, str]) -> list[str]:
    """The modules to preload: NEWSEVENTS_PRELOAD (names separated by spaces or commas;
    empty: none) or MODULES."""
    value = env.get("NEWSEVENTS_PRELOAD")
    if value is None:
        return list(MODULES)
    return [name for name in value.replace(",", " ").split() if name]


def preload(names: list[str]) -> float:
    started = time.perf_counter()
    for name in names:
        importlib.import_module(name)
    return time.perf_counter() - started


def main() -> int:
    names = modules(dict(os.environ))
    seconds = preload(names)
    print(f"preload: imported {', '.join(names) or 'nothing'} in {seconds:.1f} s; the task "
          "processes inherit them", flush=True)  # fmt: skip
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *sys.argv[1:]]
    airflow_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
