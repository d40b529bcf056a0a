-- Question: What came in lately, from which feed, and was it usable?
-- Params: none
-- The latest 30: limited (drop the last line for every article).
select published_at, feed, status, word_count, title, url
from articles
order by published_at desc nulls last
limit 30;
