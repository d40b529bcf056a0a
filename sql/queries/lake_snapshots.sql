-- DuckLake only: the store's snapshots, newest first, with the run each load committed
-- (its commit message) and what changed. Pick a snapshot_id for events_as_of.sql.
--   newsevents query -f sql/queries/lake_snapshots.sql
select snapshot_id, snapshot_time, commit_message as run_id, changes
from lake.snapshots()
order by snapshot_id desc
