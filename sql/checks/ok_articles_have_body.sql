-- An article with status ok must have a non-empty body and a word count that matches.
select article_id, url, word_count
from articles
where status = 'ok' and (length(trim(body)) = 0 or word_count = 0);
