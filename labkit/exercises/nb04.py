"""Checks for notebook 04 (client)."""

from __future__ import annotations

from typing import Any

from labkit import errors
from labkit.client import connect, oauth_client
from labkit.exercises import Verdict, not_attempted, right, wrong
from labkit.lab import Lab


async def check_login_strategy(lab: Lab, strategy: Any) -> Verdict:
    """Connect with the learner's strategy: it must sign in as bob without a person."""
    if not isinstance(getattr(strategy, "redirect_uri", None), str):
        return wrong("the class needs a redirect_uri attribute (a string), registered with the client")
    try:
        async with connect(lab.mcp_url, oauth_client(lab.mcp_url, strategy, clock=lab.clock)) as client:
            who = (await client.call_tool("whoami", {})).structured_content or {}
    except Exception as exc:  # the SDK wraps failures in exception groups
        leaves = errors.leaves(exc)
        if any(isinstance(e, NotImplementedError) for e in leaves):
            return not_attempted("MyLogin.redirect_handler / callback_handler")
        leaf = leaves[-1]
        return wrong(f"the flow stopped with {type(leaf).__name__}: {str(leaf)[:200]}")
    if who.get("subject") != "bob":
        return wrong(f"the flow worked, but as {who.get('subject')!r}: sign in as bob")
    return right("your strategy signed in as bob: GET without following, POST to Location, read the code.")
