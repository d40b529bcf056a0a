-- Question: Which factual events did the store hold as of an earlier snapshot (time travel)?
-- Params: snapshot (a snapshot_id from lake_snapshots, e.g. the one before a coder change)
-- Backend: ducklake
--   newsevents query events_as_of --param snapshot=42
-- As of a time instead: replace (version => $snapshot) with
-- (timestamp => timestamptz '2026-11-30 12:00:00+00').
select e.event_id, a.published_at, e.event_date, e.source_actor, e.cameo_code,
    e.target_actor, e.root_name, e.goldstein, e.location, e.location_country,
    e.coder_version, e.sentence
from events as e at (version => $snapshot)
join articles as a at (version => $snapshot) using (article_id)
-- as the factual_events view: asserted or intended, primary, with an actor
where e.modality in ('asserted', 'intended')
  and coalesce(e.is_primary, true)
  and not list_contains(coalesce(e.flags, []), 'no_actor')
order by a.published_at, e.article_id, e.event_idx
