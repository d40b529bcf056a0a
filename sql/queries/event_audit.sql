-- Audit trail: each event with the sentence it was coded from and the article it came from.
select event_id, source_actor, cameo_code, target_actor, modality, event_date, trigger, sentence, url
from event_details
order by published_at desc, event_id
limit 50;
