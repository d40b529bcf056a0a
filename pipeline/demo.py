"""The bundled demo: serve samples/demo/site on 127.0.0.1 and run a real pass over it.

The server replaces the token {{BASE_URL}} in every file with its own address, so the
feeds and pages link to wherever it happens to listen. It starts and stops with the demo;
the pipeline fetches through real HTTP exactly as it would from a news site.

`python -m pipeline.demo --port PORT --registry PATH` serves the corpus on its own, with a
feed registry for it at PATH, until it is stopped: `make airflow` runs it this way, so that
the DAGs, in other processes, fetch from it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import mimetypes
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
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


def stored_pages(corpus: Path | None = None) -> int:
    """How many article pages a pass over the corpus fetches and stores: its articles and
    its consent wall (the 404 and the entry without a link store none). Tests count on
    it rather than on a number that changes when the corpus grows."""
    path = (corpus or default_corpus_dir()) / "articles.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return sum(r.get("kind", "article") in ("article", "consent_wall") for r in records)


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

    def registry_text(self) -> str:
        """The corpus's feed registry, with this server's address in its URLs."""
        text = (self.corpus / "feeds.yaml").read_text(encoding="utf-8")
        return text.replace(TOKEN, self.base_url)

    def feeds(self) -> list[Feed]:
        return parse_registry(self.registry_text(), str(self.corpus / "feeds.yaml"))

    def write_registry(self, path: Path) -> Path:
        """Write the feed registry for this server to `path` (whole or not at all), for a
        pipeline in another process: NEWS_FEEDS=path."""
        self.feeds()  # the corpus's registry is valid
        lines = self.registry_text().splitlines(keepends=True)
        while lines and lines[0].startswith("#"):
            lines.pop(0)  # the corpus's own header speaks of the token
        header = (
            f"# The demo corpus's feeds, served at {self.base_url} by `python -m "
            "pipeline.demo` (make airflow runs it). Written on every start.\n"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(header + "".join(lines), encoding="utf-8")
        partial.replace(path)
        return path


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo",
        description="Serve the demo corpus on 127.0.0.1 until SIGTERM or Ctrl-C, with a feed "
        "registry for it (what `make airflow` runs).",
    )
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--registry", type=Path, required=True, help="write the registry here")
    parser.add_argument("--corpus", type=Path, help="corpus directory (default: the bundled one)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(serve_corpus(args.corpus, port=args.port))
        except OSError as exc:  # the port is taken, or there is no corpus
            print(f"cannot serve the demo corpus on 127.0.0.1:{args.port}: "
                  f"{exc.strerror or exc}", file=sys.stderr, flush=True)  # fmt: skip
            return 1
        server.write_registry(args.registry)
        print(f"serving the demo corpus from {server.corpus} at {server.base_url}; "
              f"its feed registry is {args.registry}", flush=True)  # fmt: skip
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
