"""Benchmark: polite concurrent fetching of 1,000 articles from 20 hosts. Local only.

A child process serves 20 "hosts" (20 ports on 127.0.0.1), each answering every request
after `--latency` seconds (default 100 ms) with a ~10 KB article page, and a robots.txt
that allows everything. The parent fetches `--pages` pages per host with
pipeline.fetch.fetch_all and realistic politeness (per-host concurrency 2, 0.25 s between
request starts to a host, 16 in flight in all, robots.txt on).

    .venv/bin/python bench/bench_fetch.py [--hosts 20] [--pages 50] [--order grouped]

The politeness-bound ideal: a host's requests (its robots.txt plus its pages, n = pages + 1)
start at least `delay` apart, so the busiest host needs (n - 1) * delay + latency. Two
other bounds can be larger with other settings: per-host concurrency, n * latency / c_host,
and global concurrency, N * latency / concurrency. The ideal is the largest of the three.

Prints a Markdown table; docs/PERFORMANCE.md ("Fetching") records the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import Settings  # noqa: E402
from pipeline.fetch import fetch_with_robots  # noqa: E402

ROBOTS = b"User-agent: *\nAllow: /\n"
PARAGRAPH = (
    "<p>Foreign ministers from France and Germany met in Paris on Tuesday to discuss new "
    "sanctions, and officials said the two governments agreed to coordinate aid.</p>\n"
)
ARTICLE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Story {n}</title>"
    "</head><body><article><h1>Story {n}</h1>\n" + PARAGRAPH * 60 + "</article></body></html>"
)
SERVER_LIFETIME_S = 300  # the server stops by itself even if the parent dies


def _serve(hosts: int, latency: float, ready: Any) -> None:
    """The child: `hosts` listeners on 127.0.0.1; GET /__stats returns what they saw."""
    starts: dict[int, list[float]] = {}
    in_flight: dict[int, int] = {}
    peak: dict[int, int] = {}
    global_peak = [0, 0]  # in flight now, peak

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                if path == "/__stats":
                    body = json.dumps(
                        {"starts": starts, "peak": peak, "global_peak": global_peak[1]}
                    ).encode()
                    ctype = "application/json"
                else:
                    starts.setdefault(port, []).append(time.monotonic())
                    in_flight[port] = in_flight.get(port, 0) + 1
                    peak[port] = max(peak.get(port, 0), in_flight[port])
                    global_peak[0] += 1
                    global_peak[1] = max(global_peak)
                    await asyncio.sleep(latency)
                    in_flight[port] -= 1
                    global_peak[0] -= 1
                    if path == "/robots.txt":
                        body, ctype = ROBOTS, "text/plain"
                    else:
                        body = ARTICLE.format(n=path).encode()
                        ctype = "text/html; charset=utf-8"
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, "127.0.0.1", 0) for _ in range(hosts)]
        ready.send([s.sockets[0].getsockname()[1] for s in servers])
        await asyncio.sleep(SERVER_LIFETIME_S)

    asyncio.run(main())


def _stats(port: int) -> dict[str, Any]:
    import httpx

    with httpx.Client(trust_env=False) as client:
        return dict(client.get(f"http://127.0.0.1:{port}/__stats", timeout=10).json())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=50, help="pages per host")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--delay", type=float, default=0.25, help="per_host_delay_s")
    parser.add_argument("--per-host", type=int, default=2, help="per_host_concurrency")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--order",
        choices=["grouped", "interleaved"],
        default="grouped",
        help="URLs host by host (as feeds list them) or round robin",
    )
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(args.hosts, args.latency, child), daemon=True
    )
    server.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the benchmark server did not start")
        ports: list[int] = parent.recv()
        if args.order == "grouped":
            urls = [f"http://127.0.0.1:{p}/a/{n}.html" for p in ports for n in range(args.pages)]
        else:
            urls = [f"http://127.0.0.1:{p}/a/{n}.html" for n in range(args.pages) for p in ports]
        settings = replace(
            Settings(),
            concurrency=args.concurrency,
            per_host_concurrency=args.per_host,
            per_host_delay_s=args.delay,
            respect_robots=True,
            retries=0,
            timeout_s=30.0,
            allow_private_hosts=tuple(f"127.0.0.1:{p}" for p in ports),
        )
        rss_before = _rss_mb()
        started = time.perf_counter()
        pages, robots = fetch_with_robots(urls, settings)
        wall = time.perf_counter() - started
        rss_after = _rss_mb()
        stats = _stats(ports[0])
    finally:
        server.terminate()  # the child started above, by its own handle
        server.join(10)

    ok = sum(p.ok for p in pages)
    body_bytes = sum(len(p.body) for p in pages)
    per_host = args.pages + 1  # the pages and the robots.txt
    total = per_host * args.hosts
    bounds = {
        "politeness: (n - 1) x delay + latency": (per_host - 1) * args.delay + args.latency,
        "per-host concurrency: n x latency / c_host": per_host * args.latency / args.per_host,
        "global concurrency: N x latency / C": total * args.latency / args.concurrency,
    }
    ideal = max(bounds.values())
    gaps = [
        b - a
        for times in stats["starts"].values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
    ]

    print(f"# Fetch benchmark ({platform.python_version()}, {os.cpu_count()} CPUs)\n")
    print("| | |\n|---|---|")
    print(
        f"| hosts x pages | {args.hosts} x {args.pages} = {len(urls)} "
        f"(+{len(robots)} robots.txt), order {args.order} |"
    )
    print(
        f"| settings | latency {args.latency * 1000:.0f} ms, delay {args.delay} s, "
        f"per-host {args.per_host}, global {args.concurrency} |"
    )
    print(f"| pages ok | {ok} / {len(pages)} ({body_bytes / 1e6:.1f} MB of bodies) |")
    for name, value in bounds.items():
        print(f"| bound, {name} | {value:.2f} s |")
    print(f"| **ideal (largest bound)** | **{ideal:.2f} s** |")
    print(f"| **wall time** | **{wall:.2f} s** |")
    print(f"| **ratio to ideal** | **{wall / ideal:.3f}x** |")
    print(f"| throughput | {len(urls) / wall:.0f} pages/s |")
    print(f"| smallest gap between starts to one host | {min(gaps) * 1000:.0f} ms |")
    print(
        f"| most in flight to one host / in all | {max(stats['peak'].values())} / "
        f"{stats['global_peak']} |"
    )
    print(
        f"| peak RSS (ru_maxrss), after imports / after the run | {rss_before:.0f} MB / "
        f"{rss_after:.0f} MB |"
    )


if __name__ == "__main__":
    main()
