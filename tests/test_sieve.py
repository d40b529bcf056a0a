"""The sentence filter (pipeline.coding.sieve) and the fast attribute ruler
(pipeline.coding.attributes), with the real model: what is parsed, what is not, and that
nothing the coder could code is skipped."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, TAG

from pipeline.coding import default_coder
from pipeline.coding.attributes import FastAttributes
from pipeline.coding.match import match_events
from pipeline.coding.segment import prepare_text
from pipeline.coding.sieve import EVENT_PARSE, could_hold_event
from pipeline.dedup import article_id, content_hash
from pipeline.records import Article
from pipeline.tag import MIN_PER_PROCESS, analyse_articles

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def _gold_texts() -> list[str]:
    lines = (DATA / "events_dev_gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def _demo_bodies() -> list[str]:
    lines = (ROOT / "samples" / "demo" / "articles.jsonl").read_text(encoding="utf-8")
    return ["\n\n".join(json.loads(line)["paragraphs"]) for line in lines.splitlines()]


def test_pipeline_parses_only_what_can_hold_an_event(nlp: Any) -> None:
    assert nlp.pipe_names[:3] == ["senter", "newsevents_line_breaks", "ner"]
    assert EVENT_PARSE in nlp.pipe_names
    doc = nlp(
        "The weather was lovely and the sky stayed clear all week.\n\n"
        "Russian forces shelled the city of Kharkiv on Tuesday, Ukrainian officials said."
    )
    quiet, event = list(doc.sents)
    assert quiet.text.startswith("The weather")
    assert all(t.tag_ == "" and t.lemma_ == "" for t in quiet)  # never tagged
    assert quiet.root.dep_ == "ROOT" and {t.dep_ for t in quiet} <= {"ROOT", "dep", "compound"}
    assert {t.lemma_ for t in event} >= {"shell", "force"}
    assert event.root.lemma_ in {"shell", "say"}
    events = default_coder().code_doc(doc, article_id="x", published=None)
    assert [e.root_code for e in events if e.trigger == "shelled"] == ["19"]


def test_a_name_that_is_not_parsed_keeps_its_last_word_as_root(nlp: Any) -> None:
    doc = nlp("Angela Merkel was in Brandenburg for the summer.")
    (sent,) = list(doc.sents)
    assert not any(t.tag_ for t in sent)  # no trigger here: not parsed
    merkel = next(e for e in doc.ents if e.text == "Angela Merkel")
    assert merkel.root.text == "Merkel" and merkel.root.head == sent.root
    assert sent.root.text == "Merkel"  # the name opens the sentence: it is the root


def test_sentences_without_an_actor_or_a_trigger_are_skipped(nlp: Any) -> None:
    coder = default_coder()
    vocabulary = coder.vocabulary()
    parse = nlp.get_pipe(EVENT_PARSE)

    def holds(text: str) -> bool:
        doc = nlp.get_pipe("ner")(nlp.get_pipe("senter")(nlp.make_doc(text)))
        return could_hold_event(doc[:], vocabulary, parse.inflections)

    assert holds("Police arrested three protesters in Lagos.")  # agent word + trigger
    assert holds("France condemned the strikes.")  # entity + an inflected trigger
    assert holds("The Russian envoy criticized the decision.")
    assert not holds("The cake was delicious and the tea was hot.")  # neither
    assert not holds("The sky stayed clear all week.")  # a trigger, a date: no actor
    assert not holds("The decision was condemned.")  # a trigger, no actor candidate
    assert holds("He condemned the decision.")  # the document says who "he" is
    assert holds("The two sides agreed to meet again.")
    assert "shell" in parse.inflections("shelled")
    assert "go" in parse.inflections("went")  # an exception of the lemmatizer's tables


def test_no_sentence_the_coder_codes_is_filtered_out(nlp: Any, nlp_full: Any) -> None:
    """Every sentence in which the coder finds a trigger candidate, with the full parse,
    on the gold texts and the demo articles, passes the filter."""
    coder = default_coder()
    vocabulary = coder.vocabulary()
    parse = nlp.get_pipe(EVENT_PARSE)
    missed = []
    checked = 0
    for text in _gold_texts() + _demo_bodies():
        doc = nlp_full(prepare_text(text))
        for sent in doc.sents:
            candidates = list(match_events(sent, coder.index, coder.lexicon, coder.dictionary))
            if any(c.rule.cameo for c in candidates) and any(
                t.ent_type_ in vocabulary.actor_labels for t in sent
            ):
                checked += 1
                if not could_hold_event(sent, vocabulary, parse.inflections):
                    missed.append(sent.text)
    assert checked > 500
    assert not missed, missed[:5]


def test_the_fast_attribute_ruler_gives_the_rulers_result(nlp_full: Any) -> None:
    ruler = nlp_full.get_pipe("attribute_ruler")
    fast = FastAttributes(ruler)
    before = nlp_full.pipe_names[: nlp_full.pipe_names.index("attribute_ruler")]
    texts = _gold_texts() + _demo_bodies() + [
        "Y'all gonna see it, ain't nothin' to it. Let's go, c'mon. There is a dog. "
        "I'd do it if I'd had it. It's it. You told me.\n\n  \t "
    ]  # fmt: skip
    columns = [TAG, POS, MORPH, LEMMA, DEP, HEAD]
    tokens = 0
    for text in texts:
        doc = nlp_full.make_doc(text)
        for name in before:
            doc = nlp_full.get_pipe(name)(doc)
        copy = doc.copy()
        ruler(doc)
        fast(copy)
        assert np.array_equal(doc.to_array(columns), copy.to_array(columns)), text[:80]
        tokens += len(doc)
    assert tokens > 20_000
    assert len(fast.verdicts) < tokens / 4  # verdicts are shared by classes of tokens


def test_two_processes_give_the_same_analyses(nlp: Any) -> None:
    articles = [_article(n, body) for n, body in enumerate(_demo_bodies())]
    assert len(articles) >= 2 * MIN_PER_PROCESS  # enough to start the processes
    one = [a for _, a in analyse_articles(articles, nlp, processes=1)]
    assert not multiprocessing.active_children()
    two = []
    children = 0
    for _, analysis in analyse_articles(articles, nlp, processes=2):
        children = max(children, len(multiprocessing.active_children()))
        two.append(analysis)
    assert children == 2  # spaCy parsed in two child processes
    assert one == two
    assert sum(len(a.events) for a in two) > 100


class _Failing:
    """The default coder, failing on its third document."""

    def __init__(self) -> None:
        self.coder, self.calls = default_coder(), 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.coder, name)

    def code_doc(self, doc: Any, **kw: Any) -> Any:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("the coder failed")
        return self.coder.code_doc(doc, **kw)


def test_stopping_early_stops_both_children_at_once(nlp: Any) -> None:
    """A failure while coding, or a caller that stops reading, ends spaCy's two children
    then and there (they would otherwise wait, holding their memory, until the generator
    is collected: a traceback kept by a caller keeps it alive)."""
    articles = [_article(n, body) for n, body in enumerate(_demo_bodies())]
    with pytest.raises(RuntimeError, match="the coder failed") as failed:
        for _ in analyse_articles(articles, nlp, _Failing(), processes=2):  # type: ignore[arg-type]
            assert len(multiprocessing.active_children()) == 2
    assert failed.traceback  # still held, and with it the generator's frame
    assert not multiprocessing.active_children()

    analysed = analyse_articles(articles, nlp, processes=2)
    with closing(analysed):
        next(analysed)
        assert len(multiprocessing.active_children()) == 2
    assert not multiprocessing.active_children()


CHILD = """
import json, multiprocessing, sys, time
from tests.conftest import MODEL
from tests.test_sieve import _article, _demo_bodies
from pipeline.coding import default_coder
from pipeline.tag import analyse_articles, load_nlp
nlp = load_nlp(MODEL, default_coder().vocabulary())
articles = [_article(n, body) for n, body in enumerate(_demo_bodies())]
for _ in analyse_articles(articles, nlp, processes=2):
    print(json.dumps([c.pid for c in multiprocessing.active_children()]), flush=True)
    time.sleep(600)
"""


def test_a_killed_pass_takes_its_children_with_it() -> None:
    """kill -9 of a pass (an OOM kill, a timeout): spaCy's children go too, rather than
    wait, orphaned and holding their memory, for work that never comes."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stdout is not None
    try:
        with proc.stdout:  # (not communicate(): an orphan would hold the pipe open)
            children = [psutil.Process(pid) for pid in json.loads(proc.stdout.readline())]
        assert len(children) == 2 and all(c.is_running() for c in children)
    finally:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def _article(n: int, body: str) -> Article:
    url = f"http://127.0.0.1/{n}.html"
    return Article(
        article_id=article_id(url), url=url, final_url=url, feed="f", title="t", body=body,
        author=None, published_at=datetime(2025, 11, 2, 9, 15, tzinfo=UTC),
        date_source="feed", site_name=None, language="en", status="ok",
        status_detail=None, word_count=len(body.split()), content_hash=content_hash(body),
        fetched_at=datetime(2025, 11, 2, 10, tzinfo=UTC),
    )  # fmt: skip
