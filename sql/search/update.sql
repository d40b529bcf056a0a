-- Bring the index up to date in place, in the index's catalog: the rows create_fts_index
-- would make for the articles added (_search_add), without indexing the others again,
-- and none for those dropped (_search_drop). Terms, document lengths, document
-- frequencies and the statistics then equal a full build's, so BM25 scores do too
-- (tests/test_search.py compares them); only the internal docid and termid numbers
-- differ. Words are split, stop-listed and stemmed as the index's own build does them:
-- its tokenize macro, its stopwords table, the Porter stemmer.
create or replace temp table _search_gone as
select docid from fts_search_article_text.docs
where name in (select article_id from temp.main._search_drop);

update fts_search_article_text.dict as d
set df = d.df - g.n
from (
    select termid, count(distinct docid) as n
    from fts_search_article_text.terms
    where docid in (select docid from temp.main._search_gone)
    group by termid
) as g
where d.termid = g.termid;

delete from fts_search_article_text.terms where docid in (select docid from temp.main._search_gone);
delete from fts_search_article_text.docs where docid in (select docid from temp.main._search_gone);
delete from fts_search_article_text.dict where df = 0;
delete from search.article_text where article_id in (select article_id from temp.main._search_drop);

create or replace temp table _search_new_docs as
select
    (select coalesce(max(docid), -1) from fts_search_article_text.docs)
        + row_number() over (order by article_id) as docid,
    *
from temp.main._search_add;

create or replace temp table _search_new_terms as
with tokenized as (
    select docid, (select fieldid from fts_search_article_text.fields where field = 'title') as fieldid,
           unnest(fts_search_article_text.tokenize(title)) as w
    from temp.main._search_new_docs
    union all
    select docid, (select fieldid from fts_search_article_text.fields where field = 'body'),
           unnest(fts_search_article_text.tokenize(body))
    from temp.main._search_new_docs
)
select stem(w, 'porter') as term, docid, fieldid
from tokenized
where w is not null and len(w) > 0
  and w not in (select sw from fts_search_article_text.stopwords);

insert into fts_search_article_text.dict (termid, term, df)
select (select coalesce(max(termid), -1) from fts_search_article_text.dict)
           + row_number() over (order by term),
       term, 0
from (
    select distinct term from temp.main._search_new_terms
    where term not in (select term from fts_search_article_text.dict)
);

insert into fts_search_article_text.terms (docid, fieldid, termid)
select t.docid, t.fieldid, d.termid
from temp.main._search_new_terms as t
join fts_search_article_text.dict as d using (term);

insert into fts_search_article_text.docs (docid, name, len)
select n.docid, n.article_id, count(t.term)
from temp.main._search_new_docs as n
left join temp.main._search_new_terms as t using (docid)
group by n.docid, n.article_id;

update fts_search_article_text.dict as d
set df = d.df + g.n
from (
    select dict.termid, count(distinct t.docid) as n
    from temp.main._search_new_terms as t
    join fts_search_article_text.dict as dict using (term)
    group by dict.termid
) as g
where d.termid = g.termid;

update fts_search_article_text.stats
set num_docs = (select count(docid) from fts_search_article_text.docs),
    avgdl = (select sum(len) / count(len) from fts_search_article_text.docs);

insert into search.article_text by name
select * exclude (docid) from temp.main._search_new_docs;
