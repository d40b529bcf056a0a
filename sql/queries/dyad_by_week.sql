-- Question: How do conflict and cooperation between two countries go, week by week?
-- Params: a (ISO3 country code, default USA), b (ISO3 country code, default CHN), since (date, default null: every week)
-- Factual events between the two, in both directions, per ISO week (Monday) of the
-- event's day (its date, else its article's publication day). Weeks without events
-- are left out.
with ev as (
    select
        coalesce(event_date, cast(published_at as date)) as day,
        source_country,
        target_country,
        quad_class,
        goldstein
    from factual_events
    where (source_country = cast($a as varchar) and target_country = cast($b as varchar))
       or (source_country = cast($b as varchar) and target_country = cast($a as varchar))
)
select
    cast(date_trunc('week', day) as date) as week,                 -- Monday of the week
    count(*) as events,
    count(*) filter (where source_country = cast($a as varchar)) as a_to_b,
    count(*) filter (where source_country = cast($b as varchar)) as b_to_a,
    count(*) filter (where quad_class = 1) as verbal_cooperation,
    count(*) filter (where quad_class = 2) as material_cooperation,
    count(*) filter (where quad_class = 3) as verbal_conflict,
    count(*) filter (where quad_class = 4) as material_conflict,
    round(avg(goldstein), 2) as mean_goldstein                     -- -10 .. +10
from ev
where cast($since as date) is null or day >= cast($since as date)
group by all
order by week;
