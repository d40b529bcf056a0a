-- Extraction outcomes per feed of the articles published in the window $start .. $end
-- (dates, inclusive, by UTC publication day, else first fetch): how many were usable
-- (status ok) and why the others were not (too_short, consent walls, non-article pages).
with art as (
    select feed, status, status_detail
    from articles
    where cast(coalesce(published_at, first_seen_at) as date)
        between cast($start as date) and cast($end as date)
)
select
    feed,
    status,                                     -- ok, too_short, ... (pipeline/extract.py)
    count(*) as articles,
    mode(status_detail) as example_detail       -- the most frequent reason given
from art
group by feed, status
order by feed, status = 'ok' desc, articles desc
