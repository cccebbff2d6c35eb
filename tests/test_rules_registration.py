"""Rule 9: which redirect URIs dynamic client registration accepts (RFC 7591, OAuth 2.1 §2.3.1, RFC 8252)."""

from __future__ import annotations

import httpx2
import pytest

from labkit import manual as hf
from labkit.lab import Lab


def _register(lab: Lab, c: httpx2.Client, uri: str) -> httpx2.Response:
    return c.post(
        lab.urls.endpoint("/register"),
        json={
            "redirect_uris": [hf.REDIRECT_URI, uri],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "rule 9",
        },
    )


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://example.com/cb", "use https, or http on a loopback address"),
        ("http://localhost.example.com/cb", "use https, or http on a loopback address"),
        ("http://127.0.0.1@example.com/cb", "use https, or http on a loopback address"),
        ("http://127.0.0.1/cb#fragment", "must not have a fragment"),
        ("https://client.example/cb#x", "must not have a fragment"),
    ],
    ids=["plain-http-remote", "loopback-lookalike", "userinfo-trick", "loopback-fragment", "https-fragment"],
)
def test_bad_redirect_uri_is_refused(lab: Lab, uri: str, why: str) -> None:
    """Rule 9 (OAuth 2.1 §2.3.1, RFC 7591 §3.2.2): not https/loopback, or a fragment -> invalid_redirect_uri."""
    with hf.http() as c:
        response = _register(lab, c, uri)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid_redirect_uri"
        assert why in body["error_description"]
        assert lab.provider.clients == {}  # nothing was registered


@pytest.mark.parametrize(
    "uri",
    ["https://client.example/cb", "http://localhost:8765/cb", "http://[::1]/cb", "http://127.0.0.1:1/cb?x=1"],
)
def test_good_redirect_uri_is_accepted(lab: Lab, uri: str) -> None:
    """Rule 9 (RFC 8252 §7.3, §8.3): https and loopback http (any port) are accepted, and echoed."""
    with hf.http() as c:
        response = _register(lab, c, uri)
        assert response.status_code == 201, response.text
        info = response.json()
        assert info["token_endpoint_auth_method"] == "none"
        assert "client_secret" not in info
        assert info["client_id"] in lab.provider.clients
