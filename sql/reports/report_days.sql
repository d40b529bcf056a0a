-- Factual events per day and QuadClass in the window $start .. $end (dates, inclusive),
-- for the report's first chart. A day is the UTC publication day of the article that
-- reports the event (its first fetch when it has no date): what the news said that day,
-- not when the event happened. Days and classes without events have no row.
with art as (
    select article_id, cast(coalesce(published_at, first_seen_at) as date) as day
    from articles
),
ev as (
    select article_id, quad_class
    from factual_events
)
select
    art.day,                      -- publication day, UTC
    ev.quad_class,                -- 1 verbal cooperation .. 4 material conflict
    count(*) as events            -- factual events
from ev
join art using (article_id)
where art.day between cast($start as date) and cast($end as date)
group by all
order by art.day, ev.quad_class
