-- stories: the rows of the stories in _story_keys, recomputed from their articles
-- (pipeline/store/derived.py; a load fills _story_keys with the stories it changed).
delete from stories where story_id in (select story_id from _story_keys);
insert into stories by name
with m as (
    select a.story_id, a.article_id, a.title, a.first_seen_at, a.published_at, o.outlet
    from articles a
    join article_outlets o using (article_id)
    where a.story_id in (select story_id from _story_keys)
)
select
    story_id,
    story_id as first_article_id,                        -- a story is named after its first
    any_value(title) filter (where article_id = story_id) as title,
    min(first_seen_at) as first_seen_at,
    max(first_seen_at) as last_seen_at,
    min(published_at) as first_published_at,
    count(*) as n_articles,
    count(distinct outlet) as n_outlets,
    list_sort(list(distinct outlet) filter (where outlet is not null)) as outlets,
    now() as updated_at
from m
group by story_id;
