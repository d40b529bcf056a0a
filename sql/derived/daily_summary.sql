-- daily_summary: one row per UTC day with a usable article or a factual event (events
-- with no date at all are left out). Rebuilt whole after every load (pipeline.store) and
-- by the news_daily DAG (pipeline.daily), in the caller's transaction; the table comes
-- from migration 0007 (rows are replaced, the table is kept: on DuckLake a new table per
-- load would change the schema with every snapshot).
delete from daily_summary;
insert into daily_summary by name
with ev as (
    select
        coalesce(event_date, cast(published_at as date)) as day,
        quad_class,
        goldstein
    from factual_events
    where coalesce(event_date, cast(published_at as date)) is not null
),
ev_day as (
    select
        day,
        count(*) as events,
        count(*) filter (where quad_class = 1) as verbal_cooperation,
        count(*) filter (where quad_class = 2) as material_cooperation,
        count(*) filter (where quad_class = 3) as verbal_conflict,
        count(*) filter (where quad_class = 4) as material_conflict,
        round(avg(goldstein), 2) as mean_goldstein
    from ev
    group by day
),
top_root as (
    select day, root_code, root_name
    from daily_event_counts
    where day is not null
    qualify row_number() over (partition by day order by events desc, root_code) = 1
),
art_day as (
    select cast(published_at as date) as day, count(*) as articles
    from articles
    where status = 'ok' and duplicate_of is null and published_at is not null
    group by day
),
days as (
    select day from ev_day
    union
    select day from art_day
)
select
    -- UTC day: the event's date, else its article's publication day
    days.day,
    -- usable articles (status ok, not duplicates) published that day
    coalesce(art_day.articles, 0) as articles,
    -- factual events (asserted or intended) on that day, then per QuadClass
    coalesce(ev_day.events, 0) as events,
    coalesce(ev_day.verbal_cooperation, 0) as verbal_cooperation,      -- QuadClass 1
    coalesce(ev_day.material_cooperation, 0) as material_cooperation,  -- QuadClass 2
    coalesce(ev_day.verbal_conflict, 0) as verbal_conflict,            -- QuadClass 3
    coalesce(ev_day.material_conflict, 0) as material_conflict,        -- QuadClass 4
    -- mean Goldstein score of those events, -10 .. +10 (null: no events)
    ev_day.mean_goldstein,
    -- the most frequent CAMEO root that day (ties: the lowest code)
    top_root.root_code as top_root_code,
    top_root.root_name as top_root_name,
    -- when the table was rebuilt, UTC
    current_timestamp as refreshed_at
from days
left join ev_day using (day)
left join art_day using (day)
left join top_root using (day)
order by days.day;
