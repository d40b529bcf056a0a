-- Where the factual events of the window $start .. $end (dates, inclusive, by the
-- reporting article's UTC publication day) happened, for the report's map: one row per
-- location (a name at a point), with its event count and mean Goldstein score. Limited to the 400 locations
-- with the most events, which keeps the page small.
with art as (
    select article_id
    from articles
    where cast(coalesce(published_at, first_seen_at) as date)
        between cast($start as date) and cast($end as date)
),
ev as (
    select location, location_country, location_precision, latitude, longitude, goldstein,
        root_name
    from factual_events
    join art using (article_id)
    where latitude is not null and longitude is not null
)
select
    location,                                       -- the gazetteer's name
    location_country as country,                    -- ISO 3166 alpha-3
    any_value(location_precision) as precision,     -- city, admin1, admin2, country, region
    round(latitude, 2) as latitude,                 -- WGS84 degrees
    round(longitude, 2) as longitude,
    count(*) as events,                             -- factual events
    round(avg(goldstein), 2) as mean_goldstein,     -- -10 .. +10
    mode(root_name) as top_event_type               -- the most frequent CAMEO root
from ev
group by location, location_country, round(latitude, 2), round(longitude, 2)
order by events desc, location
limit 400
