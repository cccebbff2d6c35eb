"""The authorization-code flow by hand, over raw HTTP: one function per request, no SDK client.

Each function does one step a real client would do, so a notebook (02, 07) or a test can
change exactly one thing (a verifier, a redirect URI, a state) and read the server's exact
answer. A step that must succeed for the next one to make sense raises ``UnexpectedAnswer``
with the server's reply when it does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

from labkit import pkce

if TYPE_CHECKING:
    from labkit.lab import Lab

REDIRECT_URI = "http://127.0.0.1/callback"
OTHER_REDIRECT_URI = "http://127.0.0.1/other-callback"
PASSWORDS = {"alice": "alice-reads", "bob": "bob-writes"}
MCP_ACCEPT = "application/json, text/event-stream"


class UnexpectedAnswer(RuntimeError):
    """A step got another answer than the flow needs; the message shows the answer."""


def expect(response: httpx2.Response, status: int) -> httpx2.Response:
    if response.status_code != status:
        raise UnexpectedAnswer(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}, "
            f"expected {status}: {response.text[:300]}"
        )
    return response


def http() -> httpx2.Client:
    """A synchronous client that shows every redirect instead of following it."""
    return httpx2.Client(follow_redirects=False, timeout=10.0)


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL (first value of each)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


@dataclass
class Client:
    """A registered public client (token_endpoint_auth_method=none)."""

    client_id: str
    redirect_uris: list[str]
    info: dict[str, Any]

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]


@dataclass
class Authorization:
    """What came back on the client's redirect URI, plus the PKCE verifier the client kept."""

    client: Client
    verifier: str
    sent_state: str
    location: str
    params: dict[str, str]

    @property
    def code(self) -> str:
        return self.params["code"]


def register(
    lab: Lab,
    c: httpx2.Client,
    *,
    redirect_uris: list[str] | None = None,
    client_name: str = "hand-made client",
) -> Client:
    """RFC 7591 dynamic registration of a public client (expects 201)."""
    uris = redirect_uris or [REDIRECT_URI]
    response = c.post(
        lab.urls.endpoint("/register"),
        json={
            "redirect_uris": uris,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": client_name,
        },
    )
    info = expect(response, 201).json()
    return Client(client_id=info["client_id"], redirect_uris=uris, info=info)


def authorize_params(
    lab: Lab,
    client: Client,
    *,
    challenge: str,
    state: str = "state-123",
    scope: str | None = "notes:read",
    resource: str | None = None,
    redirect_uri: str | None = None,
    **overrides: str | None,
) -> dict[str, str]:
    """The query of an /authorize request; an override of None drops that parameter."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri or client.redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": scope,
        "resource": resource or lab.mcp_url,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def start_authorization(lab: Lab, c: httpx2.Client, params: dict[str, str]) -> httpx2.Response:
    """GET /authorize without following the redirect."""
    return c.get(lab.urls.endpoint("/authorize") + "?" + urlencode(params))


def login_url(lab: Lab, c: httpx2.Client, client: Client, **kwargs: Any) -> tuple[str, str]:
    """Start an authorization; return (login page URL, PKCE verifier). Expects the 302 to /login."""
    verifier = pkce.make_verifier()
    response = start_authorization(
        lab, c, authorize_params(lab, client, challenge=pkce.s256_challenge(verifier), **kwargs)
    )
    location = expect(response, 302).headers["location"]
    if not location.startswith(lab.urls.endpoint("/login?")):
        raise UnexpectedAnswer(f"/authorize redirected to {location}, not to the login page")
    return location, verifier


def authorize(
    lab: Lab,
    c: httpx2.Client,
    client: Client,
    *,
    user: str = "bob",
    state: str = "state-123",
    **kwargs: Any,
) -> Authorization:
    """The whole front channel: /authorize, sign in as ``user``, read code/state/iss from the 302."""
    page, verifier = login_url(lab, c, client, state=state, **kwargs)
    response = c.post(page, data={"username": user, "password": PASSWORDS[user]})
    location = expect(response, 302).headers["location"]
    return Authorization(client, verifier, state, location, query_of(location))


def exchange(
    lab: Lab,
    c: httpx2.Client,
    auth: Authorization,
    *,
    verifier: str | None = None,
    redirect_uri: str | None = None,
    client_id: str | None = None,
    resource: str | None = None,
) -> httpx2.Response:
    """POST /token with grant_type=authorization_code (form-encoded, as RFC 6749 §4.1.3 says)."""
    data = {
        "grant_type": "authorization_code",
        "code": auth.code,
        "redirect_uri": redirect_uri or auth.client.redirect_uri,
        "client_id": client_id or auth.client.client_id,
        "code_verifier": verifier or auth.verifier,
    }
    if resource is not None:
        data["resource"] = resource  # RFC 8707 §2.2: the resource the token is for
    return c.post(lab.urls.endpoint("/token"), data=data)


def refresh(lab: Lab, c: httpx2.Client, client: Client, refresh_token: str) -> httpx2.Response:
    """POST /token with grant_type=refresh_token."""
    return c.post(
        lab.urls.endpoint("/token"),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id},
    )


def tokens_for(lab: Lab, c: httpx2.Client, *, user: str = "bob", scope: str = "notes:read") -> tuple[Client, dict]:
    """Register, sign in as ``user`` and exchange the code: (client, token response JSON)."""
    client = register(lab, c)
    auth = authorize(lab, c, client, user=user, scope=scope)
    return client, expect(exchange(lab, c, auth), 200).json()


def introspect(lab: Lab, c: httpx2.Client, token: str) -> dict[str, Any]:
    """Ask /introspect as the main resource server would (HTTP Basic; expects 200)."""
    creds = lab.verifier.credentials
    response = c.post(
        lab.urls.endpoint("/introspect"),
        data={"token": token},
        auth=httpx2.BasicAuth(creds.client_id, creds.client_secret),
    )
    return expect(response, 200).json()


def initialize_body(request_id: int = 1) -> dict[str, Any]:
    """A JSON-RPC ``initialize`` request, the first message of every MCP session."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "labkit manual", "version": "0"},
        },
    }


def mcp_post(
    c: httpx2.Client, url: str, token: str | None, body: Any = None, *, raw: bytes | None = None
) -> httpx2.Response:
    """POST one JSON-RPC message to an MCP endpoint with a bearer token (``initialize`` by default)."""
    headers = {"Accept": MCP_ACCEPT, "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = raw if raw is not None else json.dumps(body if body is not None else initialize_body()).encode()
    response = c.post(url, headers=headers, content=content)
    session = response.headers.get("mcp-session-id")
    if session and token is not None:  # end the session we opened so the server does not keep it
        c.delete(url, headers={"Authorization": f"Bearer {token}", "Mcp-Session-Id": session})
    return response


def revoke(lab: Lab, c: httpx2.Client, client_id: str, token: str) -> httpx2.Response:
    """POST /revoke as a public client: ``token`` and ``client_id`` only (RFC 7009 §2.1)."""
    return c.post(lab.urls.endpoint("/revoke"), data={"token": token, "client_id": client_id})
