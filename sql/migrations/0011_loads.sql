-- One row per loaded batch. A long pass (run_pass) loads its run in several batches, one
-- every pass_load_pages pages, so "was this batch loaded" is asked of loads, and runs
-- keeps one row per run, rewritten by each of its loads: the run's stats so far, with
-- status 'incomplete' and no finished_at until its last batch, which writes the whole
-- run's. A run killed after some of its loads keeps that incomplete row.
create table loads (
    batch_id varchar primary key,       -- the spool folder's name: run_id, or run_id.NNNN for one of several
    run_id varchar not null,            -- runs.run_id
    loaded_at timestamptz not null,     -- when the load committed (its transaction's start)
    load_attempts integer not null      -- commit attempts: above 1 when a concurrent writer made it retry
);

-- Every run loaded before was one batch, named after its run.
insert into loads
select run_id, run_id, coalesce(finished_at, started_at), coalesce(load_attempts, 1)
from runs;
