"""Checks for notebook 01 (the MCP server)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import httpx2

from labkit.exercises import NotAttempted, Verdict, call, not_attempted, right, wrong
from labkit.lab import Lab
from labkit.manual import MCP_ACCEPT, initialize_body


def check_discover_issuer(fn: Callable[[str], str], lab: Lab) -> Verdict:
    """From a 401's ``WWW-Authenticate`` to the issuer: ``resource_metadata`` → ``authorization_servers[0]``."""
    if inspect.iscoroutinefunction(fn):
        return wrong("make discover_issuer a plain `def` (use httpx2.get, not an async client)")
    try:
        answer = httpx2.post(lab.mcp_url, json=initialize_body(), headers={"Accept": MCP_ACCEPT})
    except httpx2.HTTPError as exc:
        return wrong(f"could not reach the lab's MCP server ({exc!r}); run the notebook from the top")
    header = answer.headers.get("www-authenticate", "")
    metadata_url = lab.urls.resource_metadata
    cases = [
        ("the header the server sends", header),
        ("resource_metadata first", f'Bearer resource_metadata="{metadata_url}", error="invalid_token"'),
        ("a scope parameter before it", f'Bearer scope="notes:read", resource_metadata="{metadata_url}"'),
    ]
    for label, value in cases:
        try:
            result = call(fn, value)
        except NotAttempted:
            return not_attempted("discover_issuer")
        except Exception as exc:  # the learner's code: report, never raise
            return wrong(f"with {label}, discover_issuer raised {type(exc).__name__}: {exc}")
        if result == lab.issuer_url:
            continue
        bare = result.strip('"') if isinstance(result, str) else result
        if bare == metadata_url:
            return wrong("that is the metadata URL; fetch it and return its first authorization_servers entry")
        if isinstance(result, list):
            return wrong("return one issuer (a string): the first entry of authorization_servers")
        if bare == lab.issuer_url:
            return wrong("close: drop the quotes around the value")
        if isinstance(result, str) and result.rstrip("/") == lab.issuer_url:
            return wrong("an issuer is compared as an exact string (RFC 8414 §3.3): no trailing slash")
        return wrong(f"with {label}, expected the issuer {lab.issuer_url}, got {result!r}")
    return right(
        "401 → resource_metadata → authorization_servers. A client needs nothing but the MCP URL; "
        "this is the first thing the SDK's OAuthClientProvider does (notebook 04)."
    )
