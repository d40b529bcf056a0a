-- The terms of $query that the index knows: split and stemmed as create_fts_index does
-- by default, stop words dropped, in the order of the query.
with words as (
    select unnest(string_split_regex(
        regexp_replace(lower(strip_accents($query)), '(\.|[^a-z])+', ' ', 'g'), '\s+')) as word
),
stems as (
    select distinct stem(word, 'porter') as term
    from words
    where word <> '' and word not in (select sw from fts_search_article_text.stopwords)
)
select list(term order by term) as terms
from stems
where term in (select term from fts_search_article_text.dict);
