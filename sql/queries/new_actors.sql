-- Question: Which actors appear for the first time lately, and in what events?
-- Params: since (date, default null: the 30 days up to the latest article)
-- An actor is an actor code (USAGOV, CHN, IGOUNOIAE, ...) as source or target of a
-- factual event; it is new when the earliest article that mentions it was published on
-- or after since. First seen is the publication time of that article.
with mentions as (
    select source_actor as actor, source_name as name, source_country as country,
           published_at, article_id, event_id, sentence
    from factual_events where source_actor <> ''
    union all
    select target_actor, target_name, target_country, published_at, article_id, event_id,
           sentence
    from factual_events where coalesce(target_actor, '') <> ''
),
latest as (
    select cast(max(published_at) as date) as day from articles
),
window_start as (
    select coalesce(cast($since as date), latest.day - 29) as day from latest
),
actors as (
    select
        actor,
        mode(name) as name,                           -- the most frequent name
        any_value(country) as country,                -- ISO3
        min(published_at) as first_seen,              -- its first article's publication, UTC
        count(distinct event_id) as events,
        count(distinct article_id) as articles,
        arg_min(sentence, published_at) as first_sentence
    from mentions
    group by actor
)
select actors.*
from actors, window_start
where actors.first_seen >= window_start.day
order by first_seen desc, events desc, actor;
