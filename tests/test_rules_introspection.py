"""Rule 15: only authenticated resource servers may introspect (RFC 7662 §2.1, §4)."""

from __future__ import annotations

import base64

import httpx2
import pytest

from labkit import manual as hf
from labkit.lab import Lab


def _basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def _headers_for(case: str, lab: Lab) -> dict[str, str]:
    creds = lab.verifier.credentials
    return {
        "no-authorization": {},
        "wrong-secret": _basic(f"{creds.client_id}:rs_wrong".encode()),
        "unknown-id": _basic(f"rs-nobody:{creds.client_secret}".encode()),
        "not-base64": {"Authorization": "Basic !!!not-base64!!!"},
        "no-colon": _basic(creds.client_id.encode()),
        "not-utf8": _basic(b"\xff\xfe:\xff"),
        "bearer-scheme": {"Authorization": f"Bearer {creds.client_secret}"},
        "basic-without-credentials": {"Authorization": "Basic"},
    }[case]


UNAUTHENTICATED = [
    "no-authorization",
    "wrong-secret",
    "unknown-id",
    "not-base64",
    "no-colon",
    "not-utf8",
    "bearer-scheme",
    "basic-without-credentials",
]


@pytest.mark.parametrize("case", UNAUTHENTICATED)
def test_unauthenticated_introspection_is_invalid_client(lab: Lab, case: str) -> None:
    """Rule 15 (RFC 7662 §2.1, RFC 6749 §5.2): no or bad credentials -> 401 invalid_client + WWW-Authenticate."""
    with hf.http() as c:
        _client, tokens = hf.tokens_for(lab, c)
        response = c.post(
            lab.urls.endpoint("/introspect"), data={"token": tokens["access_token"]}, headers=_headers_for(case, lab)
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic ")
        assert response.headers["cache-control"] == "no-store"
        assert "active" not in response.json()  # nothing about the token leaks


def test_registered_public_client_cannot_introspect(lab: Lab) -> None:
    """Rule 15 (RFC 7662 §2.1): an OAuth client's id (no secret) is not a resource server's credential."""
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        response = c.post(
            lab.urls.endpoint("/introspect"),
            data={"token": tokens["access_token"]},
            auth=httpx2.BasicAuth(client.client_id, ""),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("raw", ["é:secret".encode(), b"%C3%A9:secret"], ids=["utf8-id", "percent-encoded-id"])
def test_non_ascii_basic_client_id_is_invalid_client(lab: Lab, raw: bytes) -> None:
    """Rule 15 (RFC 7662 §2.1): a non-ASCII client id is just an unknown client: 401, not 500."""
    with hf.http() as c:
        response = c.post(lab.urls.endpoint("/introspect"), data={"token": "at_x"}, headers=_basic(raw))
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "data", [{}, {"token": ""}, {"token_type_hint": "access_token"}], ids=["no-body", "empty-token", "hint-only"]
)
def test_authenticated_introspection_without_token_is_invalid_request(lab: Lab, data: dict[str, str]) -> None:
    """Rule 15 (RFC 7662 §2.1, RFC 6749 §5.2): good credentials but no ``token`` -> 400 invalid_request."""
    creds = lab.verifier.credentials
    with hf.http() as c:
        response = c.post(
            lab.urls.endpoint("/introspect"), data=data, auth=httpx2.BasicAuth(creds.client_id, creds.client_secret)
        )
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_request", "error_description": "the token parameter is required"}


def test_authenticated_introspection_answers_active_and_inactive(lab: Lab) -> None:
    """Rule 15 (RFC 7662 §2.2): good credentials get the token's claims, or just ``{"active": false}``."""
    second_url = lab.add_resource_server("second")
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        info = hf.introspect(lab, c, tokens["access_token"])
        assert info["active"] is True
        assert info["sub"] == "bob"
        assert info["client_id"] == client.client_id
        assert info["aud"] == lab.mcp_url
        assert info["iss"] == lab.urls.issuer
        assert hf.introspect(lab, c, "at_unknown") == {"active": False}
        assert hf.introspect(lab, c, tokens["refresh_token"]) == {"active": False}  # not an access token
        # Another resource server's credentials work too (it learns that the audience is not itself).
        creds = lab.resource_servers["second"].verifier.credentials
        other = c.post(
            lab.urls.endpoint("/introspect"),
            data={"token": tokens["access_token"]},
            auth=httpx2.BasicAuth(creds.client_id, creds.client_secret),
        )
        assert other.status_code == 200
        assert other.json()["aud"] != second_url
