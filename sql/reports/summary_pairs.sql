-- The ten most frequent source-target pairs of factual events (the run summary).
select source_actor, target_actor, count(*) as events
from factual_events
where source_actor <> '' and coalesce(target_actor, '') <> ''
group by all
order by events desc, source_actor, target_actor
limit 10
