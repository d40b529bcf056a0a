-- The report's headline numbers for the window $start .. $end (dates, inclusive): what
-- was published in it, by the UTC publication day of each article (its first fetch when
-- it has no date), and the factual events those articles report.
with art as (
    select article_id, status, feed, coalesce(story_id, article_id) as story_key
    from articles
    where cast(coalesce(published_at, first_seen_at) as date)
        between cast($start as date) and cast($end as date)
),
ev as (
    select e.latitude
    from factual_events e
    join art using (article_id)
)
select
    (select count(*) from art) as articles,                               -- stored
    (select count(*) from art where status = 'ok') as usable_articles,    -- with a body
    (select count(distinct story_key) from art where status = 'ok') as stories,
    (select count(distinct feed) from art) as feeds,
    (select count(*) from ev) as events,                                  -- factual
    (select count(*) from ev where latitude is not null) as located_events
