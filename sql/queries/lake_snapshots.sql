-- Question: Which snapshots does the lake keep, with the run each load committed and what changed?
-- Params: none
-- Backend: ducklake
-- Newest first. Pick a snapshot_id for events_as_of.
select snapshot_id, snapshot_time, commit_message as run_id, changes
from lake.snapshots()
order by snapshot_id desc
