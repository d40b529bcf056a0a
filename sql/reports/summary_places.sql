-- The five locations with the most factual events (the run summary).
select location, location_country as country, location_precision as precision,
    count(*) as events
from factual_events
where latitude is not null
group by all
order by events desc, location
limit 5
