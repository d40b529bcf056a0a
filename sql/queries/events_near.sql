-- Question: What happened within some kilometres of a place?
-- Params: lat (latitude, degrees north, default 50.4501), lon (longitude, degrees east, default 30.5234), km (radius in kilometres, default 100)
-- Factual events located at a point within km of (lat, lon), by great-circle distance
-- (haversine, Earth radius 6,371 km), nearest first. The default point is Kyiv. A
-- country-precision location is the country's centre: location_precision says so.
with here as (
    select radians(cast($lat as double)) as lat, radians(cast($lon as double)) as lon
),
located as (
    select
        e.*,
        2 * 6371 * asin(sqrt(
            pow(sin((radians(e.latitude) - here.lat) / 2), 2)
            + cos(here.lat) * cos(radians(e.latitude))
              * pow(sin((radians(e.longitude) - here.lon) / 2), 2))) as distance_km
    from factual_events as e, here
    where e.latitude is not null and e.longitude is not null
)
select
    round(distance_km, 1) as distance_km,             -- from (lat, lon), kilometres
    location,
    location_precision,
    coalesce(event_date, cast(published_at as date)) as day,
    source_name,
    cameo_code,
    root_name,
    target_name,
    sentence,
    url
from located
where distance_km <= cast($km as double)
order by distance_km, day, event_id;
