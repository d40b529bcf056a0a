-- 0009_stories_and_rollup: what analysts count. Both are derived tables, kept current by
-- every load in the load's own transaction (pipeline/store/sql.py), never by hand.

-- Each usable article belongs to one story: the articles that carry the same text
-- (syndicated wire copy, reprints with other boilerplate, headlines or trims, light
-- rewrites). An article's story is set once, when it is first loaded; null for articles
-- without a usable body.
alter table articles add column story_id varchar;
-- The article it was matched to when it joined its story (null: it founded the story),
-- and the similarity that decided it (pipeline/stories.py: the higher of the Jaccard
-- similarity and the shorter text's containment; 1 for an exact duplicate).
alter table articles add column story_matched varchar;
alter table articles add column story_similarity double;

-- The MinHash LSH bands of each usable article's body (pipeline/stories.py): two articles
-- that share a band are candidates for one story, which the exact comparison of their
-- texts then decides.
create table story_bands (
    article_id varchar not null,
    band bigint not null                -- a 63-bit hash of (band number, band's minhash values)
);

create table stories (
    story_id varchar primary key,       -- the article_id of its first article
    first_article_id varchar,
    title varchar,                      -- the first article's title
    first_seen_at timestamptz,          -- when its first article was first fetched, UTC
    last_seen_at timestamptz,           -- when its latest article was first fetched, UTC
    first_published_at timestamptz,
    n_articles bigint,                  -- articles carrying the story
    n_outlets bigint,                   -- distinct outlets among them
    outlets varchar[],                  -- the outlets, sorted
    updated_at timestamptz
);

-- One row per (event day, source actor, target actor, CAMEO code), Phoenix's one-a-day
-- rule, over factual events (sql/views/analyst_views.sql). Rows whose events change are
-- recomputed by the load that changes them.
create table event_rollup (
    rollup_id varchar primary key,      -- 16 hex digits, a hash of the four key columns
    event_date date,                    -- the event's date, else its article's publication day
    source_actor varchar,               -- '' when the event has no source actor code
    target_actor varchar,               -- '' when it has no target
    cameo_code varchar,
    source_name varchar,                -- the most frequent name among its mentions
    source_country varchar,
    source_sector varchar,
    target_name varchar,
    target_country varchar,
    target_sector varchar,
    root_code varchar,
    base_code varchar,                  -- the code's first three digits
    root_name varchar,
    plover varchar,
    quad_class integer,
    goldstein double,
    num_mentions bigint,                -- events rolled up (one per sentence that reports it)
    num_articles bigint,                -- distinct articles
    num_stories bigint,                 -- distinct stories (syndicated copies count once)
    num_sources bigint,                 -- distinct outlets
    first_seen_at timestamptz,          -- first fetch of the earliest article, UTC
    last_seen_at timestamptz,
    mean_confidence double,
    is_root_event boolean,              -- some mention is in its article's first sentences
    location varchar,                   -- the most confident mention's place that has one
    location_country varchar,
    latitude double,
    longitude double,
    location_precision varchar,         -- country | admin1 | admin2 | city | region
    location_geonames_id bigint,
    evidence_event_id varchar,          -- the most confident mention
    evidence_sentence varchar,
    evidence_url varchar,
    event_ids varchar[],                -- every mention, sorted
    updated_at timestamptz
);
