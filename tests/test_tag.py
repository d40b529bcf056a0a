"""Tag: spaCy entities with offsets and normalised text, in batches."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.dedup import article_id, content_hash
from pipeline.records import Article
from pipeline.tag import ModelNotInstalled, doc_entities, load_nlp, normalize_entity, tag_articles

SEED = (Path(__file__).parent / "data" / "seed_article.txt").read_text(encoding="utf-8")


def _article(body: str, url: str = "http://127.0.0.1/a.html", status: str = "ok") -> Article:
    return Article(
        article_id=article_id(url), url=url, final_url=url, feed="f", title="t", body=body,
        author=None, published_at=datetime(2025, 11, 2, 9, 15, tzinfo=UTC),
        date_source="feed", site_name=None, language="en", status=status,
        status_detail=None, word_count=len(body.split()), content_hash=content_hash(body),
        fetched_at=datetime(2025, 11, 2, 10, tzinfo=UTC),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("Joe Biden’s", "Joe Biden"),
        ("Dong Jun.", "Dong Jun"),
        ("the U.S.", "U.S."),
        ("U.S.", "U.S."),
        ("China's", "China"),
        ("Smith Jr.", "Smith Jr."),
        ("  Xi   Jinping ", "Xi Jinping"),
    ],
)
def test_normalize_entity(text: str, norm: str) -> None:
    assert normalize_entity(text) == norm


def test_seed_article_entities(nlp: Any) -> None:
    by_label: dict[str, set[str]] = defaultdict(set)
    for ent in doc_entities(nlp(SEED), "seed"):
        by_label[ent.label].add(ent.norm)
    places = by_label["GPE"] | by_label["LOC"]
    assert {"China", "Malaysia", "South Korea", "Taiwan", "Beijing"} <= places
    assert places & {"US", "U.S.", "United States"}
    people = by_label["PERSON"]
    assert {"Xi Jinping", "Pete Hegseth", "Dong Jun"} <= people
    assert people & {"Trump", "Donald Trump"}
    orgs = by_label["ORG"]
    assert "CSIS" in orgs
    assert orgs & {"ASEAN", "Association of Southeast Asian Nations"}


def test_entity_offsets_point_into_the_body(nlp: Any) -> None:
    article = _article(SEED)
    entities = tag_articles([article], nlp).entities
    assert len(entities) > 50
    for ent in entities:
        assert SEED[ent.start_char : ent.end_char] == ent.text
    assert [e.entity_idx for e in entities] == list(range(len(entities)))
    # Sentence indexes rise with the text.
    assert [e.sentence_idx for e in entities] == sorted(e.sentence_idx for e in entities)


class _PipeOnly:
    """The real model, but calling it once per text is an error: batches only."""

    def __init__(self, nlp: Any) -> None:
        self.nlp, self.pipe_calls = nlp, 0

    def pipe(self, texts: Any, batch_size: int = 32, n_process: int = 1) -> Any:
        self.pipe_calls += 1
        return self.nlp.pipe(texts, batch_size=batch_size, n_process=n_process)

    def __call__(self, text: str) -> Any:
        raise AssertionError("tag_articles must use nlp.pipe, not one call per article")


def test_tag_articles_batches_and_skips_unusable(nlp: Any) -> None:
    good = [_article(SEED, f"http://127.0.0.1/{i}.html") for i in range(3)]
    wall = _article("Accept cookies to continue.", "http://127.0.0.1/wall.html", "too_short")
    spy = _PipeOnly(nlp)
    tagged = tag_articles([*good, wall], spy, batch_size=2)
    assert spy.pipe_calls == 1
    assert {e.article_id for e in tagged.entities} == {a.article_id for a in good}
    assert {e.article_id for e in tagged.events} == {a.article_id for a in good}
    assert {p.article_id for p in tagged.places} == {a.article_id for a in good}


def test_missing_model_is_a_clear_error() -> None:
    with pytest.raises(ModelNotInstalled, match="NEWS_SPACY_MODEL"):
        load_nlp("no_such_model_xx")
