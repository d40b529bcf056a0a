-- 0001_initial: the analyst-facing tables. Names and columns are an interface: change them
-- only with a new migration. Times are UTC (timestamptz). Relations: entities.article_id,
-- events.article_id -> articles.article_id; articles.feed -> feeds.name;
-- fetch_log.run_id, articles.run_id -> runs.run_id.

create table feeds (
    name varchar primary key,            -- registry name, unique (config/feeds.yaml)
    url varchar not null,                -- feed URL as configured
    outlet varchar,                      -- publisher name
    country varchar,                     -- publisher country (free text, e.g. ISO code)
    language varchar,                    -- expected language, e.g. 'en'
    enabled boolean not null,            -- false: kept for history, not fetched
    first_seen_at timestamptz not null,  -- first pass that knew this feed
    last_fetched_at timestamptz,         -- last attempt
    last_success_at timestamptz,         -- last attempt that gave a parseable feed
    last_status integer,                 -- HTTP status of the last attempt (null: no response)
    last_error varchar,                  -- why the last attempt failed (null: it did not)
    consecutive_failures integer not null default 0,
    last_entry_count integer             -- entries with a usable link in the last good fetch
);

create table runs (
    run_id varchar primary key,          -- e.g. 20251102T091500Z-3f9a1c
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,             -- ok | partial (some failures) | failed
    trigger varchar,                     -- cli | demo | airflow | ...
    feeds_total integer not null,        -- enabled feeds in the registry
    feeds_failed integer not null,       -- feeds that could not be fetched or parsed
    entries_seen integer not null,       -- feed entries with a usable link, after dedup
    entries_dropped integer not null,    -- feed entries without a usable http(s) link
    articles_skipped integer not null,   -- already stored, not fetched again
    articles_fetched integer not null,   -- pages fetched successfully
    articles_failed integer not null,    -- pages that could not be fetched (see fetch_log)
    articles_extracted integer not null, -- pages with a usable body (status ok)
    articles_short integer not null,     -- pages kept with another status (too_short, empty, ...)
    articles_tagged integer not null,    -- articles run through spaCy and the event coder
    entities integer not null,           -- entity rows written
    events integer not null,             -- event rows written
    errors varchar[],                    -- one line per failure: 'kind url: reason'
    spacy_model varchar,
    coder_version varchar,
    pipeline_version varchar
);

create table fetch_log (
    run_id varchar not null,
    url varchar not null,                -- URL requested
    kind varchar not null,               -- feed | article
    feed varchar,                        -- feed name the URL came from
    fetched_at timestamptz not null,
    status integer,                      -- HTTP status (null: no response at all)
    bytes bigint not null,               -- body bytes received
    duration_ms integer not null,        -- wall time of the whole request, milliseconds
    final_url varchar,                   -- after redirects
    content_type varchar,
    error_class varchar,                 -- HTTPStatus | Timeout | ConnectError | TooLarge | BadFeed | ...
    error varchar,                       -- human-readable reason (null: success)
    primary key (run_id, url, kind)
);

create table articles (
    article_id varchar primary key,      -- first 16 hex digits of sha1(url)
    url varchar not null,                -- canonical URL (tracking parameters, fragment removed)
    final_url varchar,                   -- where the fetch ended after redirects
    feed varchar not null,               -- feed that first listed it
    title varchar,
    body varchar not null,               -- extracted text, paragraphs separated by newlines
    author varchar,
    published_at timestamptz,            -- UTC; see date_source
    date_source varchar not null,        -- page+feed_time | page | feed | none
    site_name varchar,
    language varchar,
    summary varchar,                     -- the feed's description of the item
    status varchar not null,             -- ok | too_short | empty | not_html | too_large | extract_failed
    status_detail varchar,               -- why, when status is not ok
    word_count integer not null,         -- words in body
    content_hash varchar not null,       -- fingerprint of the body (case/space-insensitive)
    duplicate_of varchar,                -- article_id of an earlier article with the same body
    first_seen_at timestamptz not null,  -- first pass that stored it; kept on re-runs
    fetched_at timestamptz not null,     -- last fetch
    run_id varchar not null              -- last pass that wrote it
);

create table entities (
    article_id varchar not null,
    entity_idx integer not null,         -- order within the article
    text varchar not null,               -- as written
    norm varchar not null,               -- normalised (possessive, stray punctuation removed)
    label varchar not null,              -- spaCy label: GPE, NORP, ORG, PERSON, LOC, FAC, EVENT, DATE, ...
    start_char integer not null,         -- offsets into articles.body
    end_char integer not null,
    sentence_idx integer not null,       -- sentence number within the body, from 0
    primary key (article_id, entity_idx)
);

create table events (
    event_id varchar primary key,        -- article_id || '-' || event_idx
    article_id varchar not null,
    event_idx integer not null,
    sentence_idx integer not null,       -- sentence number within the body, from 0
    sentence varchar not null,           -- the sentence the event was coded from
    source_text varchar not null,        -- source actor as written
    source_name varchar not null,        -- normalised name, e.g. 'Pete Hegseth', 'China'
    source_actor varchar not null,       -- CAMEO-style code, e.g. USAGOV; '' when unresolved
    source_country varchar not null,     -- ISO 3166 alpha-3; '' when unknown
    source_sector varchar not null,      -- GOV, MIL, ...; '' when none
    source_start integer not null,       -- offsets within the sentence
    source_end integer not null,
    target_text varchar,                 -- null when the event has no target
    target_name varchar,
    target_actor varchar,
    target_country varchar,
    target_sector varchar,
    target_start integer,
    target_end integer,
    trigger varchar not null,            -- the word that triggered the event
    trigger_start integer not null,      -- offsets within the sentence
    trigger_end integer not null,
    cameo_code varchar not null,         -- 3- or 4-digit CAMEO code, or the 2-digit root
    root_code varchar not null,          -- 01 .. 20
    root_name varchar not null,          -- e.g. 'Consult'
    plover varchar not null,             -- PLOVER 2021 category; '' for roots 01 and 02
    quad_class integer not null,         -- 1 verbal coop, 2 material coop, 3 verbal conflict, 4 material conflict
    goldstein double not null,           -- Goldstein scale, -10 (conflict) .. +10 (cooperation)
    modality varchar not null,           -- asserted | intended | negated | hypothetical
    confidence double not null,          -- 0 .. 1, the coder's own estimate
    event_date date,                     -- when it happened; see date_source
    date_source varchar not null,        -- text (a date in the sentence) | published | none
    date_precision varchar not null,     -- day | month | year
    location varchar,                    -- place named for the event
    location_country varchar,            -- ISO 3166 alpha-3 of that place
    latitude double,
    longitude double,
    coder_version varchar not null       -- version of the rules that coded it
);

create index events_article on events (article_id);
create index entities_label on entities (label);
