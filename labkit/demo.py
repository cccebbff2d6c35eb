"""The whole OAuth flow, headless, as a list of checked steps: what ``python -m labkit demo`` shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labkit.autologin import AutoLogin
from labkit.client import connect, oauth_client
from labkit.http import async_client
from labkit.lab import Lab
from labkit.storage import InMemoryTokenStorage
from labkit.trace import Exchange, Trace

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@dataclass(frozen=True)
class Expectation:
    """A step of the flow: which request it is and what status it must get."""

    title: str
    why: str
    matches: Callable[[Exchange], bool]
    status: int


@dataclass
class Step:
    title: str
    why: str
    expected_status: int
    exchange: Exchange | None

    @property
    def ok(self) -> bool:
        return self.exchange is not None and self.exchange.status == self.expected_status

    def to_dict(self) -> dict[str, Any]:
        e = self.exchange
        return {
            "step": self.title,
            "method": e.method if e else None,
            "url": e.url if e else None,
            "status": e.status if e else None,
            "expected_status": self.expected_status,
            "ok": self.ok,
        }


@dataclass
class DemoReport:
    steps: list[Step]
    results: dict[str, Any] = field(default_factory=dict)
    trace: Trace = field(default_factory=Trace)
    checks: dict[str, bool] = field(default_factory=dict)  # facts about the whole flow
    resumed: bool = False  # the tokens came from a storage file: no login expected

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps) and all(self.checks.values())


def _is(method: str, path: str, **form: str) -> Callable[[Exchange], bool]:
    def match(e: Exchange) -> bool:
        return e.method == method and e.path == path and all(e.request_form.get(k) == v for k, v in form.items())

    return match


def _mcp(rpc_method: str | None) -> Callable[[Exchange], bool]:
    return lambda e: e.method == "POST" and e.path == "/mcp" and (rpc_method is None or e.mcp_method == rpc_method)


EXPECTED = [
    Expectation("Unauthenticated MCP request", "no token yet: 401 names the metadata", _mcp(None), 401),
    Expectation(
        "Protected-resource metadata (RFC 9728)",
        "which authorization server guards /mcp",
        _is("GET", "/.well-known/oauth-protected-resource/mcp"),
        200,
    ),
    Expectation(
        "Authorization-server metadata (RFC 8414)",
        "where to register, authorize, get tokens",
        _is("GET", "/.well-known/oauth-authorization-server"),
        200,
    ),
    Expectation("Dynamic client registration (RFC 7591)", "the client gets a client_id", _is("POST", "/register"), 201),
    Expectation(
        "Authorization request with PKCE (S256)",
        "provider.authorize sends the user to the login page",
        _is("GET", "/authorize"),
        302,
    ),
    Expectation("Login (credentials POSTed)", "the redirect carries code, state and iss", _is("POST", "/login"), 302),
    Expectation(
        "Token request (authorization_code + code_verifier)",
        "code and verifier become tokens",
        _is("POST", "/token", grant_type="authorization_code"),
        200,
    ),
    Expectation("Authenticated tool call", "the bearer token is accepted", _mcp("tools/call"), 200),
    Expectation(
        "Refresh (the client renews an expired token)",
        "lab clock moved past expiry; a new pair, the old refresh token is spent",
        _is("POST", "/token", grant_type="refresh_token"),
        200,
    ),
    Expectation("Tool call with the renewed token", "the new access token works", _mcp("tools/call"), 200),
    Expectation("Revocation (RFC 7009)", "the client gives its token back", _is("POST", "/revoke"), 200),
    Expectation("Request with the revoked token", "the server validates and answers 401", _mcp("ping"), 401),
]


RESUMED = [
    Expectation(
        "Tool call with the stored token", "no login: the token from the file is accepted", _mcp("tools/call"), 200
    ),
    *EXPECTED[8:10],
]


def match_steps(trace: Trace, expected: list[Expectation] = EXPECTED) -> list[Step]:
    """Walk the trace in order and pick, for each expectation, the next exchange that matches it."""
    steps: list[Step] = []
    position = 0
    for exp in expected:
        found = None
        for index in range(position, len(trace.exchanges)):
            if exp.matches(trace.exchanges[index]):
                found, position = trace.exchanges[index], index + 1
                break
        steps.append(Step(exp.title, exp.why, exp.status, found))
    return steps


async def run_demo(
    lab: Lab,
    *,
    storage: InMemoryTokenStorage | None = None,
    revoke: bool = True,
    username: str = "bob",
    password: str = "bob-writes",
) -> DemoReport:
    """Run the flow against ``lab`` with the SDK's client; every request lands in the report's trace.

    With a ``storage`` that already holds tokens the client resumes without a login.
    ``revoke=False`` leaves the tokens alive (for the next run that reuses the storage).
    """
    trace = Trace()
    lab.verifier.trace = trace  # the resource server's introspection calls, too
    resumed = storage is not None and storage.tokens is not None
    storage = storage if storage is not None else InMemoryTokenStorage()
    login = AutoLogin(username, password, event_hooks=trace.hooks)
    oauth = oauth_client(lab.mcp_url, login, storage=storage, clock=lab.clock, client_name="labkit demo")
    results: dict[str, Any] = {}
    try:
        async with connect(lab.mcp_url, oauth, trace=trace) as client:
            results["whoami"] = (await client.call_tool("whoami", {})).structured_content
            first_token = storage.tokens.access_token if storage.tokens else None
            # Move the lab's clock past the access token's life: the client notices before its
            # next request and refreshes by itself. The server would only have said 401.
            lab.clock.advance(lab.provider.settings.access_token_ttl + 1)
            results["notes"] = (await client.call_tool("list_notes", {})).structured_content
            results["refreshed"] = bool(storage.tokens and storage.tokens.access_token != first_token)
    finally:
        lab.verifier.trace = None
    assert storage.tokens is not None and storage.client_info is not None
    if revoke:
        token = storage.tokens.access_token
        async with async_client(event_hooks=trace.hooks) as http:
            await http.post(
                lab.urls.endpoint("/revoke"),
                data={"token": token, "token_type_hint": "access_token", "client_id": storage.client_info.client_id},
            )
            await http.post(lab.mcp_url, json=PING, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"})
    expected = RESUMED if resumed else (EXPECTED if revoke else EXPECTED[:10])
    checks = {"the client renewed its token by itself": bool(results.get("refreshed"))}
    if resumed:
        checks["no login: the trace has no /authorize request"] = all(e.path != "/authorize" for e in trace.exchanges)
    return DemoReport(steps=match_steps(trace, expected), results=results, trace=trace, checks=checks, resumed=resumed)
