-- Every event and entity belongs to a stored article.
select 'event' as kind, event_id as id from events where article_id not in (select article_id from articles)
union all
select 'entity', article_id || '-' || entity_idx from entities where article_id not in (select article_id from articles);
