-- Place mention offsets point at the mention's text inside the article body, and a
-- mention without a gazetteer entry says why.
select p.article_id, p.place_idx, p.text, p.reason
from places p
join articles a using (article_id)
where substr(a.body, p.start_char + 1, p.end_char - p.start_char) <> p.text
   or (p.name is null and p.reason is null);
