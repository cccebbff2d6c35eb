"""Checks for notebook 05 (token storage)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from typing import Any

from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from labkit.autologin import AutoLogin
from labkit.client import connect, oauth_client
from labkit.errors import innermost
from labkit.exercises import NotAttempted, Verdict, acall, not_attempted, right, wrong
from labkit.lab import Lab
from labkit.trace import Trace

METHODS = ("get_tokens", "set_tokens", "get_client_info", "set_client_info")
PROBE_TOKENS = OAuthToken(access_token="at_probe", token_type="Bearer", expires_in=300, refresh_token="rt_probe")
PROBE_CLIENT = OAuthClientInformationFull(client_id="probe-client", redirect_uris=[AnyUrl("http://127.0.0.1/callback")])


class _Failed(Exception):
    """The learner's storage did something the check can name; the message says what."""


def check_token_storage(storage_class: Any, lab: Lab) -> Verdict:
    """Sign in with a fresh ``storage_class()``, then connect a second client with the same object.

    The second client must find the tokens and the registration there: no login, no
    registration. Runs the flows on a worker thread's event loop, so the check cell stays a
    plain call.
    """
    if storage_class is None:
        return not_attempted("MyTokenStorage")
    missing = [m for m in METHODS if not callable(getattr(storage_class, m, None))]
    if missing:
        return wrong(f"MyTokenStorage has no method {', '.join(missing)}; the SDK calls all four.")
    not_async = [m for m in METHODS if not inspect.iscoroutinefunction(getattr(storage_class, m))]
    if not_async:
        return wrong(f"{', '.join(not_async)} must be `async def`: the SDK awaits every method of the storage.")
    try:
        make = storage_class if isinstance(storage_class, type) else type(storage_class)
        make()
    except TypeError as exc:
        return wrong(f"the check creates it as MyTokenStorage() and that failed ({exc}); give __init__ no arguments.")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, _check(make, lab)).result(timeout=60)
    except NotAttempted:
        return not_attempted("MyTokenStorage (its methods still raise NotImplementedError)")
    except _Failed as failure:
        return wrong(str(failure))


async def _check(make: type, lab: Lab) -> Verdict:
    await _probe(make())
    storage = make()
    first = AutoLogin("bob", "bob-writes")
    await _whoami(lab, storage, first, Trace(), "the first connection")
    tokens = await storage.get_tokens()
    if not isinstance(tokens, OAuthToken) or tokens.access_token not in lab.provider.access_tokens:
        raise _Failed("after signing in, get_tokens() does not return the token the server issued.")
    info = await storage.get_client_info()
    if not isinstance(info, OAuthClientInformationFull) or info.client_id not in lab.provider.clients:
        raise _Failed("after signing in, get_client_info() does not return the client's registration.")

    second = AutoLogin("bob", "bob-writes")
    trace = Trace()
    await _whoami(lab, storage, second, trace, "the second connection")
    paths = [e.path for e in trace.exchanges]
    if "/register" in paths:
        raise _Failed("the second client registered again: get_client_info() did not give back the registration.")
    if second.logins or "/authorize" in paths:
        raise _Failed("the second client had to sign in: get_tokens() did not give back the stored tokens.")
    return right(
        f"the first client signed in once and stored its tokens; the second found them: {len(paths)} requests, "
        "all to the MCP server, no registration, no login."
    )


async def _probe(storage: Any) -> None:
    """Each method once, with made-up values, before any network: clear messages for simple mistakes."""
    unfinished = []
    for name, args in (
        ("set_tokens", (PROBE_TOKENS,)),
        ("get_tokens", ()),
        ("set_client_info", (PROBE_CLIENT,)),
        ("get_client_info", ()),
    ):
        try:
            await acall(getattr(storage, name), *args)
        except NotAttempted:
            unfinished.append(name)
        except Exception as exc:
            raise _Failed(f"{name} raised {type(exc).__name__}: {exc}") from None
    if len(unfinished) == len(METHODS):
        raise NotAttempted
    if unfinished:
        raise _Failed(f"{', '.join(unfinished)} still raise NotImplementedError (or return `...`).")
    if await storage.get_tokens() != PROBE_TOKENS:
        raise _Failed("get_tokens() does not return what set_tokens() was given.")
    if await storage.get_client_info() != PROBE_CLIENT:
        raise _Failed("get_client_info() does not return what set_client_info() was given.")


async def _whoami(lab: Lab, storage: Any, login: AutoLogin, trace: Trace, which: str) -> None:
    oauth = oauth_client(lab.mcp_url, login, storage=storage, clock=lab.clock, client_name="nb05 check")
    try:
        async with connect(lab.mcp_url, oauth, trace=trace) as client:
            await client.call_tool("whoami", {})
    except BaseException as exc:  # anyio wraps errors in exception groups; name the innermost one
        leaf = innermost(exc)
        if isinstance(leaf, (KeyboardInterrupt, SystemExit)):
            raise
        raise _Failed(f"{which} failed: {type(leaf).__name__}: {leaf}") from None
