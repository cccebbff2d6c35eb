"""Check cells for the notebooks' exercises: each prints one line that says right, not yet, or not attempted.

A check never raises, so "Run All" goes on past an unfinished exercise. Its line starts
with a symbol the tests look for: ``✓`` right, ``✗`` not yet (and why), ``…`` not attempted.
One module per notebook holds that notebook's checks (``labkit.exercises.nb02`` and so on).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

RIGHT, WRONG, NOT_ATTEMPTED = "✓", "✗", "…"


@dataclass(frozen=True)
class Verdict:
    symbol: str
    message: str

    @property
    def ok(self) -> bool:
        return self.symbol == RIGHT

    def __str__(self) -> str:
        return f"{self.symbol} {self.message}"

    __repr__ = __str__  # the check cell's last line shows it, once


class NotAttempted(Exception):
    """The learner's function still raises NotImplementedError (or is ``...``)."""


def say(verdict: Verdict) -> Verdict:
    return verdict


def right(message: str) -> Verdict:
    return say(Verdict(RIGHT, f"Right: {message}"))


def wrong(message: str) -> Verdict:
    return say(Verdict(WRONG, f"Not yet: {message}"))


def not_attempted(what: str) -> Verdict:
    return say(Verdict(NOT_ATTEMPTED, f"Not attempted yet: {what} (fill in the cell above, then run this one again)"))


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; NotImplementedError (or an unfilled ``...`` body) means not attempted."""
    try:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = _run(result)
    except NotImplementedError:
        raise NotAttempted from None
    if result is Ellipsis:
        raise NotAttempted
    return result


async def acall(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call`` for async functions, inside a running loop (a notebook cell)."""
    try:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
    except NotImplementedError:
        raise NotAttempted from None
    if result is Ellipsis:
        raise NotAttempted
    return result


def _run(awaitable: Awaitable[Any]) -> Any:
    """Run a coroutine to the end from sync code, even inside a notebook cell's running loop."""

    async def wrap() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrap())
    # A loop runs in this thread (a notebook cell): give the coroutine a thread and loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrap()).result()
