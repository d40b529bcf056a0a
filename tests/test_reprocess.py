"""Coding stored pages again: `newsevents enrich --all` and `newsevents reprocess`, on the
demo corpus through the real pipeline (real DuckDB, real spaCy), without fetching."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings
from pipeline.run import enrich_waiting_to_spool, load_spools
from pipeline.store import open_store
from tests.conftest import make_settings


@pytest.fixture
def demo_copy(demo_run: Any, tmp_path: Path) -> Settings:
    """A copy of the module's demo store (the database, its spool and archive), so that
    each test starts from one clean pass without running it again."""
    settings, _, _ = demo_run
    shutil.copytree(settings.db_path.parent, tmp_path / "store")
    return make_settings(tmp_path / "store")


def _one(settings: Settings, sql: str, params: list[Any] | None = None) -> Any:
    return open_store(settings).query(sql, params)[1][0][0]


def test_an_article_that_lost_its_usable_body_loses_its_old_rows(
    demo_copy: Settings, nlp: Any
) -> None:
    """Its stored page now holds a consent wall: enriched again, the article is kept as
    unusable, and none of the entities, places or events of the body it had remain."""
    store = open_store(demo_copy)
    aid = _one(demo_copy, "select article_id from events group by 1 order by count(*) desc, 1")
    wall = (
        "select r.body from raw_pages r join articles a using (article_id) where a.status <> 'ok'"
    )
    with store.writer() as con:
        con.execute(f"update raw_pages set body = ({wall}) where article_id = ?", [aid])
    assert store.mark_all_waiting() >= 34
    result = enrich_waiting_to_spool(demo_copy, nlp=nlp)
    load_spools([result["spool"]], demo_copy)
    assert _one(demo_copy, "select status from articles where article_id = ?", [aid]) != "ok"
    for table in ("entities", "places", "events"):
        sql = f"select count(*) from {table} where article_id = ?"
        assert _one(demo_copy, sql, [aid]) == 0, table
    assert store.run_checks() == {}
