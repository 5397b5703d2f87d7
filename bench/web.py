"""Benchmark of the dashboard: `python bench/web.py [--persons N | --store FILE]`.

Starts `gapwatch serve` on loopback over the results of an N-person synthetic run
(1,000,000 by default; generated, run and monitored once and cached under
``$GAPWATCH_BENCH_DATA`` or a temporary folder, or any store given with ``--store``),
visits each overview and indicator page of England and every ICB once (the first
visit renders it; the server then keeps it until the next run is published), then drives
20 concurrent clients for 30 seconds over the same pages, and prints requests per
second, p50 and p95 latency and errors for both phases. The baseline measured in the
same run is the server's cheapest page (the stylesheet, no store access), so the ratio
shows what reading the store and rendering cost. Goal (issue 8): p95 at most 300 ms on 2 cores, zero errors.

Then the abuse cases (issue 18): the same 20 clients with a random extra query parameter
on every page (each must get its 400 quickly, never a fresh render), and the 20 ordinary
clients again while 10 clients send cache-busting parameters and 100 connections stay
silent or send a request a byte at a time. The goal holds for the ordinary clients
during the attack, and every slow connection must have been closed by the server.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from gapwatch.model.config import RunConfig
from gapwatch.monitor import monitor
from gapwatch.pipeline import run
from gapwatch.store import open_store
from gapwatch.synth import generate


def _store(persons: int) -> str:
    root = Path(os.environ.get("GAPWATCH_BENCH_DATA", tempfile.gettempdir())) / f"gapwatch-bench-{persons}"
    store = root / "web-results.duckdb"
    if store.exists():
        return str(store)
    if not (root / "truth.json").exists():
        print(f"generating {persons:,} synthetic people into {root} …", flush=True)
        generate(persons, 1, root, overwrite=True)
    print("running the catalogue and the monitor …", flush=True)
    config = RunConfig.model_validate(
        {"data": str(root), "periods": {"start": "2023-04", "end": "2026-03"}, "store": str(store)}
    )
    summary = run(config)
    opened = open_store(summary.store)
    try:
        monitor(opened, summary.run_id)
    finally:
        opened.close()
    return str(store)


def _urls(store: str) -> list[str]:
    opened = open_store(store, read_only=True)
    try:
        icbs = opened.query(
            "SELECT DISTINCT area_code FROM areas WHERE area_type = 'icb' AND area_code <> 'unknown'"
        )
        indicators = opened.query("SELECT DISTINCT indicator_id FROM indicators")
    finally:
        opened.close()
    areas = ["england:E92000001"] + [f"icb:{code}" for code in icbs["area_code"]]
    urls = [f"/overview?area={area}" for area in areas]
    urls += [
        f"/indicator/{indicator}?area={area}"
        for indicator in indicators["indicator_id"]
        for area in areas[:6]
    ]
    return urls


def _drive(
    base: str, urls: list[str], clients: int, seconds: float, expect: int = 200, nonce: bool = False
) -> tuple[list[float], int]:
    """Requests per client in a loop; an error is any answer other than ``expect``.

    With ``nonce`` each URL gets a random extra query parameter, as a cache-busting
    attacker would add.
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        nonlocal errors
        chooser = random.Random(seed)
        while time.monotonic() < stop:
            url = base + chooser.choice(urls)
            if nonce:
                url += ("&" if "?" in url else "?") + f"n={chooser.randrange(10**9)}"
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    failed = response.status != expect
            except urllib.error.HTTPError as problem:
                failed = problem.code != expect
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                failed = True
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += failed

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def _slow_connections(port: int, count: int, seconds: float) -> tuple[int, int]:
    """Open ``count`` connections, half silent, half sending a request a byte a second.

    Returns how many the server closed within ``seconds`` and how many stayed open.
    """
    closed = 0
    lock = threading.Lock()

    def one(drip: bool) -> None:
        nonlocal closed
        request = b"GET /overview HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
        stop = time.monotonic() + seconds
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.settimeout(1.0)
                position = 0
                while time.monotonic() < stop:
                    if drip and position < len(request):
                        connection.sendall(request[position : position + 1])
                        position += 1
                    try:
                        if connection.recv(65536) == b"":
                            break
                    except TimeoutError:
                        continue
                else:
                    return
        except OSError:
            pass  # refused, reset or closed by the server: not held
        with lock:
            closed += 1

    threads = [threading.Thread(target=one, args=(index % 2 == 1,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return closed, count - closed


def _report(name: str, latencies: list[float], errors: int, seconds: float) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(0.95 * (len(ordered) - 1))] * 1000
    rate = len(ordered) / seconds
    print(f"{name:<28} {rate:8.1f} req/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   errors {errors}")
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--store", help="an existing results store to serve instead")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    arguments = parser.parse_args()
    store = arguments.store or _store(arguments.persons)
    urls = _urls(store)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gapwatch.cli.main", "serve", "--store", store, "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/static/gapwatch.css", timeout=1).read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        print(f"{arguments.clients} clients, {len(urls)} distinct pages")
        # First visits: each page once, as the first visitors after a run is published see it.
        cold: list[float] = []
        for url in urls:
            started = time.perf_counter()
            urllib.request.urlopen(base + url, timeout=60).read()
            cold.append(time.perf_counter() - started)
        _report("first visit of each page", cold, 0, sum(cold))
        short = arguments.seconds / 3
        stylesheet = _drive(base, ["/static/gapwatch.css"], arguments.clients, short)
        baseline = _report("baseline (stylesheet)", *stylesheet, short)
        visits = _drive(base, urls, arguments.clients, arguments.seconds)
        pages = _report("overview and indicator pages", *visits, arguments.seconds)
        print(f"p95 ratio, pages / baseline: {pages / baseline:.1f}x; goal p95 <= 300 ms: "
              f"{'met' if pages <= 300 else 'NOT met'}")  # fmt: skip
        # Abuse: every request with a random extra parameter (each must be a quick 400).
        busting = _drive(base, urls, arguments.clients, short, expect=400, nonce=True)
        _report("extra parameter (400 each)", *busting, short)
        # Ordinary clients while others bust the cache and hold slow connections open.
        busters: list[tuple[list[float], int]] = []
        slow: list[tuple[int, int]] = []
        attackers = [
            threading.Thread(target=lambda: busters.append(_drive(base, urls, 10, short, 400, nonce=True))),
            threading.Thread(target=lambda: slow.append(_slow_connections(port, 100, short + 15))),
        ]
        for thread in attackers:
            thread.start()
        attacked = _drive(base, urls, arguments.clients, short)
        for thread in attackers:
            thread.join()
        under_attack = _report("pages during the attack", *attacked, short)
        _report("  cache-busting attackers", *busters[0], short)
        closed, held = slow[0]
        print(f"  slow connections closed by the server: {closed} of {closed + held}")
        met = under_attack <= 300 and attacked[1] == 0 and held == 0
        print(f"goal during the attack (p95 <= 300 ms, zero errors, no slow connection held): "
              f"{'met' if met else 'NOT met'}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
