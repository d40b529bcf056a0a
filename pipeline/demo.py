"""The bundled demo: serve samples/demo/site on 127.0.0.1 and run a real pass over it.

The server replaces the token {{BASE_URL}} in every file with its own address, so the
feeds and pages link to wherever it happens to listen. It starts and stops with the demo;
the pipeline fetches through real HTTP exactly as it would from a news site.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import mimetypes
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.config import Settings
from pipeline.feeds import parse_registry
from pipeline.records import Feed

TOKEN = "{{BASE_URL}}"
_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def default_corpus_dir() -> Path:
    """The bundled corpus: samples/demo, which ships inside the package as
    pipeline.demo_corpus (in an editable install, the checkout's folder itself)."""
    return Path(str(resources.files("pipeline.demo_corpus")))


@dataclass
class CorpusServer:
    base_url: str
    corpus: Path

    @property
    def hostport(self) -> str:
        """127.0.0.1:PORT: the exact exception the address guard needs for this server."""
        return self.base_url.split("//", 1)[1]

    def allow(self, settings: Settings) -> Settings:
        """Settings that may fetch from this server: it listens on loopback, which the
        address guard refuses by default, and it is our own, so no politeness delay."""
        return dataclasses.replace(
            settings,
            allow_private_hosts=(*settings.allow_private_hosts, self.hostport),
            per_host_delay_s=0.0,
        )

    def expected_failures(self) -> dict[str, str]:
        """Article slugs the corpus makes fail on purpose, and how: the demo shows that a
        404 and a consent wall are recorded, not lost (samples/demo/README.md)."""
        how = {"missing": "a 404 on purpose", "consent_wall": "a consent wall on purpose"}
        out = {}
        for line in (self.corpus / "articles.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if record.get("kind") in how:
                    out[record["slug"]] = how[record["kind"]]
        return out

    def feeds(self) -> list[Feed]:
        text = (self.corpus / "feeds.yaml").read_text(encoding="utf-8")
        return parse_registry(text.replace(TOKEN, self.base_url), str(self.corpus / "feeds.yaml"))


def _handler(site: Path, base: list[str]) -> type[BaseHTTPRequestHandler]:
    root = site.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "newsevents-demo"

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the pipeline records every fetch itself

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path).lstrip("/")
            target = (root / path).resolve()
            if root not in target.parents or not target.is_file():
                self.send_error(404, "Not Found")
                return
            body = target.read_bytes().replace(TOKEN.encode(), base[0].encode())
            ctype = _TYPES.get(target.suffix) or (
                mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            )
            # Validators, as a real site sends them, so conditional GETs can be shown.
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def serve_corpus(corpus: Path | None = None, port: int = 0) -> Iterator[CorpusServer]:
    """Serve a corpus directory (feeds.yaml + site/) on 127.0.0.1 for the duration."""
    corpus = corpus or default_corpus_dir()
    site = corpus / "site"
    if not site.is_dir():
        raise FileNotFoundError(f"no demo corpus at {corpus} (expected {site})")
    base: list[str] = [""]
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(site, base))
    server.daemon_threads = True
    base[0] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="demo-http", daemon=True)
    thread.start()
    try:
        yield CorpusServer(base_url=base[0], corpus=corpus)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
