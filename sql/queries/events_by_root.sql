-- Question: How many events of each CAMEO root type are there, and how hostile are they on average?
-- Params: none
select root_code, root_name, count(*) as events, round(avg(goldstein), 2) as mean_goldstein
from factual_events
group by all
order by root_code;
