"""Where the SQL lives: sql/ at the repository root, shipped inside the package as
pipeline.sql (pyproject.toml)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

Connection = duckdb.DuckDBPyConnection


def sql_dir() -> Path:
    return Path(str(resources.files("pipeline.sql")))


def sql_file(*parts: str) -> str:
    """The text of a file under sql/, e.g. sql_file("reports", "summary_counts.sql")."""
    return sql_dir().joinpath(*parts).read_text(encoding="utf-8")
