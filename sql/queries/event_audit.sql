-- Audit trail: each event with the sentence it was coded from, where it happened, and the
-- article it came from, newest first. Every event (no limit): meant for export, e.g.
-- newsevents query -f sql/queries/event_audit.sql --format csv > events.csv
select event_id, source_actor, cameo_code, target_actor, modality, event_date,
       location, location_country, location_precision, trigger, sentence, url
from event_details
order by published_at desc, article_id, event_idx;
