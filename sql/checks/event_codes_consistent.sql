-- An event's root code is the first two digits of its CAMEO code, and its QuadClass matches.
select event_id, cameo_code, root_code, quad_class
from events
where left(cameo_code, 2) <> root_code
   or quad_class <> case
        when root_code between '01' and '05' then 1
        when root_code between '06' and '08' then 2
        when root_code between '09' and '13' then 3
        else 4 end;
