-- The top ten stories of the window $start .. $end (dates, inclusive, by the UTC
-- publication day of their articles), each with up to four of its coded events and their
-- evidence sentences. A story is the articles that carry one text (table stories,
-- articles.story_id); an article not assigned to a story yet is a story of its own, so
-- this works before stories are filled and after. Ranked by the articles and outlets that
-- carried the story in the window, then by its events. The counts of event_rollup (all
-- the mentions of the same event, across stories) are there when the rollup is filled.
with art as (
    select
        article_id,
        coalesce(story_id, article_id) as story_key,
        title,
        url,
        o.outlet,                                       -- view article_outlets
        coalesce(published_at, first_seen_at) as published_at
    from articles
    join article_outlets o using (article_id)
    where status = 'ok'
        and cast(coalesce(published_at, first_seen_at) as date)
            between cast($start as date) and cast($end as date)
),
story as (
    select
        story_key,
        arg_min(title, published_at) as title,          -- the earliest article's
        arg_min(url, published_at) as url,
        count(*) as articles,                           -- in the window
        list(distinct outlet order by outlet) as outlets,
        min(published_at) as first_published_at,        -- UTC
        max(published_at) as last_published_at
    from art
    group by story_key
),
rollup as (
    select
        unnest(event_ids) as event_id,
        num_mentions, num_articles, num_stories, num_sources
    from event_rollup
),
mention as (
    select
        art.story_key, art.outlet, e.event_id, e.source_actor, e.target_actor, e.cameo_code,
        e.sentence, e.source_name, e.target_name, e.source_country, e.target_country,
        e.trigger, e.root_name, e.quad_class, e.goldstein, e.confidence, e.sentence_idx,
        e.event_date, e.location,
        r.num_mentions, r.num_articles, r.num_stories, r.num_sources
    from factual_events e
    join art using (article_id)
    left join rollup r using (event_id)
),
story_event as (
    -- One row per event of a story: the same sentence coded the same way in syndicated
    -- copies is one event, mentioned by each copy.
    select
        story_key, source_actor, target_actor, cameo_code, sentence,
        any_value(source_name) as source_name,
        any_value(target_name) as target_name,
        any_value(source_country) as source_country,
        any_value(target_country) as target_country,
        any_value(trigger) as trigger,
        any_value(root_name) as root_name,
        any_value(quad_class) as quad_class,
        any_value(goldstein) as goldstein,              -- -10 .. +10
        max(confidence) as confidence,                  -- 0 .. 1
        min(sentence_idx) as sentence_idx,              -- first sentence is 0
        any_value(event_date) as event_date,
        any_value(location) as location,
        count(*) as mentions,                           -- in this story, in the window
        list(distinct outlet order by outlet) as outlets,
        max(num_mentions) as rollup_mentions,           -- event_rollup: null until filled
        max(num_articles) as rollup_articles,
        max(num_stories) as rollup_stories,
        max(num_sources) as rollup_sources
    from mention
    group by story_key, source_actor, target_actor, cameo_code, sentence
),
ranked as (
    select *, row_number() over (
        partition by story_key order by sentence_idx, confidence desc, cameo_code
    ) as rank
    from story_event
),
story_events as (
    select
        story_key,
        count(*) as events,                             -- distinct events of the story
        list(struct_pack(
            source_actor, target_actor, cameo_code, sentence, source_name, target_name,
            source_country, target_country, trigger, root_name, quad_class, goldstein,
            event_date, location, mentions, outlets, rollup_mentions, rollup_articles,
            rollup_stories, rollup_sources
        ) order by rank) filter (where rank <= 4) as top_events
    from ranked
    group by story_key
)
select
    s.story_key,
    coalesce(st.title, s.title) as title,
    s.url,
    s.articles,                                         -- in the window
    st.n_articles as articles_all_time,                 -- null before stories are filled
    len(s.outlets) as outlet_count,
    s.outlets,
    s.first_published_at,
    s.last_published_at,
    coalesce(se.events, 0) as events,
    coalesce(se.top_events, []) as top_events
from story s
left join stories st on st.story_id = s.story_key
left join story_events se using (story_key)
order by s.articles desc, outlet_count desc, events desc, s.first_published_at desc,
    s.story_key
limit 10
