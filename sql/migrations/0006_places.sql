-- 0006_places: every place mention resolved by the geoparser (pipeline/geo/geoparse.py),
-- and the location of each event with its precision and where the text gave it.
-- See docs/GEO.md.

create table places (
    article_id varchar not null,
    place_idx integer not null,          -- order within the article
    text varchar not null,               -- as written, without "the" and a possessive
    label varchar not null,              -- GPE | LOC | FAC (spaCy), or DATELINE
    start_char integer not null,         -- offsets into articles.body, as entities'
    end_char integer not null,
    sentence_idx integer not null,
    geonames_id bigint,                  -- null when unresolved, and for divisions of the
                                         -- second order and regions that have no id here
    name varchar,                        -- the gazetteer entry's name ("Kyiv" for "Kiev")
    feature_code varchar,                -- GeoNames: PPL, PPLC, ADM1, ADM2, PCLI, RGN, SEA...
    admin1 varchar,                      -- the first-order division it lies in (or is)
    admin2 varchar,
    country varchar,                     -- ISO 3166 alpha-3
    latitude double,
    longitude double,
    precision varchar,                   -- city | admin2 | admin1 | region | country
    method varchar not null,             -- how it was resolved (docs/GEO.md), or unresolved
    confidence double not null,
    reason varchar,                      -- why unresolved: not_in_gazetteer, ambiguous: ...
    n_candidates integer not null,       -- gazetteer entries of that name
    primary key (article_id, place_idx)
);

-- city | admin2 | admin1 | region | country: what the point stands for. A country-level
-- location is the country's centre, never a city.
alter table events add column location_precision varchar;
-- sentence (attached to the trigger, or in the sentence) | target (the place attacked)
-- | dateline | article (the article's main place)
alter table events add column location_source varchar;
alter table events add column location_geonames_id bigint;
-- the places row (same article_id) the location came from: join to audit it
alter table events add column location_place_idx integer;
