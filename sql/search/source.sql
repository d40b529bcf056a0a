-- The usable articles (_search_usable, usable.sql) with their bodies (indexed), for a
-- build of the whole index. Read from the store.
create or replace temp table _search_source as
select u.*, a.body
from _search_usable as u
join articles as a using (article_id)
order by u.article_id;
