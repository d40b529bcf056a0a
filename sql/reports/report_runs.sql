-- The last ten runs and their failures (newsevents report, health): the state when the
-- report is made, whatever its window.
select
    run_id,
    started_at,                                 -- UTC
    status,                                     -- ok, partial, failed
    trigger,
    feeds_total - feeds_failed as feeds_ok,
    feeds_failed,
    articles_fetched as fetched,
    articles_failed as failed,
    articles_extracted as extracted,
    articles_short as unusable,
    events,
    coalesce(errors, []) as errors              -- one message per failure
from runs
order by started_at desc
limit 10
