-- Every feed's health (newsevents status).
select name, enabled, last_success_at, last_status, consecutive_failures as failures_in_a_row,
    last_entry_count as entries, not_modified_rate, articles, usable_articles, last_error
from feed_health
order by name
