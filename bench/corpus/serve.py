"""Serve a generated corpus (or any directory) over HTTP on 127.0.0.1. Local only.

    with serve(root) as base_url:      # e.g. "http://127.0.0.1:54321"
        generate(root, 1000, base_url=base_url)
        ...fetch base_url + "/feed.xml"...

The server binds a free port on a loopback address and runs in a background thread
(http.server's ThreadingHTTPServer); it stops when the block ends. Serving an empty
directory first and generating into it works: files are read on each request. As a script:

    .venv/bin/python bench/corpus/serve.py OUT [--port 8000]
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class QuietHandler(SimpleHTTPRequestHandler):
    """Static files, without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(root: Path, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `root` on host:port (a free port by default); yield the base URL."""
    if host not in LOOPBACK:
        raise ValueError(f"serve() binds loopback addresses only, not {host!r}")
    handler = partial(QuietHandler, directory=str(Path(root)))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="corpus-http", daemon=True)
    thread.start()
    try:
        bound_port = server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with serve(args.root, args.port) as base_url:
        print(f"serving {args.root} at {base_url}/ (feed: {base_url}/feed.xml); Ctrl-C stops")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
