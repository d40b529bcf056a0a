-- Analyst views: recreated on every migrate, so they always match the code.

-- One row per event with its article's title, URL, feed and publication time.
create or replace view event_details as
with ev as (
    select * from events
),
art as (
    select article_id, url, title, feed, published_at from articles
)
select
    ev.*,
    art.url,                              -- article URL (canonical)
    art.title as article_title,
    art.feed,
    art.published_at                      -- article publication time, UTC
from ev
join art using (article_id);

-- Asserted and intended events only, in their primary reading, with at least one actor
-- that is a country, an organisation or a named group: what most analyses want (negated
-- and hypothetical mentions are not events that happened; see docs/EVENT_CODING.md).
create or replace view factual_events as
select * from event_details
where modality in ('asserted', 'intended')
  and coalesce(is_primary, true)
  and not list_contains(coalesce(flags, []), 'no_actor');

-- Events per day and CAMEO root, with the mean Goldstein score.
create or replace view daily_event_counts as
select
    coalesce(event_date, cast(published_at as date)) as day,   -- event day, else publication day
    root_code,
    any_value(root_name) as root_name,
    count(*) as events,                                        -- number of events
    round(avg(goldstein), 2) as mean_goldstein                 -- mean Goldstein, -10 .. +10
from factual_events
group by all;

-- Directed actor pairs (dyads), by country, with their event counts and tone.
create or replace view actor_pairs as
select
    source_country,
    target_country,
    source_country = target_country as domestic,  -- true: within one country (COD COD)
    count(*) as events,
    round(avg(goldstein), 2) as mean_goldstein,
    count(*) filter (where quad_class in (3, 4)) as conflict_events,
    count(*) filter (where quad_class in (1, 2)) as cooperation_events
from factual_events
where source_country <> '' and coalesce(target_country, '') <> ''
group by all;

-- Feed health: last success, consecutive failures, 304 rate, articles stored.
create or replace view feed_health as
with art as (
    select feed, count(*) as articles, count(*) filter (where status = 'ok') as usable
    from articles group by feed
),
fetches as (
    select feed, count(*) as fetches, count(*) filter (where status = 304) as not_modified
    from fetch_log where kind = 'feed' group by feed
)
select
    f.name, f.url, f.enabled, f.last_success_at, f.last_status, f.last_error,
    f.consecutive_failures, f.last_entry_count,
    coalesce(fetches.fetches, 0) as fetches,     -- feed fetches logged
    round(coalesce(fetches.not_modified, 0) / greatest(fetches.fetches, 1), 3)
        as not_modified_rate,                    -- share answered 304, 0 .. 1
    coalesce(art.articles, 0) as articles,       -- articles stored from this feed
    coalesce(art.usable, 0) as usable_articles   -- of which with a usable body
from feeds f
left join art on art.feed = f.name
left join fetches on fetches.feed = f.name;

-- Host health: one row per host, from the fetch log. A 304 is a success that cost
-- nothing; consecutive_failures counts failed fetches since the host's last success.
create or replace view host_health as
with attempts as (
    select
        regexp_extract(url, '^[a-z]+://([^/]+)', 1) as host,
        fetched_at,
        status,
        -- A robots.txt answered 4xx is a valid "no rules" (RFC 9309), not a failure.
        (error is null and status is not null
         and (status < 400 or (kind = 'robots' and status < 500))) as ok
    from fetch_log
),
last_ok as (
    select host, max(fetched_at) filter (where ok) as last_success_at from attempts group by host
)
select
    a.host,
    count(*) as fetches,                                             -- attempts logged
    count(*) filter (where a.ok) as successes,
    l.last_success_at,                                               -- UTC
    count(*) filter (where not a.ok and (l.last_success_at is null
                     or a.fetched_at > l.last_success_at)) as consecutive_failures,
    round(count(*) filter (where a.status = 304) / count(*), 3) as not_modified_rate  -- 0 .. 1
from attempts a
join last_ok l using (host)
group by a.host, l.last_success_at;

-- Where each article comes from: its feed's outlet, else the page's site name, else its
-- host. Stories and the rollup count distinct outlets by this.
create or replace view article_outlets as
select
    a.article_id,
    coalesce(
        nullif(f.outlet, ''),
        nullif(a.site_name, ''),
        regexp_extract(coalesce(a.final_url, a.url), '^[a-z]+://(?:www\.)?([^/:]+)', 1)
    ) as outlet
from articles a
left join feeds f on f.name = a.feed;

-- Every factual event as a mention of its event_rollup row: the row's key (the event's
-- day, its actors' codes, '' for none, and its CAMEO code), its story and its outlet.
create or replace view rollup_mentions as
with m as (
    select
        fe.*,
        coalesce(fe.event_date, cast(fe.published_at as date)) as event_day,
        coalesce(fe.source_actor, '') as source_key,
        coalesce(fe.target_actor, '') as target_key,
        a.first_seen_at,
        coalesce(a.story_id, a.article_id) as story,    -- an article without a story is its own
        o.outlet
    from factual_events fe
    join articles a using (article_id)
    join article_outlets o using (article_id)
)
select
    substr(md5(concat_ws('|', cast(event_day as varchar), source_key, target_key,
                         cameo_code)), 1, 16) as rollup_id,
    m.*
from m
where event_day is not null and cameo_code is not null;
