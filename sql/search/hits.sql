-- The usable articles that best match $query, best first: BM25 over title and body
-- (fts_search_article_text.match_bm25: k 1.2, b 0.75, any of the terms), optionally published
-- since $since and from feed $feed, at most $limit, one a story (unless $every). For each, the sentence of its body
-- that carries the most of $terms (terms.sql), the first on a tie: the snippet.
with scored as (
    select article_id, story, fts_search_article_text.match_bm25(article_id, $query) as score
    from search.article_text
    where (cast($since as timestamptz) is null or published_at >= cast($since as timestamptz))
      and (cast($feed as varchar) is null or feed = cast($feed as varchar))
),
-- One hit a story (syndicated copies, reprints): its best-scoring article, with the
-- number of the story's other articles that match too; every article when $every.
grouped as (
    select *, case when cast($every as boolean) then article_id else story end as hit_key
    from scored
    where score is not null
),
best as (
    select article_id, score, count(*) over (partition by hit_key) - 1 as copies
    from grouped
    qualify row_number() over (partition by hit_key order by score desc, article_id) = 1
),
top as (
    select article_id, score, copies
    from best
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
    coalesce(m.sentences[list_position(m.counts, list_max(m.counts))], '') as snippet,
    top.copies                     -- other articles of its story that match too
from top
join search.article_text as a using (article_id)
left join matched as m using (article_id)
order by top.score desc, top.article_id;
