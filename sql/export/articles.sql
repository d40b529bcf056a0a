-- Every article (the articles table, every status: status = 'ok' for usable bodies),
-- with its publication day (UTC) to partition by.
select *, cast(published_at as date) as published_date   -- UTC day of published_at
from articles
where cast($since as date) is null or published_at >= cast($since as date)
