-- Events by CAMEO root, all modalities (the run summary).
select root_code, root_name, count(*) as events
from events
group by all
order by events desc, root_code
