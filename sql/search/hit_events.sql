-- The factual events (the factual_events view) of the articles in $articles: those whose
-- sentence carries the most of $terms first, then the coder's most confident, at most
-- $per_hit per article, each with the article's count of factual events.
with ev as (
    select
        article_id, event_id, event_idx, cameo_code, root_name, source_actor, source_name,
        target_actor, target_name, event_date, confidence, sentence,
        len(list_intersect(cast($terms as varchar[]),
            list_transform(string_split_regex(
                regexp_replace(lower(strip_accents(sentence)), '(\.|[^a-z])+', ' ', 'g'),
                '\s+'), w -> stem(w, 'porter')))) as matched   -- search terms in its sentence
    from factual_events
    where list_contains(cast($articles as varchar[]), article_id)
)
select
    article_id,
    count(*) over (partition by article_id) as events,   -- factual events of the article
    event_id, cameo_code, root_name, source_actor, source_name, target_actor, target_name,
    event_date, matched, sentence
from ev
qualify row_number() over (
    partition by article_id order by matched desc, confidence desc, event_idx) <= $per_hit
order by article_id, matched desc, confidence desc, event_idx;
