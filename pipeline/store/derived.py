"""The tables every load derives in its own transaction: stories and event_rollup.

Both are incremental. A load gives stories to the articles that have none yet (its own,
and any stored before this table existed) and recomputes only the stories they join; it
recomputes only the rollup rows whose events it touched, from the events as they now
stand, so counts that already exist are updated and a re-run changes nothing. The full
rebuild (`rebuild`, run by news_daily's refresh and by tests) runs the same SQL over every
key, so the two cannot drift apart. daily_summary, which is small, is rebuilt whole
(pipeline.store.sql.rebuild_daily_summary).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline import stories
from pipeline.store.files import Connection, sql_file


def temp_table(con: Connection, name: str, columns: dict[str, tuple[str, Sequence[Any]]]) -> None:
    """A temp table `name` holding these columns (name -> (SQL type, values)). The values
    reach DuckDB as numpy arrays, which it scans whole: a list parameter is bound value by
    value (200,000 band hashes took 50 s that way). In a varchar column, None is null."""
    frame = {
        col: np.array(["" if v is None else v for v in values], dtype=np.str_)
        if kind == "varchar"
        else np.array(values, dtype=np.int64 if kind == "bigint" else np.float64)
        for col, (kind, values) in columns.items()
    }
    con.execute(
        f"create or replace temp table {name} "
        f"({', '.join(f'{c} {kind}' for c, (kind, _) in columns.items())})"
    )
    if len(next(iter(frame.values()))):
        picked = ", ".join(
            f"nullif(cast({c} as varchar), '')" if kind == "varchar" else f"cast({c} as {kind})"
            for c, (kind, _) in columns.items()
        )
        con.execute(f"insert into {name} select {picked} from frame")  # a scan of `frame`


def temp_ids(con: Connection, name: str, ids: Sequence[str]) -> None:
    """A temp table `name` (article_id varchar) holding ids (none is fine)."""
    temp_table(con, name, {"article_id": ("varchar", ids)})


def _key_tables(con: Connection) -> None:
    """The keys this transaction touched: _story_keys (stories to recompute) and
    _rollup_keys (rollup rows to recompute), empty until something adds to them."""
    con.execute("create temp table if not exists _story_keys (story_id varchar primary key)")
    con.execute("create temp table if not exists _rollup_keys (rollup_id varchar primary key)")


def touch_events(con: Connection, where: str) -> None:
    """Remember the rollup keys of the factual events that `where` selects (a condition on
    `article_id`), before a load deletes or after it inserts them."""
    _key_tables(con)
    con.execute(
        "insert or ignore into _rollup_keys select distinct rollup_id from rollup_mentions "
        f"where {where}"
    )


def assign_stories(con: Connection) -> int:
    """Give a story to every usable article that has none, oldest first; returns how many
    were given one. Their events' rollup keys are touched (num_stories may change)."""
    new = con.execute(
        "select article_id, body, duplicate_of from articles "
        "where story_id is null and status = 'ok' and body is not null "
        "order by coalesce(published_at, first_seen_at), first_seen_at, article_id"
    ).fetchall()
    if not new:
        return 0
    # all new bodies' signatures at once: one numpy pass over every shingle of the load
    bands_of = dict(
        zip([aid for aid, _, _ in new], stories.bands_of_texts([b for _, b, _ in new]), strict=True)
    )
    temp_ids(con, "_new_stories", [aid for aid, _, _ in new])
    con.execute("delete from story_bands where article_id in (select * from _new_stories)")
    rows = [(aid, band) for aid, bs in bands_of.items() for band in bs]
    temp_table(
        con,
        "_new_bands",
        {"article_id": ("varchar", [a for a, _ in rows]), "band": ("bigint", [b for _, b in rows])},
    )
    # stored representatives sharing a band with a new article, and how many bands
    pairs = con.execute(
        "select n.article_id, s.article_id, count(*) from _new_bands n "
        "join story_bands s using (band) group by all"
    ).fetchall()
    stored_candidates: dict[str, dict[str, int]] = defaultdict(dict)
    for a, b, shared in pairs:
        stored_candidates[a][b] = shared
    wanted = {b for _, b, _ in pairs} | {dup for _, _, dup in new if dup}
    temp_ids(con, "_wanted", sorted(wanted))
    stored = {
        aid: stories.Stored(sid, body or "", int(reps))
        for aid, sid, body, reps in con.execute(
            "with w as (select article_id, story_id, body from articles "
            "  where story_id is not null and article_id in (select article_id from _wanted)), "
            "r as (select a.story_id, count(distinct b.article_id) as reps "
            "  from story_bands b join articles a using (article_id) "
            "  where a.story_id in (select story_id from w) group by a.story_id) "
            "select w.article_id, w.story_id, w.body, coalesce(r.reps, 0) "
            "from w left join r using (story_id)"
        ).fetchall()
    }
    chosen = stories.assign(
        [stories.NewArticle(aid, body, dup) for aid, body, dup in new],
        bands_of,
        stored_candidates,
        stored,
    )
    temp_table(
        con,
        "_story_map",
        {
            "article_id": ("varchar", list(chosen)),
            "story_id": ("varchar", [c.story_id for c in chosen.values()]),
            "matched": ("varchar", [c.matched for c in chosen.values()]),
            "similarity": ("double", [c.score for c in chosen.values()]),
        },
    )
    temp_ids(con, "_representatives", [a for a, c in chosen.items() if c.representative])
    con.execute(
        "insert into story_bands select article_id, band from _new_bands "
        "where article_id in (select article_id from _representatives)"
    )
    con.execute(
        "update articles set story_id = m.story_id, story_matched = m.matched, "
        "story_similarity = m.similarity from _story_map m "
        "where articles.article_id = m.article_id"
    )
    _key_tables(con)
    con.execute("insert or ignore into _story_keys select distinct story_id from _story_map")
    touch_events(con, "article_id in (select article_id from _new_stories)")
    return len(chosen)


def refresh(con: Connection) -> None:
    """Recompute the stories and rollup rows that this transaction touched."""
    _key_tables(con)
    con.execute(sql_file("derived", "stories.sql"))
    con.execute(sql_file("derived", "event_rollup.sql"))
    con.execute("drop table _story_keys")
    con.execute("drop table _rollup_keys")


def rebuild(con: Connection) -> None:
    """Recompute every story row and every rollup row (the same SQL as a load's)."""
    assign_stories(con)
    _key_tables(con)
    con.execute(
        "insert or ignore into _story_keys select distinct story_id from articles "
        "where story_id is not null union select story_id from stories"
    )
    touch_events(con, "true")
    con.execute("insert or ignore into _rollup_keys select rollup_id from event_rollup")
    refresh(con)
