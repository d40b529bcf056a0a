-- Question: Which place names did the geoparser not resolve, and why?
-- Params: none
-- The names to add to the gazetteer's own tables (tools/data/gazetteer/), most frequent
-- first. Every name.
select text, reason, count(*) as mentions, count(distinct article_id) as articles
from places
where name is null
group by all
order by mentions desc, text;
