-- 0007_daily_summary: the per-day rollup exists from the start, for users of the CLI as
-- much as of Airflow. It is rebuilt whole after every load and by the news_daily DAG
-- (sql/derived/daily_summary.sql); this is its empty shape. A database where the DAG
-- made it already keeps it.
create table if not exists daily_summary (
    day date,                        -- UTC day: the event's date, else its article's publication day
    articles bigint,                 -- usable articles (status ok, not duplicates) published that day
    events bigint,                   -- factual events that day, then per QuadClass
    verbal_cooperation bigint,
    material_cooperation bigint,
    verbal_conflict bigint,
    material_conflict bigint,
    mean_goldstein double,           -- -10 .. +10, null without events
    top_root_code varchar,           -- the most frequent CAMEO root that day
    top_root_name varchar,
    refreshed_at timestamptz         -- when the table was rebuilt, UTC
);
