-- The event rollup (one row per day, source, target and CAMEO code: event_rollup),
-- partitioned by event_date.
select *
from event_rollup
where cast($since as date) is null or event_date >= cast($since as date)
