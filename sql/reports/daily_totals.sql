-- Days and events in daily_summary (the news_daily task's return value).
select count(*) as days, coalesce(sum(events), 0) as events from daily_summary
