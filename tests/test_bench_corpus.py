"""The benchmark corpus generator (bench/corpus): deterministic, distinct, well-formed, served."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_corpus_{name}", CORPUS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = load("generate")
serve = load("serve")


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate.generate(tmp_path / "a", 50, seed=3)
    generate.generate(tmp_path / "b", 50, seed=3)
    a, b = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert len(a) == 50 + 2  # the pages, feed.xml and articles.jsonl
    assert a == b
    generate.generate(tmp_path / "c", 50, seed=4)
    assert digests(tmp_path / "c")["feed.xml"] != a["feed.xml"]


def test_bodies_distinct_and_within_length() -> None:
    articles = list(generate.iter_articles(50, seed=0))
    bodies = {"\n".join(a.paragraphs) for a in articles}
    assert len(bodies) == 50
    for a in articles:
        assert 300 <= a.words <= 3000, (a.id, a.words)
        assert sum(len(p.split()) for p in a.paragraphs) == a.words
        assert "{" not in "".join(a.paragraphs), a.id  # every placeholder filled


def test_feed_lists_every_page(tmp_path: Path) -> None:
    feed = generate.generate(tmp_path, 50, base_url="http://127.0.0.1:9")
    items = ET.parse(feed).getroot().findall("./channel/item")
    assert len(items) == 50
    for item in items:
        for tag in ("title", "link", "pubDate", "description", "guid"):
            assert (item.findtext(tag) or "").strip(), tag
        link = item.findtext("link") or ""
        assert link.startswith("http://127.0.0.1:9/")
        assert (tmp_path / link.removeprefix("http://127.0.0.1:9/")).is_file()


def test_served_over_loopback(tmp_path: Path) -> None:
    with serve.serve(tmp_path) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        feed = generate.generate(tmp_path, 50, base_url=base_url)
        link = ET.parse(feed).getroot().findtext("./channel/item/link") or ""
        with urllib.request.urlopen(link, timeout=10) as response:
            assert response.status == 200
            page = response.read().decode("utf-8")
    assert "article:published_time" in page
    assert len(page) > 15_000
