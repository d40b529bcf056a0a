-- What changed since the index was built (_search_indexed: its rows' columns but the
-- body), read from the store: the usable articles that are new or differ, with their
-- bodies, to add; and the indexed articles that differ or are no longer usable, to drop.
-- EXCEPT compares whole rows, nulls as equal.
create or replace temp table _search_add as
select u.*, a.body
from _search_usable as u
join articles as a using (article_id)
where u.article_id in (
    select article_id from (select * from _search_usable except select * from _search_indexed)
)
order by u.article_id;

create or replace temp table _search_drop as
select article_id
from (select * from _search_indexed except select * from _search_usable);
