-- GDELT 2.0 shaped views, for SQL written against GDELT's event and mention tables.
-- Column names are GDELT's wherever a column maps; docs/GDELT.md lists each column, how
-- it is filled and the ones left null. Differences that matter:
--   * one row of gdelt_events is one row of event_rollup (Phoenix's one-a-day rule:
--     event day, source actor, target actor, CAMEO code), so NumMentions, NumSources and
--     NumArticles count reports of one event, not copies of one record;
--   * country codes are ISO 3166 alpha-3 (GDELT's Actor*CountryCode are CAMEO country
--     codes, mostly the same; its *Geo_CountryCode are FIPS 10-4, which we do not use);
--   * QuadClass is GDELT's (CAMEO roots 01-05 verbal cooperation, 06-08 material
--     cooperation, 09-13 verbal conflict, 14-20 material conflict).
create or replace view gdelt_events as
select
    ('0x' || substr(r.rollup_id, 1, 15))::bigint as GlobalEventID,   -- stable: a hash of the key
    cast(strftime(r.event_date, '%Y%m%d') as integer) as SQLDATE,
    cast(strftime(r.event_date, '%Y%m') as integer) as MonthYear,
    year(r.event_date) as "Year",
    round(year(r.event_date) + (month(r.event_date) * 30 + day(r.event_date)) / 365, 4)
        as FractionDate,
    nullif(r.source_actor, '') as Actor1Code,
    nullif(upper(r.source_name), '') as Actor1Name,
    nullif(r.source_country, '') as Actor1CountryCode,
    cast(null as varchar) as Actor1KnownGroupCode,
    cast(null as varchar) as Actor1EthnicCode,
    cast(null as varchar) as Actor1Religion1Code,
    cast(null as varchar) as Actor1Religion2Code,
    nullif(r.source_sector, '') as Actor1Type1Code,
    cast(null as varchar) as Actor1Type2Code,
    cast(null as varchar) as Actor1Type3Code,
    nullif(r.target_actor, '') as Actor2Code,
    nullif(upper(r.target_name), '') as Actor2Name,
    nullif(r.target_country, '') as Actor2CountryCode,
    cast(null as varchar) as Actor2KnownGroupCode,
    cast(null as varchar) as Actor2EthnicCode,
    cast(null as varchar) as Actor2Religion1Code,
    cast(null as varchar) as Actor2Religion2Code,
    nullif(r.target_sector, '') as Actor2Type1Code,
    cast(null as varchar) as Actor2Type2Code,
    cast(null as varchar) as Actor2Type3Code,
    cast(r.is_root_event as integer) as IsRootEvent,
    r.cameo_code as EventCode,
    r.base_code as EventBaseCode,
    r.root_code as EventRootCode,
    r.quad_class as QuadClass,
    r.goldstein as GoldsteinScale,
    r.num_mentions as NumMentions,
    r.num_sources as NumSources,
    r.num_articles as NumArticles,
    cast(null as double) as AvgTone,
    case
        when r.location_precision = 'country' then 1
        when r.location_precision in ('admin1', 'admin2')
            then case when r.location_country = 'USA' then 2 else 5 end
        when r.location_precision = 'city'
            then case when r.location_country = 'USA' then 3 else 4 end
    end as ActionGeo_Type,
    r.location as ActionGeo_FullName,
    r.location_country as ActionGeo_CountryCode,
    cast(null as varchar) as ActionGeo_ADM1Code,
    cast(null as varchar) as ActionGeo_ADM2Code,
    r.latitude as ActionGeo_Lat,
    r.longitude as ActionGeo_Long,
    cast(r.location_geonames_id as varchar) as ActionGeo_FeatureID,
    cast(strftime(r.first_seen_at at time zone 'UTC', '%Y%m%d%H%M%S') as bigint) as DATEADDED,
    r.evidence_url as SOURCEURL,
    -- ours, beyond GDELT's columns
    r.rollup_id,
    r.num_stories as NumStories,
    r.evidence_sentence as EvidenceSentence,
    r.event_ids as EventIDs
from event_rollup r;

-- One row per mention (a factual event in one sentence of one article), GDELT 2.0's
-- mentions table. Character offsets are into the article's body; the sentence is found by
-- its first occurrence in the body.
create or replace view gdelt_mentions as
with m as (
    select
        rm.*,
        a.body,
        instr(a.body, rm.sentence) - 1 as sentence_start
    from rollup_mentions rm
    join articles a using (article_id)
)
select
    ('0x' || substr(m.rollup_id, 1, 15))::bigint as GlobalEventID,
    cast(strftime(m.event_day, '%Y%m%d') || '000000' as bigint) as EventTimeDate,
    cast(strftime(m.first_seen_at at time zone 'UTC', '%Y%m%d%H%M%S') as bigint)
        as MentionTimeDate,
    1 as MentionType,                                    -- 1: the web
    m.outlet as MentionSourceName,
    m.url as MentionIdentifier,
    m.sentence_idx + 1 as SentenceID,                    -- GDELT counts from 1
    case when m.sentence_start >= 0 then m.sentence_start + m.source_start end
        as Actor1CharOffset,
    case when m.sentence_start >= 0 then m.sentence_start + m.target_start end
        as Actor2CharOffset,
    case when m.sentence_start >= 0 then m.sentence_start + m.trigger_start end
        as ActionCharOffset,
    1 as InRawText,
    cast(round(m.confidence * 100) as integer) as Confidence,   -- 0 .. 100
    length(m.body) as MentionDocLen,
    cast(null as double) as MentionDocTone,
    -- ours
    m.event_id as EventID,
    m.article_id as ArticleID,
    m.sentence as Sentence,
    m.modality as Modality
from m;
