-- event_rollup: the rows whose keys are in _rollup_keys, recomputed from their mentions
-- (view rollup_mentions). A load fills _rollup_keys with the keys of the events it deleted,
-- inserted or whose story changed (pipeline/store/derived.py); a row left with no mention
-- is deleted and not put back.
delete from event_rollup where rollup_id in (select rollup_id from _rollup_keys);
insert into event_rollup by name
with m as (
    select * from rollup_mentions where rollup_id in (select rollup_id from _rollup_keys)
),
-- The evidence: the most confident mention (then the earliest seen, then the lowest id).
evidence as (
    select * from m
    qualify row_number() over (
        partition by rollup_id order by confidence desc nulls last, first_seen_at, event_id
    ) = 1
),
-- The place: the most confident mention that has one.
place as (
    select
        rollup_id, location, location_country, latitude, longitude, location_precision,
        location_geonames_id
    from m
    where latitude is not null
    qualify row_number() over (
        partition by rollup_id order by confidence desc nulls last, first_seen_at, event_id
    ) = 1
),
counts as (
    select
        rollup_id,
        count(*) as num_mentions,
        count(distinct article_id) as num_articles,
        count(distinct story) as num_stories,
        count(distinct outlet) as num_sources,
        min(first_seen_at) as first_seen_at,
        max(first_seen_at) as last_seen_at,
        round(avg(confidence), 4) as mean_confidence,
        bool_or(sentence_idx < 2) as is_root_event,       -- reported in an article's lead
        list_sort(list(event_id)) as event_ids
    from m
    group by rollup_id
)
select
    e.rollup_id,
    e.event_day as event_date,
    e.source_key as source_actor,
    e.target_key as target_actor,
    e.cameo_code,
    e.source_name, e.source_country, e.source_sector,
    e.target_name, e.target_country, e.target_sector,
    e.root_code,
    substr(e.cameo_code, 1, 3) as base_code,
    e.root_name, e.plover, e.quad_class, e.goldstein,
    c.num_mentions, c.num_articles, c.num_stories, c.num_sources,
    c.first_seen_at, c.last_seen_at, c.mean_confidence, c.is_root_event,
    p.location, p.location_country, p.latitude, p.longitude, p.location_precision,
    p.location_geonames_id,
    e.event_id as evidence_event_id,
    e.sentence as evidence_sentence,
    e.url as evidence_url,
    c.event_ids,
    now() as updated_at
from evidence e
join counts c using (rollup_id)
left join place p using (rollup_id);
