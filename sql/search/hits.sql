-- The usable articles that best match $query, best first: BM25 over title and body
-- (fts_search_article_text.match_bm25: k 1.2, b 0.75, any of the terms), optionally published
-- since $since and from feed $feed, at most $limit. For each, the sentence of its body
-- that carries the most of $terms (terms.sql), the first on a tie: the snippet.
with scored as (
    select article_id, fts_search_article_text.match_bm25(article_id, $query) as score
    from search.article_text
    where (cast($since as timestamptz) is null or published_at >= cast($since as timestamptz))
      and (cast($feed as varchar) is null or feed = cast($feed as varchar))
),
top as (
    select article_id, score
    from scored
    where score is not null
    order by score desc, article_id
    limit $limit
),
sentences as (
    select
        top.article_id,
        list_filter(
            list_transform(regexp_extract_all(a.body, '[^.!?\n]+(?:[.!?]+["”’)]*)?'),
                           s -> trim(s)),
            s -> s <> '') as sentences
    from top
    join search.article_text as a using (article_id)
),
matched as (
    select
        article_id,
        sentences,
        list_transform(sentences, s -> len(list_intersect(cast($terms as varchar[]),
            list_transform(string_split_regex(
                regexp_replace(lower(strip_accents(s)), '(\.|[^a-z])+', ' ', 'g'), '\s+'),
                w -> stem(w, 'porter'))))) as counts
    from sentences
)
select
    top.article_id,
    top.score,                     -- BM25, higher is better; comparable within one query
    a.title,
    a.published_at,                -- UTC
    a.feed,
    a.url,
    a.events_of,                   -- the article whose events this one carries
    -- the sentence with most terms (the first sentence when only the title matched)
    coalesce(m.sentences[list_position(m.counts, list_max(m.counts))], '') as snippet
from top
join search.article_text as a using (article_id)
left join matched as m using (article_id)
order by top.score desc, top.article_id;
