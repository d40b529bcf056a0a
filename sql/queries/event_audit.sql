-- Question: Which events were coded, from which sentence, where, and from which article (the audit trail)?
-- Params: none
-- Every event, newest article first, no limit: meant for export, e.g.
--   newsevents query event_audit --format csv > events.csv
select event_id, source_actor, cameo_code, target_actor, modality, event_date,
       location, location_country, location_precision, trigger, sentence, url
from event_details
order by published_at desc, article_id, event_idx;
