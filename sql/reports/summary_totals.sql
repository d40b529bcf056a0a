-- The run summary's totals (newsevents run / demo): usable articles, resolved places,
-- events located, and events located within a country (city, county or state).
select
    (select count(*) from articles where status = 'ok' and length(body) > 0) as usable,
    (select count(*) from places where name is not null) as resolved_places,
    (select count(*) from events where latitude is not null) as located,
    (select count(*) from events
     where location_precision in ('city', 'admin2', 'admin1')) as located_within
