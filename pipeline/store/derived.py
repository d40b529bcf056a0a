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

from pipeline import stories
from pipeline.store.files import Connection, sql_file


def temp_ids(con: Connection, name: str, ids: list[str]) -> None:
    """A temp table `name` (article_id varchar) holding ids (none is fine)."""
    con.execute(f"create or replace temp table {name} (article_id varchar)")
    con.execute(f"insert into {name} select unnest(?::varchar[])", [ids])


def touch_events(con: Connection, where: str) -> None:
    """Remember the rollup keys of the factual events that `where` selects (a condition on
    `article_id`), before a load deletes or after it inserts them."""
    con.execute("create temp table if not exists _rollup_keys (rollup_id varchar primary key)")
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
        "order by first_seen_at, published_at nulls last, article_id"
    ).fetchall()
    if not new:
        return 0
    rows = [(aid, band) for aid, body, _ in new for band in stories.bands(body)]
    temp_ids(con, "_new_stories", [aid for aid, _, _ in new])
    con.execute("create or replace temp table _new_bands (article_id varchar, band bigint)")
    con.execute(
        "insert into _new_bands select unnest(?::varchar[]), unnest(?::bigint[])",
        [[a for a, _ in rows], [b for _, b in rows]],
    )
    pairs = con.execute(
        "select distinct n.article_id, s.article_id from _new_bands n "
        "join (select * from story_bands union all select * from _new_bands) s "
        "on s.band = n.band and s.article_id <> n.article_id"
    ).fetchall()
    candidates: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        candidates[a].add(b)
    wanted = {b for _, b in pairs} | {dup for _, _, dup in new if dup}
    temp_ids(con, "_wanted", sorted(wanted))
    stored = {
        aid: (sid, body or "")
        for aid, sid, body in con.execute(
            "select article_id, story_id, body from articles "
            "where story_id is not null and article_id in (select article_id from _wanted)"
        ).fetchall()
    }
    chosen = stories.assign(
        [stories.NewArticle(aid, body, dup) for aid, body, dup in new], candidates, stored
    )
    con.execute(
        "create or replace temp table _story_map "
        "(article_id varchar, story_id varchar, matched varchar, similarity double)"
    )
    con.execute(
        "insert into _story_map select unnest(?::varchar[]), unnest(?::varchar[]), "
        "unnest(?::varchar[]), unnest(?::double[])",
        [list(part) for part in zip(*((a, *c) for a, c in chosen.items()), strict=True)],
    )
    con.execute("delete from story_bands where article_id in (select * from _new_stories)")
    con.execute("insert into story_bands select article_id, band from _new_bands")
    con.execute(
        "update articles set story_id = m.story_id, story_matched = m.matched, "
        "story_similarity = m.similarity from _story_map m "
        "where articles.article_id = m.article_id"
    )
    con.execute("create temp table if not exists _story_keys (story_id varchar primary key)")
    con.execute("insert or ignore into _story_keys select distinct story_id from _story_map")
    touch_events(con, "article_id in (select article_id from _new_stories)")
    return len(chosen)


def refresh(con: Connection) -> None:
    """Recompute the stories and rollup rows that this transaction touched."""
    con.execute("create temp table if not exists _story_keys (story_id varchar primary key)")
    con.execute("create temp table if not exists _rollup_keys (rollup_id varchar primary key)")
    con.execute(sql_file("derived", "stories.sql"))
    con.execute(sql_file("derived", "event_rollup.sql"))
    con.execute("drop table _story_keys")
    con.execute("drop table _rollup_keys")


def rebuild(con: Connection) -> None:
    """Recompute every story row and every rollup row (the same SQL as a load's)."""
    assign_stories(con)
    con.execute("create temp table if not exists _story_keys (story_id varchar primary key)")
    con.execute(
        "insert or ignore into _story_keys select distinct story_id from articles "
        "where story_id is not null union select story_id from stories"
    )
    touch_events(con, "true")
    con.execute("insert or ignore into _rollup_keys select rollup_id from event_rollup")
    refresh(con)
