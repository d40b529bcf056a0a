-- Question: What did one actor do, and what was done to it, day by day, in whose words?
-- Params: actor (actor code or its beginning: CHN for every Chinese actor, USAGOV for the US government; default CHN), since (date, default null: every day)
-- Its factual events as source or as target, oldest first, each with the sentence that
-- reports it and the article's URL.
with ev as (
    select
        coalesce(event_date, cast(published_at as date)) as day,
        case when starts_with(source_actor, cast($actor as varchar)) then 'source'
             else 'target' end as role,
        *
    from factual_events
    where starts_with(source_actor, cast($actor as varchar))
       or starts_with(coalesce(target_actor, ''), cast($actor as varchar))
)
select
    day,                                              -- the event's date, else publication day
    role,                                             -- source: the actor acted; target: acted on
    case when role = 'source' then source_actor else target_actor end as actor,
    cameo_code,
    root_name,
    case when role = 'source' then target_name else source_name end as counterpart,
    case when role = 'source' then target_actor else source_actor end as counterpart_actor,
    goldstein,                                        -- -10 .. +10
    location,
    sentence,
    url
from ev
where cast($since as date) is null or day >= cast($since as date)
order by day, event_id;
