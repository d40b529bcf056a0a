-- Question: Who met or consulted whom (CAMEO 04x), day by day?
-- Params: since (date, default null: the 7 days up to the latest article)
-- Factual consultations with a target, one row per day, source, target and code (however
-- many sentences report it), with the number of articles and one sentence that says so.
with latest as (
    select cast(max(published_at) as date) as day from articles
),
window_start as (
    select coalesce(cast($since as date), latest.day - 6) as day from latest
),
ev as (
    select
        coalesce(event_date, cast(published_at as date)) as day,
        source_actor, source_name, target_actor, target_name, cameo_code, location,
        article_id, sentence, confidence
    from factual_events
    where root_code = '04' and coalesce(target_name, '') <> ''
)
select
    ev.day,                                             -- the meeting's day
    ev.source_name,
    ev.source_actor,
    ev.target_name,
    ev.target_actor,
    ev.cameo_code,                                      -- 040 consult, 042 visit, 043 host, ...
    any_value(ev.location) as location,
    count(distinct ev.article_id) as articles,         -- articles that report it
    arg_max(ev.sentence, ev.confidence) as sentence    -- the most confident mention
from ev, window_start
where ev.day >= window_start.day
group by all
order by ev.day desc, articles desc, ev.source_actor, ev.target_actor;
