-- Question: What happened in one story, across all the articles that carry it?
-- Params: story_id (a story_id from top_stories or articles.story_id)
-- Its factual events, one row per day, source, target and code (however many of its
-- articles report it), with how many of the story's articles and outlets report it, and
-- how many outlets in the whole store report that event (event_rollup.num_sources).
with art as (
    select a.article_id, coalesce(f.outlet, a.feed) as outlet
    from articles as a
    left join feeds as f on f.name = a.feed
    where a.story_id = cast($story_id as varchar)
),
ev as (
    select
        coalesce(e.event_date, cast(e.published_at as date)) as day,
        e.source_actor, e.source_name, coalesce(e.target_actor, '') as target_actor,
        e.target_name, e.cameo_code, e.root_name, e.goldstein, e.sentence, e.confidence,
        art.article_id, art.outlet
    from factual_events as e
    join art using (article_id)
),
rolled as (
    select
        day, source_actor, any_value(source_name) as source_name, target_actor,
        any_value(target_name) as target_name, cameo_code, any_value(root_name) as root_name,
        any_value(goldstein) as goldstein,
        count(distinct article_id) as articles,        -- the story's articles reporting it
        count(distinct outlet) as outlets,             -- and their outlets
        arg_max(sentence, confidence) as sentence      -- the most confident mention
    from ev
    group by day, source_actor, target_actor, cameo_code
)
select
    rolled.*,
    r.num_sources as store_sources,        -- outlets in the whole store reporting it (null: not rolled up yet)
    r.num_mentions as store_mentions
from rolled
left join event_rollup as r
  on r.event_date = rolled.day and r.source_actor = rolled.source_actor
 and r.target_actor = rolled.target_actor and r.cameo_code = rolled.cameo_code
order by rolled.day, rolled.articles desc, rolled.source_actor, rolled.cameo_code;
