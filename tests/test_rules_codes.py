"""Rules 1-8: PKCE, authorization codes and redirect URIs, each attacked over raw HTTP.

The SDK's handlers check most of these before calling the provider; the tests pin down
the exact answers (status, ``error``, description) that a client, or an attacker, gets.
"""

from __future__ import annotations

from labkit import manual as hf
from labkit import pkce
from labkit.lab import Lab


def test_pkce_verifier_mismatch_is_invalid_grant(lab: Lab) -> None:
    """Rule 1 (RFC 7636 §4.6): a code redeemed with the wrong code_verifier is refused."""
    with hf.http() as c:
        auth = hf.authorize(lab, c, hf.register(lab, c))
        response = hf.exchange(lab, c, auth, verifier=pkce.make_verifier())
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_grant", "error_description": "incorrect code_verifier"}
        # The right verifier still works: a failed guess does not burn the code.
        assert hf.exchange(lab, c, auth).status_code == 200


def test_missing_code_challenge_is_refused(lab: Lab) -> None:
    """Rule 2 (OAuth 2.1 §4.1.1, MCP): PKCE is mandatory; the SDK redirects back with invalid_request."""
    with hf.http() as c:
        client = hf.register(lab, c)
        params = hf.authorize_params(lab, client, challenge="unused", code_challenge=None, state="s-2")
        response = hf.start_authorization(lab, c, params)
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(client.redirect_uri + "?")
        query = hf.query_of(location)
        assert query["error"] == "invalid_request"
        assert "code_challenge" in query["error_description"]
        assert query["state"] == "s-2"
        assert "code" not in query
        assert lab.provider.pending == {}  # no login page was opened


def test_plain_code_challenge_method_is_refused(lab: Lab) -> None:
    """Rule 3 (OAuth 2.1 §4.1.1): only S256; ``plain`` gets invalid_request, no login page."""
    with hf.http() as c:
        client = hf.register(lab, c)
        verifier = pkce.make_verifier()
        params = hf.authorize_params(lab, client, challenge=verifier, code_challenge_method="plain")
        response = hf.start_authorization(lab, c, params)
        assert response.status_code == 302
        query = hf.query_of(response.headers["location"])
        assert query["error"] == "invalid_request"
        assert "code_challenge_method" in query["error_description"]
        assert "S256" in query["error_description"]
        assert lab.provider.pending == {}


def test_code_reuse_is_refused_and_revokes_the_first_tokens(lab: Lab) -> None:
    """Rule 4 (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3): a second redemption fails and kills what the first gave."""
    with hf.http() as c:
        auth = hf.authorize(lab, c, hf.register(lab, c))
        first = hf.exchange(lab, c, auth)
        assert first.status_code == 200
        tokens = first.json()
        assert hf.introspect(lab, c, tokens["access_token"])["active"] is True

        second = hf.exchange(lab, c, auth)
        assert second.status_code == 400
        body = second.json()
        assert body["error"] == "invalid_grant"
        assert "already used" in body["error_description"]

        assert hf.introspect(lab, c, tokens["access_token"]) == {"active": False}
        assert hf.mcp_post(c, lab.mcp_url, tokens["access_token"]).status_code == 401
        again = hf.refresh(lab, c, auth.client, tokens["refresh_token"])
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"


def test_expired_code_is_invalid_grant(lab: Lab) -> None:
    """Rule 5 (RFC 6749 §4.1.2, §10.5): codes live 300 s; at 301 s the exchange fails as expired."""
    with hf.http() as c:
        auth = hf.authorize(lab, c, hf.register(lab, c))
        lab.clock.advance(301)
        response = hf.exchange(lab, c, auth)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid_grant"
        assert "expired" in body["error_description"]


def test_redirect_uri_must_match_between_authorize_and_token(lab: Lab) -> None:
    """Rule 6 (RFC 6749 §4.1.3, §10.6): /token must repeat the exact redirect_uri used at /authorize."""
    with hf.http() as c:
        client = hf.register(lab, c, redirect_uris=[hf.REDIRECT_URI, hf.OTHER_REDIRECT_URI])
        auth = hf.authorize(lab, c, client, redirect_uri=hf.REDIRECT_URI)

        other = hf.exchange(lab, c, auth, redirect_uri=hf.OTHER_REDIRECT_URI)
        assert other.status_code == 400
        assert other.json() == {
            "error": "invalid_request",
            "error_description": "redirect_uri did not match the one used when creating auth code",
        }

        missing = c.post(
            lab.urls.endpoint("/token"),
            data={
                "grant_type": "authorization_code",
                "code": auth.code,
                "client_id": client.client_id,
                "code_verifier": auth.verifier,
            },
        )
        assert missing.status_code == 400
        assert missing.json()["error"] == "invalid_request"


def test_unregistered_redirect_uri_gets_json_error_not_redirect(lab: Lab) -> None:
    """Rule 7 (RFC 6749 §4.1.2.1): never redirect to an unverified URI; answer 400 JSON instead."""
    with hf.http() as c:
        client = hf.register(lab, c)
        evil = "http://127.0.0.1/evil"
        params = hf.authorize_params(lab, client, challenge="x" * 43, redirect_uri=evil, state="s-7")
        response = hf.start_authorization(lab, c, params)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["error"] == "invalid_request"
        assert evil in body["error_description"]
        assert "not registered" in body["error_description"]
        assert lab.provider.pending == {}


def test_code_of_another_client_is_invalid_grant(lab: Lab) -> None:
    """Rule 8 (RFC 6749 §4.1.3): a code is bound to the client it was issued to."""
    with hf.http() as c:
        victim = hf.register(lab, c, client_name="victim")
        attacker = hf.register(lab, c, client_name="attacker")  # same redirect URI, other client_id
        auth = hf.authorize(lab, c, victim)
        response = hf.exchange(lab, c, auth, client_id=attacker.client_id)
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_grant", "error_description": "authorization code does not exist"}
