-- The hosts with the most failures in a row first (newsevents status).
select host, fetches, successes, last_success_at, consecutive_failures, not_modified_rate
from host_health
order by consecutive_failures desc, host
limit 30
