-- Question: Where did things happen, and how much of it was material conflict?
-- Params: none
-- Factual events per place, at the precision the text gave (city, county, state or
-- province, region, or only the country), with coordinates for a map. Every place; no limit.
select
    location,
    location_country,
    location_precision,
    round(latitude, 4) as latitude,
    round(longitude, 4) as longitude,
    count(*) as events,
    count(distinct article_id) as articles,
    round(avg(case when quad_class = 4 then 1 else 0 end), 2) as material_conflict_share,
    round(avg(goldstein), 2) as mean_goldstein
from factual_events
where latitude is not null
group by all
order by events desc, location;
