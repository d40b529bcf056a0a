-- 0002_raw_pages: fetched article pages, kept so that extraction, tagging and coding can
-- run (and re-run) without fetching again. The ingest stage writes them; the enrich
-- stage turns waiting ones (enriched_at is null) into articles, entities and events.

create table raw_pages (
    url varchar primary key,             -- canonical URL, as articles.url
    article_id varchar not null,         -- as articles.article_id
    feed varchar not null,               -- feed that listed it
    link varchar not null,               -- URL as fetched (resolved feed link)
    final_url varchar,                   -- after redirects
    status integer,                      -- HTTP status
    content_type varchar,
    body blob not null,                  -- response body as received (decoded transfer encoding)
    fetched_at timestamptz not null,
    entry_title varchar,                 -- the feed entry's title
    entry_summary varchar,               -- the feed entry's description
    entry_published_at timestamptz,      -- the feed entry's timestamp, UTC
    run_id varchar not null,             -- run that fetched it
    enriched_at timestamptz              -- null: waiting for extraction and tagging
);
