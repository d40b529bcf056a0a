-- What the search index should hold, in one number: it changes when a usable article is
-- added, dropped or changed (its title, body, URL, feed or date). bit_xor does not depend
-- on the order of the rows. 0 for a store without usable articles.
select coalesce(bit_xor(hash(article_id, title, content_hash, url, feed, published_at,
                             duplicate_of)), 0) as fingerprint,
       count(*) as articles
from articles
where status = 'ok';
