-- Question: Which events were reported by the most outlets?
-- Params: since (date, default null: every day), top (how many events, default 20)
-- From event_rollup: one row per day, source, target and CAMEO code (Phoenix's
-- one-a-day rule), ranked by distinct outlets, then stories (syndicated copies count
-- once), then mentions, with the evidence sentence. The top ones: limited to top.
select
    event_date,
    source_name, source_actor,
    cameo_code, root_name,
    target_name, target_actor,
    num_sources,              -- distinct outlets
    num_stories,              -- distinct stories
    num_articles,
    num_mentions,             -- sentences that report it
    goldstein,                -- -10 .. +10
    location,
    evidence_sentence,
    evidence_url
from event_rollup
where cast($since as date) is null or event_date >= cast($since as date)
order by num_sources desc, num_stories desc, num_mentions desc, event_date desc, rollup_id
limit cast($top as bigint);
