-- The twelve most frequent directed dyads of factual events in the window $start .. $end
-- (dates, inclusive, by the reporting article's UTC publication day), with their mean
-- Goldstein score. A side is its country (ISO 3166 alpha-3), else its actor code (an
-- international organisation, a group without a country). Events without a target are
-- left out.
with art as (
    select article_id
    from articles
    where cast(coalesce(published_at, first_seen_at) as date)
        between cast($start as date) and cast($end as date)
),
ev as (
    select
        coalesce(nullif(source_country, ''), source_actor) as source_key,
        coalesce(nullif(target_country, ''), target_actor) as target_key,
        source_name, target_name, goldstein, quad_class
    from factual_events
    join art using (article_id)
)
select
    source_key,                                        -- country or actor code
    target_key,
    mode(source_name) as source_name,                  -- its most frequent actor name
    mode(target_name) as target_name,
    count(*) as events,                                -- factual events
    round(avg(goldstein), 2) as mean_goldstein,        -- -10 (conflict) .. +10 (cooperation)
    count(*) filter (where quad_class in (1, 2)) as cooperation_events,
    count(*) filter (where quad_class in (3, 4)) as conflict_events
from ev
where source_key <> '' and coalesce(target_key, '') <> ''
group by source_key, target_key
order by events desc, source_key, target_key
limit 12
