-- Question: Which feeds are failing, at the feed, at fetching their articles, or at extracting them?
-- Params: since (date, default null: everything logged)
-- One row per feed with any failure: its articles that have no usable body, by status
-- (too_short: consent walls and stubs; empty; extract_failed; ...), its article fetches
-- that failed, and the feed's own last error. Worst share of unusable articles first.
with art as (
    select
        feed,
        count(*) as articles,
        count(*) filter (where status <> 'ok') as unusable,
        string_agg(distinct status, ', ' order by status)
            filter (where status <> 'ok') as statuses
    from articles
    where cast($since as date) is null or fetched_at >= cast($since as date)
    group by feed
),
fetches as (
    select
        feed,
        count(*) filter (where error is not null) as failed_fetches,
        arg_max(error, fetched_at) filter (where error is not null) as last_fetch_error
    from fetch_log
    where kind = 'article'
      and (cast($since as date) is null or fetched_at >= cast($since as date))
    group by feed
)
select
    f.name as feed,
    coalesce(art.articles, 0) as articles,                -- stored
    coalesce(art.unusable, 0) as unusable,                -- stored without a usable body
    round(coalesce(art.unusable, 0) / greatest(art.articles, 1), 3) as unusable_share,  -- 0 .. 1
    art.statuses,                                         -- the statuses of those
    coalesce(fetches.failed_fetches, 0) as failed_fetches,  -- article fetches that failed
    fetches.last_fetch_error,
    f.consecutive_failures as feed_failures,              -- the feed itself, in a row
    f.last_error as feed_error
from feeds as f
left join art on art.feed = f.name
left join fetches on fetches.feed = f.name
where coalesce(art.unusable, 0) > 0 or coalesce(fetches.failed_fetches, 0) > 0
   or f.consecutive_failures > 0
order by unusable_share desc, failed_fetches desc, feed_failures desc, feed;
