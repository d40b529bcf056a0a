-- Entity offsets point at the entity's text inside the article body.
select e.article_id, e.entity_idx, e.text
from entities e
join articles a using (article_id)
where substr(a.body, e.start_char + 1, e.end_char - e.start_char) <> e.text;
