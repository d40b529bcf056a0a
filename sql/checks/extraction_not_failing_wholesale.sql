-- A batch of three or more articles in which every one failed extraction points at a
-- broken extractor (e.g. a worker process that cannot start), not at bad pages. Fix it,
-- then re-code the stored pages: `newsevents enrich --all`.
select run_id, count(*) as articles
from articles
group by run_id
having count(*) >= 3 and count(*) filter (where status = 'extract_failed') = count(*);
