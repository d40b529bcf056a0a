-- Question: Which pairs of different countries interact most, and is it cooperation or conflict?
-- Params: none
-- International pairs only (a country's actors acting on each other, e.g. a government
-- and its opposition, are in actor_pairs with domestic = true). The top 20: limited.
select source_country, target_country, events, cooperation_events, conflict_events, mean_goldstein
from actor_pairs
where not domestic
order by events desc, source_country, target_country
limit 20;
