-- Load a batch's feed health into feeds ({src}: the spool file). One row per feed name.
merge into feeds as f
using (
    select distinct on (name) name, url, outlet, country, language, enabled,
        fetched_at,
        case when ok then fetched_at end as success_at,
        status, error,
        case when ok then 0 else 1 end as failed,
        case when ok and status <> 304 then entries end as entries,
        etag, last_modified
    from {src}
) as s
on f.name = s.name
when matched then update set
    url = s.url, outlet = s.outlet, country = s.country, language = s.language,
    enabled = s.enabled,
    last_fetched_at = s.fetched_at,
    last_success_at = coalesce(s.success_at, f.last_success_at),
    last_status = s.status, last_error = s.error,
    consecutive_failures = case when s.failed = 0 then 0 else f.consecutive_failures + 1 end,
    last_entry_count = coalesce(s.entries, f.last_entry_count),
    -- a 304 or a failure keeps the validators of the last full response
    etag = coalesce(s.etag, f.etag),
    last_modified = coalesce(s.last_modified, f.last_modified)
when not matched then insert (name, url, outlet, country, language, enabled, first_seen_at,
        last_fetched_at, last_success_at, last_status, last_error, consecutive_failures,
        last_entry_count, etag, last_modified)
    values (s.name, s.url, s.outlet, s.country, s.language, s.enabled, s.fetched_at,
        s.fetched_at, s.success_at, s.status, s.error, s.failed, s.entries, s.etag,
        s.last_modified)
