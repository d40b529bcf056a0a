-- 0004_polite_fetching: conditional GET validators per feed, and retry counts per fetch.

alter table feeds add column etag varchar;            -- ETag of the last 200 response
alter table feeds add column last_modified varchar;   -- Last-Modified of the last 200 response
alter table fetch_log add column retries integer default 0;  -- attempts beyond the first
