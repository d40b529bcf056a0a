-- The report's default last day (newsevents report, news_daily): the latest UTC
-- publication day of a stored article that is not after $today (a date). An article
-- without a date counts on the day it was first fetched. Null when nothing is stored.
with art as (
    select cast(coalesce(published_at, first_seen_at) as date) as day
    from articles
)
select max(day) as day   -- the latest day with articles, <= $today
from art
where day <= cast($today as date)
