-- The usable articles (status ok) as the search index holds them. Copies of another
-- article's body (duplicate_of) are kept: each is its own outlet's article, and its
-- events are those of the article it copies (events_of).
create or replace temp table _search_source as
with art as (
    select article_id, title, body, url, feed, published_at, duplicate_of
    from articles
    where status = 'ok'
)
select
    article_id,
    coalesce(title, '') as title,                     -- indexed
    body,                                             -- indexed
    url,
    feed,
    published_at,                                     -- UTC
    coalesce(duplicate_of, article_id) as events_of   -- the article whose events it carries
from art
order by article_id;
