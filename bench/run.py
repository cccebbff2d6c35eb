"""Benchmark labkit: lab start-up, one full OAuth flow, and what auth adds to a tool call."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import labkit
from labkit.lab import Lab

DEFAULT_RUNS = 7
MIN_RUNS = 5
WARMUP_CALLS = 5
TIMED_CALLS = 30
RUN_TIMEOUT = 60.0  # seconds for any one asyncio.run below: a hung request fails the run, never blocks it
USER, PASSWORD = "bob", "bob-writes"

# metric -> (target for the median, unit), shown only in the human table; nothing is asserted.
TARGETS: dict[str, tuple[float, str]] = {"ready_ms": (150.0, "ms"), "flow_ms": (60.0, "ms"), "call_ratio": (1.5, "x")}

Summary = dict[str, float]


def summarize(values: Sequence[float], digits: int) -> Summary:
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def probe(url: str) -> None:
    """One plain GET (no proxy, no client library): the server must answer with some HTTP status."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    try:
        conn.request("GET", parts.path or "/")
        conn.getresponse().read()
    finally:
        conn.close()


# -- ready_ms ---------------------------------------------------------------------------


def measure_ready(runs: int) -> tuple[list[float], Lab]:
    """Start a fresh lab ``runs`` times; only ``labkit.start()`` is timed. Returns the last lab, running."""
    labkit.stop()  # start() would hand back a running lab instead of starting one
    times: list[float] = []
    previous: Lab | None = None
    for _ in range(runs):
        if previous is not None:
            previous.stop()  # untimed; stop() also clears labkit.current()
        started = time.perf_counter()
        lab = labkit.start()
        times.append(ms_since(started))
        if lab is previous or not lab.running:
            raise RuntimeError("labkit.start() did not start a fresh, running lab")
        probe(lab.urls.as_metadata)  # untimed: both servers really answer HTTP
        probe(lab.urls.resource_metadata)
        previous = lab
    assert previous is not None
    return times, previous


# -- flow_ms ----------------------------------------------------------------------------


async def timed_flow(lab: Lab) -> float:
    """A new client from the first unauthenticated request to the first tool result, in ms."""
    login = labkit.AutoLogin(USER, PASSWORD)
    oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock, storage=labkit.InMemoryTokenStorage())
    async with asyncio.timeout(RUN_TIMEOUT):
        started = time.perf_counter()
        async with labkit.connect(lab.mcp_url, oauth) as client:
            result = await client.call_tool("whoami", {})
            elapsed = ms_since(started)  # the session's teardown is not part of the flow
    who = result.structured_content or {}
    if who.get("subject") != USER or login.logins != 1:
        raise RuntimeError(f"the flow did not sign in as {USER}: {who!r}, {login.logins} logins")
    return elapsed


def measure_flows(lab: Lab, runs: int) -> list[float]:
    # Untimed warm-up: the first tool call of a process imports jsonschema lazily (about 1 s,
    # to validate structured output), and the first request to a fresh lab makes the verifier's
    # HTTP client. Neither is the cost of a flow, so one whole flow absorbs both first.
    lab.reset()
    asyncio.run(timed_flow(lab))
    times: list[float] = []
    for _ in range(runs):
        lab.reset()  # no client, no token: the next flow must discover, register and log in
        times.append(asyncio.run(timed_flow(lab)))
    return times


# -- call_ratio -------------------------------------------------------------------------


async def timed_calls(lab: Lab, open_url: str) -> tuple[float, float]:
    """Median ms of ``whoami`` on a connected protected session and on the open server, interleaved."""
    login = labkit.AutoLogin(USER, PASSWORD)
    oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock, storage=labkit.InMemoryTokenStorage())
    protected_ms: list[float] = []
    open_ms: list[float] = []
    async with asyncio.timeout(RUN_TIMEOUT):
        async with labkit.connect(lab.mcp_url, oauth) as protected, labkit.connect(open_url) as unprotected:
            for i in range(WARMUP_CALLS + TIMED_CALLS):
                # Alternate the two servers so that any drift (GC, CPU frequency) hits both alike.
                for client, sink in ((protected, protected_ms), (unprotected, open_ms)):
                    started = time.perf_counter()
                    await client.call_tool("whoami", {})
                    if i >= WARMUP_CALLS:
                        sink.append(ms_since(started))
    if login.logins != 1:
        raise RuntimeError(f"expected one login for the protected session, saw {login.logins}")
    return statistics.median(protected_ms), statistics.median(open_ms)


def measure_calls(lab: Lab, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Per run: protected median, open median and their ratio."""
    open_url = lab.open_server_url()  # started on first use, outside any timing
    protected: list[float] = []
    unprotected: list[float] = []
    ratios: list[float] = []
    for _ in range(runs):
        lab.reset()
        p, o = asyncio.run(timed_calls(lab, open_url))
        protected.append(p)
        unprotected.append(o)
        ratios.append(p / o)
    return protected, unprotected, ratios


# -- report -----------------------------------------------------------------------------


def human_table(report: dict[str, Any], protected: Sequence[float], unprotected: Sequence[float]) -> str:
    lines = [
        f"labkit benchmark: {report['runs']} runs, Python {report['python']}, mcp {report['mcp']}, "
        f"{report['cores']} cores",
        "",
        f"{'metric':<12}{'min':>9}{'median':>9}{'max':>9}   {'target (median)':<17}",
    ]
    for name, (target, unit) in TARGETS.items():
        s = report[name]
        verdict = "ok" if s["median"] < target else "over"
        cells = "".join(f"{s[k]:>9.{2 if unit == 'x' else 1}f}" for k in ("min", "median", "max"))
        lines.append(f"{name:<12}{cells}   {f'< {target:g} {unit}':<17}{verdict}")
    lines += [
        "",
        f"whoami call, median of run medians: protected {statistics.median(protected):.2f} ms, "
        f"open {statistics.median(unprotected):.2f} ms ({WARMUP_CALLS} warm-up + {TIMED_CALLS} timed calls per run)",
    ]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"runs per metric (at least {MIN_RUNS})")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="introspect on every request (verifier cache off): the cost the cache saves",
    )
    args = parser.parse_args(argv)
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")

    # Anything a library might print goes to stderr, so that --json leaves exactly one object on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        ready, lab = measure_ready(args.runs)
        if args.no_cache:
            # Lab.reset() restores the verifier's default cache, so keep it off after every reset.
            original_reset = lab.reset

            def reset_without_cache() -> None:
                original_reset()
                lab.verifier.cache_seconds = 0

            lab.reset = reset_without_cache  # type: ignore[method-assign]
            lab.reset()
        try:
            flows = measure_flows(lab, args.runs)
            protected, unprotected, ratios = measure_calls(lab, args.runs)
        finally:
            lab.stop()

    report: dict[str, Any] = {
        "ready_ms": summarize(ready, 1),
        "flow_ms": summarize(flows, 1),
        "call_ratio": summarize(ratios, 2),
        "runs": args.runs,
        "python": platform.python_version(),
        "mcp": importlib.metadata.version("mcp"),
        "cores": os.cpu_count(),
        "verifier_cache_seconds": lab.verifier.cache_seconds,
    }
    print(json.dumps(report) if args.json else human_table(report, protected, unprotected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
