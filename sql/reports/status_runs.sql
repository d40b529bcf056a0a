-- The last ten runs (newsevents status).
select run_id, status, trigger, feeds_total - feeds_failed as feeds_ok, feeds_failed,
    articles_fetched as fetched, articles_failed as failed, articles_extracted as extracted,
    articles_short as unusable, entities, events, load_attempts,
    round(epoch(finished_at - started_at), 1) as seconds
from runs
order by started_at desc
limit 10
