-- Every failed fetch says why.
select run_id, url, kind
from fetch_log
where (status is null or status >= 400 or error_class is not null) and coalesce(error, '') = '';
