-- An event's location is whole: coordinates, a precision and a source together, and a
-- precision that is one of the five; when it names a places row, that row is the place.
select e.event_id, e.location, e.location_precision, e.location_source
from events e
left join places p on p.article_id = e.article_id and p.place_idx = e.location_place_idx
where (e.latitude is null) <> (e.location_precision is null)
   or (e.latitude is null) <> (e.location_source is null)
   or e.location_precision not in ('city', 'admin2', 'admin1', 'region', 'country')
   or e.location_source not in ('sentence', 'target', 'dateline', 'article')
   or (e.location_place_idx is not null and (p.place_idx is null or p.name <> e.location));
