-- Which country pairs interact most, and is it cooperation or conflict?
select source_country, target_country, events, cooperation_events, conflict_events, mean_goldstein
from actor_pairs
order by events desc, source_country, target_country
limit 20;
