-- 0010_reprocess: stable event ids, and what `newsevents reprocess` needs and records.

-- Event ids no longer count events: `article_id-event_idx` gave every event after an added
-- or dropped one a new id when an article was coded again with changed rules. The id is
-- now `article_id-` plus 12 hex digits of sha256 of what the event is (the ordinal of
-- that key within the article, the trigger's offsets, the CAMEO code, both actors'
-- offsets, the sentence), as pipeline.dedup.event_ids computes it for new events. Stored
-- ids are rewritten here, with the event rollup's references to them.
create view _event_id_map as
select event_id as old_id, article_id || '-' || substr(sha256(
    cast(row_number() over (partition by article_id, k order by event_idx) - 1 as varchar)
    || '|' || k), 1, 12) as new_id
from (
    select event_id, article_id, event_idx,
        cast(trigger_start as varchar) || '|' || cast(trigger_end as varchar) || '|'
        || cameo_code || '|' || cast(source_start as varchar) || '|'
        || cast(source_end as varchar) || '|' || coalesce(cast(target_start as varchar), '')
        || '|' || coalesce(cast(target_end as varchar), '') || '|' || sentence as k
    from events
);

update event_rollup set evidence_event_id = m.new_id
from _event_id_map as m
where event_rollup.evidence_event_id = m.old_id;

update event_rollup set event_ids = s.ids
from (
    select r.rollup_id, list(m.new_id order by m.new_id) as ids
    from (select rollup_id, unnest(event_ids) as old_id from event_rollup) as r
    join _event_id_map as m using (old_id)
    group by r.rollup_id
) as s
where event_rollup.rollup_id = s.rollup_id;

-- last: the map reads the old ids from events
update events set event_id = m.new_id
from _event_id_map as m
where events.event_id = m.old_id;

drop view _event_id_map;

-- The coder version of the run that last extracted and coded the article, also when it
-- has no usable body or no events: what `newsevents reprocess` compares with the current
-- coder's to know what is left to do. Filled here from the article's events (null when
-- it has none: such an article is reprocessed once).
alter table articles add column coder_version varchar;
update articles set coder_version = e.coder_version
from (select article_id, max(coder_version) as coder_version from events group by all) as e
where articles.article_id = e.article_id;

-- What a reprocess run replaced (null for other runs); runs.coder_version is the coder
-- version after it.
alter table runs add column replaced_coder_versions varchar[];  -- coder versions of the events it replaced, sorted
alter table runs add column events_replaced integer;            -- events the reprocessed articles had before
alter table runs add column events_kept integer;                -- of runs.events: the same id and values as before (the coder version aside)
