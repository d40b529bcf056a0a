"""newsevents: feeds -> articles -> entities and geopolitical events -> DuckDB.

One stage per module: feeds, fetch (the only HTTP code), extract, tag (spaCy and the
event coder), dedup, store (the only DuckDB code). `pipeline.run` wires them into a pass,
and `pipeline.cli` and the Airflow DAGs call the same functions.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
