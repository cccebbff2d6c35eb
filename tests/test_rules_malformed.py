"""Rule 19: malformed requests to every endpoint get a 4xx, never a 5xx, and an error body of the right kind.

OAuth endpoints answer JSON with an ``error`` field (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 7662 §2.3);
the login page answers HTML; the MCP endpoint answers a JSON-RPC error object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import httpx2
import pytest

from labkit import manual as hf
from labkit.lab import Lab

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
MULTIPART_NO_BOUNDARY = {"Content-Type": "multipart/form-data"}
DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 kB: under every body limit, over every recursion limit


@dataclass
class Ctx:
    """What a case may need: the lab, an HTTP client, a registered public client and a valid token."""

    lab: Lab
    c: httpx2.Client
    client_id: str
    access_token: str

    def url(self, path: str) -> str:
        return self.lab.urls.endpoint(path)

    @property
    def rs_auth(self) -> httpx2.BasicAuth:
        creds = self.lab.verifier.credentials
        return httpx2.BasicAuth(creds.client_id, creds.client_secret)

    def registration(self, **fields: object) -> dict[str, object]:
        return {"redirect_uris": [hf.REDIRECT_URI], "token_endpoint_auth_method": "none", **fields}

    def mcp(self, content: bytes, content_type: str = "application/json") -> httpx2.Response:
        headers = {
            "Authorization": f"Bearer {self.access_token}",
            "Accept": hf.MCP_ACCEPT,
            "Content-Type": content_type,
        }
        return self.c.post(self.lab.mcp_url, headers=headers, content=content)


Kind = Literal["oauth", "html", "mcp", "bare"]


@dataclass(frozen=True)
class Case:
    send: Callable[[Ctx], httpx2.Response]
    kind: Kind
    status: int
    error: str | int | None = None  # OAuth ``error`` string, or JSON-RPC error code for the MCP endpoint


def case(
    case_id: str, send: Callable[[Ctx], httpx2.Response], kind: Kind, status: int, error: str | int | None = None
) -> object:
    return pytest.param(Case(send, kind, status, error), id=case_id)


CASES = [
    # /register (RFC 7591 §3.2.2): invalid_client_metadata
    case(
        "register-not-json",
        lambda x: x.c.post(x.url("/register"), content=b"not json", headers=JSON),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    case(
        "register-json-array",
        lambda x: x.c.post(x.url("/register"), content=b"[]", headers=JSON),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    case("register-empty", lambda x: x.c.post(x.url("/register")), "oauth", 400, "invalid_client_metadata"),
    case(
        "register-binary",
        lambda x: x.c.post(x.url("/register"), content=b"\xff\xfe\x00\x01"),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    case(
        "register-deep-nesting",
        lambda x: x.c.post(x.url("/register"), content=DEEP, headers=JSON),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    case(
        "register-redirect-uris-not-a-list",
        lambda x: x.c.post(x.url("/register"), json=x.registration(redirect_uris=hf.REDIRECT_URI)),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    case(
        "register-redirect-uri-not-a-url",
        lambda x: x.c.post(x.url("/register"), json=x.registration(redirect_uris=["::::"])),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    # The SDK's body limit (4 MiB) answers before any handler, with a plain-text 413.
    case(
        "register-5MiB-body",
        lambda x: x.c.post(x.url("/register"), content=b"x" * (5 * 1024 * 1024), headers=JSON),
        "bare",
        413,
    ),
    case(
        "register-1MiB-client-name",
        lambda x: x.c.post(x.url("/register"), json=x.registration(client_name="n" * 2**20)),
        "oauth",
        400,
        "invalid_client_metadata",
    ),
    case(
        "register-1MiB-redirect-uri",
        lambda x: x.c.post(x.url("/register"), json=x.registration(redirect_uris=[hf.REDIRECT_URI + "a" * 2**20])),
        "oauth",
        400,
        "invalid_redirect_uri",
    ),
    # /token (RFC 6749 §5.2)
    case(
        "token-json-instead-of-form",
        lambda x: x.c.post(x.url("/token"), json={"grant_type": "authorization_code", "client_id": x.client_id}),
        "oauth",
        401,
        "invalid_client",
    ),
    case(
        "token-missing-grant-type",
        lambda x: x.c.post(x.url("/token"), data={"client_id": x.client_id}),
        "oauth",
        400,
        "invalid_request",
    ),
    # RFC 6749 §5.2 would say unsupported_grant_type; the SDK's discriminated union says invalid_request.
    case(
        "token-unknown-grant-type",
        lambda x: x.c.post(x.url("/token"), data={"client_id": x.client_id, "grant_type": "password"}),
        "oauth",
        400,
        "invalid_request",
    ),
    case(
        "token-garbage",
        lambda x: x.c.post(x.url("/token"), content=b"\xff\xfe%%%&&==\x00", headers=FORM),
        "oauth",
        401,
        "invalid_client",
    ),
    case(
        "token-unknown-client",
        lambda x: x.c.post(x.url("/token"), data={"client_id": "nobody", "grant_type": "refresh_token"}),
        "oauth",
        401,
        "invalid_client",
    ),
    case(
        "token-redirect-uri-not-a-url",
        lambda x: x.c.post(
            x.url("/token"),
            data={
                "client_id": x.client_id,
                "grant_type": "authorization_code",
                "code": "c",
                "code_verifier": "v",
                "redirect_uri": "::::",
            },
        ),
        "oauth",
        400,
        "invalid_request",
    ),
    case(
        "token-huge-code",
        lambda x: x.c.post(
            x.url("/token"),
            data={
                "client_id": x.client_id,
                "grant_type": "authorization_code",
                "code": "c" * 100_000,
                "code_verifier": "v" * 43,
                "redirect_uri": hf.REDIRECT_URI,
            },
        ),
        "oauth",
        400,
        "invalid_grant",
    ),
    case(
        "token-multipart-without-boundary",
        lambda x: x.c.post(x.url("/token"), content=b"--x", headers=MULTIPART_NO_BOUNDARY),
        "oauth",
        400,
        "invalid_request",
    ),
    # /revoke (RFC 7009 §2.2.1); the SDK names a failed client authentication unauthorized_client.
    case("revoke-empty", lambda x: x.c.post(x.url("/revoke")), "oauth", 401, "unauthorized_client"),
    case(
        "revoke-no-token",
        lambda x: x.c.post(x.url("/revoke"), data={"client_id": x.client_id, "client_secret": ""}),
        "oauth",
        400,
        "invalid_request",
    ),
    case(
        "revoke-bad-hint",
        lambda x: x.c.post(
            x.url("/revoke"),
            data={"client_id": x.client_id, "client_secret": "", "token": "t", "token_type_hint": "id_token"},
        ),
        "oauth",
        400,
        "invalid_request",
    ),
    case(
        "revoke-multipart-without-boundary",
        lambda x: x.c.post(x.url("/revoke"), content=b"--x", headers=MULTIPART_NO_BOUNDARY),
        "oauth",
        400,
        "invalid_request",
    ),
    # /authorize (RFC 6749 §4.1.2.1): without a valid client and redirect URI, a JSON 400, no redirect
    case("authorize-get-no-params", lambda x: x.c.get(x.url("/authorize")), "oauth", 400, "invalid_request"),
    case("authorize-post-no-params", lambda x: x.c.post(x.url("/authorize"), data={}), "oauth", 400, "invalid_request"),
    case(
        "authorize-unknown-client",
        lambda x: x.c.get(x.url("/authorize?client_id=nobody&response_type=code&code_challenge=x")),
        "oauth",
        400,
        "invalid_request",
    ),
    # The SDK's catch-all answers this one 400 with error=server_error (not pinned here).
    case(
        "authorize-post-multipart-without-boundary",
        lambda x: x.c.post(x.url("/authorize"), content=b"--x", headers=MULTIPART_NO_BOUNDARY),
        "oauth",
        400,
    ),
    # /login: an HTML page, never a redirect
    case("login-get-without-request-id", lambda x: x.c.get(x.url("/login")), "html", 400),
    case("login-get-unknown-request-id", lambda x: x.c.get(x.url("/login?request=nope")), "html", 400),
    case(
        "login-post-json",
        lambda x: x.c.post(x.url("/login"), json={"username": "bob", "password": "bob-writes"}),
        "html",
        400,
    ),
    case(
        "login-post-unknown-request-id",
        lambda x: x.c.post(x.url("/login"), data={"request": "nope", "username": "bob", "password": "bob-writes"}),
        "html",
        400,
    ),
    case(
        "login-post-multipart-without-boundary",
        lambda x: x.c.post(x.url("/login?request=nope"), content=b"--x", headers=MULTIPART_NO_BOUNDARY),
        "html",
        400,
    ),
    case(
        "login-post-file-fields",
        lambda x: x.c.post(x.url("/login"), files={"request": ("r", b"x"), "username": ("u", b"bob")}),
        "html",
        400,
    ),
    # /introspect (RFC 7662 §2.3), with good resource-server credentials
    case(
        "introspect-garbage",
        lambda x: x.c.post(x.url("/introspect"), content=b"\xff\x00garbage", headers=FORM, auth=x.rs_auth),
        "oauth",
        400,
        "invalid_request",
    ),
    case(
        "introspect-json",
        lambda x: x.c.post(x.url("/introspect"), json={"token": x.access_token}, auth=x.rs_auth),
        "oauth",
        400,
        "invalid_request",
    ),
    case(
        "introspect-multipart-without-boundary",
        lambda x: x.c.post(x.url("/introspect"), content=b"--x", headers=MULTIPART_NO_BOUNDARY, auth=x.rs_auth),
        "oauth",
        400,
        "invalid_request",
    ),
    # The MCP endpoint, with a valid token: JSON-RPC errors (-32700 parse error, -32602 invalid params)
    case("mcp-garbage", lambda x: x.mcp(b"garbage"), "mcp", 400, -32700),
    case("mcp-empty", lambda x: x.mcp(b""), "mcp", 400, -32700),
    case("mcp-invalid-utf8", lambda x: x.mcp(b'{"jsonrpc":"2.0","id":1,"method":"\xff"}'), "mcp", 400, -32700),
    case("mcp-json-but-not-jsonrpc", lambda x: x.mcp(json.dumps({"hello": "world"}).encode()), "mcp", 400, -32602),
    # The SDK's transport-security check answers this one in plain text, before the JSON-RPC layer.
    case("mcp-wrong-content-type", lambda x: x.mcp(b"garbage", "text/plain"), "bare", 400),
    case("mcp-deep-nesting", lambda x: x.mcp(DEEP), "mcp", 400, -32700),
]


@pytest.fixture
def ctx(lab: Lab) -> Iterator[Ctx]:
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        yield Ctx(lab, c, client.client_id, tokens["access_token"])


@pytest.mark.parametrize("bad", CASES)
def test_malformed_request_gets_a_clean_4xx(ctx: Ctx, bad: Case) -> None:
    """Rule 19 (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 7662 §2.3, JSON-RPC 2.0 §5.1): 4xx with a proper error body."""
    response = bad.send(ctx)
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:200]}"
    assert response.status_code == bad.status, response.text[:300]
    assert "location" not in response.headers
    content_type = response.headers.get("content-type", "")
    if bad.kind == "oauth":
        assert content_type.startswith("application/json"), content_type
        body = response.json()
        assert isinstance(body.get("error"), str)
        if bad.error is not None:
            assert body["error"] == bad.error, body
    elif bad.kind == "html":
        assert content_type.startswith("text/html")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "<form" not in response.text  # no sign-in form for a request that does not exist
    elif bad.kind == "mcp":
        body = response.json()
        assert body["jsonrpc"] == "2.0"
        if bad.error is not None:
            assert body["error"]["code"] == bad.error, body
