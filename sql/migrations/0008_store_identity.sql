-- The store's identity and the write fence (pipeline/store/sql.py).
--   store_id     a UUID made when the store is created: every spooled batch records the
--                store it was read from, and another store refuses it
--   last_load    the run id of the last load: every load updates this row first, so two
--                loads that overlap conflict at commit and one retries (DuckLake)
--   views_sha256 the analyst views' SQL as last created: views are recreated only when
--                it changes
create table store_info (
    key varchar primary key,
    value varchar
);

-- Attempts the load of a run took: above 1 when a concurrent writer made it retry.
alter table runs add column load_attempts integer default 1;
