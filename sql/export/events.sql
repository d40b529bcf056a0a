-- Every coded event (the events table, all modalities: filter on modality, is_primary
-- and flags as the factual_events view does), partitioned by event_date (null: the
-- event has no date; its folder is event_date=__HIVE_DEFAULT_PARTITION__).
select *
from events
where cast($since as date) is null or event_date >= cast($since as date)
