-- The usable articles (status ok) as the search index holds them, without their bodies:
-- the columns that decide whether an indexed article is still current. Copies of another
-- article's body (duplicate_of) are kept: each is its own outlet's article, and its
-- events are those of the article it copies (events_of); a search shows the best of a
-- story's articles and counts the others (hits.sql). Read from the store.
create or replace temp table _search_usable as
select
    article_id,
    coalesce(title, '') as title,                     -- indexed
    content_hash,                                     -- the body's fingerprint
    url,
    feed,
    published_at,                                     -- UTC
    coalesce(duplicate_of, article_id) as events_of,  -- the article whose events it carries
    coalesce(story_id, article_id) as story           -- its story: a search shows one hit a story
from articles
where status = 'ok';
