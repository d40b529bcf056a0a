-- Question: How many events happened each day, GDELT style, by QuadClass, with their mentions, articles and sources?
-- Params: since (date, default null: every day), country (ISO3 code of the source or target, default null: every country)
-- Events counted once a day per source, target and CAMEO code (Phoenix's one-a-day rule,
-- as event_rollup counts them), over factual events; mentions are the sentences that
-- report them, sources the distinct outlets. The day is the event's date, else its
-- article's publication day.
with ev as (
    select
        coalesce(e.event_date, cast(e.published_at as date)) as day,
        e.quad_class, e.source_actor, coalesce(e.target_actor, '') as target_actor,
        e.cameo_code, e.goldstein, e.article_id, coalesce(f.outlet, e.feed) as outlet
    from factual_events as e
    left join feeds as f on f.name = e.feed
    where cast($country as varchar) is null
       or cast($country as varchar) in (e.source_country, e.target_country)
)
select
    day,
    quad_class,              -- 1 verbal coop., 2 material coop., 3 verbal conflict, 4 material conflict
    count(distinct (source_actor, target_actor, cameo_code)) as events,   -- one a day each
    count(*) as mentions,
    count(distinct article_id) as articles,
    count(distinct outlet) as sources,
    round(avg(goldstein), 2) as mean_goldstein    -- -10 .. +10, over mentions
from ev
where cast($since as date) is null or day >= cast($since as date)
group by all
order by day, quad_class;
