-- Question: Which stories were carried by the most outlets?
-- Params: since (date, default null: every story), top (how many stories, default 20)
-- A story is the articles that carry one text (syndicated copies, reprints, light
-- rewrites: the stories table). The top stories: limited to top, by outlets, then
-- articles, with the factual events of their articles.
with st as (
    select * from stories
    where cast($since as date) is null or first_published_at >= cast($since as date)
),
ev as (
    select a.story_id, count(*) as events
    from factual_events as e
    join articles as a using (article_id)
    where a.story_id is not null
    group by a.story_id
)
select
    st.story_id,
    st.title,                                -- its first article's title
    st.n_outlets,                            -- distinct outlets carrying it
    st.n_articles,
    st.outlets,
    st.first_published_at,                   -- UTC
    st.last_seen_at,                         -- its latest article's first fetch, UTC
    coalesce(ev.events, 0) as events         -- factual events in its articles
from st
left join ev using (story_id)
order by st.n_outlets desc, st.n_articles desc, st.first_published_at, st.story_id
limit cast($top as bigint);
