"""The raw archive: every successful response of a run, in a WARC file.

WARC is the web-archiving ecosystem's format (ISO 28500), read by warcio, pywb and the
like. Each response record carries the final URL, the connected IP address, the status
line, the headers and the body, and, for article pages, the feed entry that listed it
(in a `WARC-Newsevents-Entry` header), so that `newsevents archive-import` can rebuild
raw pages and `newsevents enrich` can extract and tag them again without fetching.

Bodies are stored as received after transfer decoding (gzip, brotli, ...), so the
Content-Encoding, Transfer-Encoding and Content-Length headers are rewritten to match.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.records import FeedEntry, Page

_DROP = {"content-encoding", "transfer-encoding", "content-length"}
ENTRY_HEADER = "WARC-Newsevents-Entry"
KIND_HEADER = "WARC-Newsevents-Kind"


def _entry_json(entry: FeedEntry) -> str:
    return json.dumps(
        {
            "feed": entry.feed,
            "url": entry.url,
            "link": entry.link,
            "title": entry.title,
            "summary": entry.summary,
            "published_at": entry.published_at.isoformat() if entry.published_at else None,
        },
        ensure_ascii=True,
    )


def write_archive(path: Path, records: Iterable[tuple[str, FeedEntry | None, Page]]) -> int:
    """Write (kind, entry, page) responses to a gzipped WARC file. Returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with tmp.open("wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        for kind, entry, page in records:
            if not page.ok or page.status is None or page.status >= 300:
                continue
            headers = [(k, v) for k, v in page.headers if k.lower() not in _DROP]
            headers.append(("Content-Length", str(len(page.body))))
            http = StatusAndHeaders(f"{page.status} OK", headers, protocol="HTTP/1.1")
            warc_headers = {
                "WARC-Date": page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                KIND_HEADER: kind,
            }
            if page.address:
                warc_headers["WARC-IP-Address"] = page.address
            if entry is not None:
                warc_headers[ENTRY_HEADER] = _entry_json(entry)
            record = writer.create_warc_record(
                page.final_url,
                "response",
                payload=BytesIO(page.body),
                http_headers=http,
                warc_headers_dict=warc_headers,
            )
            writer.write_record(record)
            record.raw_stream.close()  # warcio buffers the payload in a temporary file
            count += 1
    tmp.replace(path)
    return count


def read_archive(path: Path) -> Iterator[tuple[str, FeedEntry | None, Page]]:
    """The (kind, entry, page) responses of a WARC file written by `write_archive`."""
    with path.open("rb") as raw:
        for record in ArchiveIterator(raw):
            if record.rec_type != "response":
                continue
            headers = record.rec_headers
            url = headers.get_header("WARC-Target-URI")
            when = datetime.fromisoformat(headers.get_header("WARC-Date").replace("Z", "+00:00"))
            http = record.http_headers
            body = record.content_stream().read()
            entry = None
            meta = headers.get_header(ENTRY_HEADER)
            if meta:
                data = json.loads(meta)
                published = data.get("published_at")
                entry = FeedEntry(
                    feed=data["feed"], url=data["url"], link=data["link"],
                    title=data.get("title"), summary=data.get("summary"),
                    published_at=datetime.fromisoformat(published) if published else None,
                )  # fmt: skip
            page = Page(
                url=entry.link if entry else url, final_url=url,
                status=int(http.get_statuscode()), content_type=http.get_header("Content-Type"),
                body=body, fetched_at=when, duration_ms=0,
                headers=tuple(http.headers), address=headers.get_header("WARC-IP-Address"),
            )  # fmt: skip
            yield headers.get_header(KIND_HEADER) or "article", entry, page
