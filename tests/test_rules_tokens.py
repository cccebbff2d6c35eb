"""Rules 10-13: access-token expiry, refresh rotation, revocation and audience binding."""

from __future__ import annotations

import pytest

from labkit import manual as hf
from labkit.lab import Lab


def test_expired_access_token_is_refused_and_refresh_gives_a_working_one(lab: Lab) -> None:
    """Rule 10 (RFC 6750 §3.1, RFC 6749 §6): at 301 s the token gets 401; a refresh gives a token that works."""
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        assert tokens["expires_in"] == 300
        assert hf.mcp_post(c, lab.mcp_url, tokens["access_token"]).status_code == 200

        lab.clock.advance(301)
        expired = hf.mcp_post(c, lab.mcp_url, tokens["access_token"])
        assert expired.status_code == 401
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
        assert hf.introspect(lab, c, tokens["access_token"]) == {"active": False}

        refreshed = hf.refresh(lab, c, client, tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        new = refreshed.json()
        assert new["access_token"] != tokens["access_token"]
        assert new["token_type"] == "Bearer"
        assert new["scope"] == "notes:read"
        accepted = hf.mcp_post(c, lab.mcp_url, new["access_token"])
        assert accepted.status_code == 200
        assert '"serverInfo"' in accepted.text


def test_refresh_rotation_and_replay_revokes_the_family(lab: Lab) -> None:
    """Rule 11 (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2): each refresh rotates; replaying an old one kills all."""
    with hf.http() as c:
        client, first = hf.tokens_for(lab, c)
        rotated = hf.refresh(lab, c, client, first["refresh_token"])
        assert rotated.status_code == 200
        second = rotated.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert hf.introspect(lab, c, second["access_token"])["active"] is True

        replay = hf.refresh(lab, c, client, first["refresh_token"])
        assert replay.status_code == 400
        body = replay.json()
        assert body["error"] == "invalid_grant"
        assert "already used" in body["error_description"]

        # The whole family is dead: the newest refresh token, and both access tokens.
        newest = hf.refresh(lab, c, client, second["refresh_token"])
        assert newest.status_code == 400
        assert newest.json()["error"] == "invalid_grant"
        for token in (first["access_token"], second["access_token"]):
            assert hf.introspect(lab, c, token) == {"active": False}
        assert hf.mcp_post(c, lab.mcp_url, second["access_token"]).status_code == 401


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revocation_kills_the_grant(lab: Lab, which: str) -> None:
    """Rule 12 (RFC 7009 §2.1-2.2): revoking either token answers 200 and revokes the whole grant."""
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        assert hf.mcp_post(c, lab.mcp_url, tokens["access_token"]).status_code == 200

        revoked = hf.revoke(lab, c, client.client_id, tokens[which])
        assert revoked.status_code == 200
        assert revoked.content == b""

        assert hf.introspect(lab, c, tokens["access_token"]) == {"active": False}
        denied = hf.mcp_post(c, lab.mcp_url, tokens["access_token"])
        assert denied.status_code == 401
        assert 'error="invalid_token"' in denied.headers["www-authenticate"]
        assert hf.refresh(lab, c, client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revocation_of_unknown_token_is_200_and_other_clients_cannot_revoke(lab: Lab) -> None:
    """Rule 12 (RFC 7009 §2.1-2.2): unknown tokens answer 200; a client cannot revoke another client's token."""
    with hf.http() as c:
        _victim, tokens = hf.tokens_for(lab, c)
        other = hf.register(lab, c, client_name="other")
        unknown = hf.revoke(lab, c, other.client_id, "at_nothing")
        assert unknown.status_code == 200
        foreign = hf.revoke(lab, c, other.client_id, tokens["access_token"])
        assert foreign.status_code == 200  # same answer, but nothing happened
        assert hf.introspect(lab, c, tokens["access_token"])["active"] is True


def test_public_client_revokes_with_token_and_client_id_only(lab: Lab) -> None:
    """Rule 12 (RFC 7009 §2.1, RFC 6749 §2.3): a public client revokes with ``token`` and ``client_id``."""
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        revoked = c.post(
            lab.urls.endpoint("/revoke"), data={"token": tokens["access_token"], "client_id": client.client_id}
        )
        assert revoked.status_code == 200, revoked.text
        assert hf.introspect(lab, c, tokens["access_token"]) == {"active": False}


def test_token_for_one_resource_is_refused_by_another(lab: Lab) -> None:
    """Rule 13 (RFC 8707 §2, MCP authorization: token audience): a token works only at its own resource."""
    second_url = lab.add_resource_server("second")
    second_stats = lab.resource_servers["second"].verifier.stats
    with hf.http() as c:
        _client, tokens = hf.tokens_for(lab, c)
        assert hf.introspect(lab, c, tokens["access_token"])["aud"] == lab.mcp_url
        before = second_stats.rejected_audience
        replayed = hf.mcp_post(c, second_url, tokens["access_token"])
        assert replayed.status_code == 401
        assert 'error="invalid_token"' in replayed.headers["www-authenticate"]
        assert second_stats.rejected_audience == before + 1
        assert hf.mcp_post(c, lab.mcp_url, tokens["access_token"]).status_code == 200

        # And the other way round: a token minted for the second server fails at the first.
        client = hf.register(lab, c)
        auth = hf.authorize(lab, c, client, resource=second_url)
        for_second = hf.exchange(lab, c, auth).json()["access_token"]
        assert hf.mcp_post(c, second_url, for_second).status_code == 200
        assert hf.mcp_post(c, lab.mcp_url, for_second).status_code == 401


def test_unknown_resource_at_authorize_is_invalid_target(lab: Lab) -> None:
    """Rule 13 (RFC 8707 §2): /authorize for a resource this AS does not serve is refused (invalid_target)."""
    with hf.http() as c:
        client = hf.register(lab, c)
        unknown = "http://127.0.0.1:9/mcp"
        params = hf.authorize_params(lab, client, challenge="x" * 43, resource=unknown, state="s-13")
        response = hf.start_authorization(lab, c, params)
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(client.redirect_uri + "?")
        query = hf.query_of(location)
        assert query["error"] == "invalid_target"
        assert unknown in query["error_description"]
        assert query["state"] == "s-13"
        assert lab.provider.pending == {}


def test_invalid_target_redirect_names_the_issuer(lab: Lab) -> None:
    """Rule 13 + RFC 9207 §2: an authorization error redirect carries ``iss`` like a success does."""
    with hf.http() as c:
        client = hf.register(lab, c)
        params = hf.authorize_params(lab, client, challenge="x" * 43, resource="http://127.0.0.1:9/mcp")
        query = hf.query_of(hf.start_authorization(lab, c, params).headers["location"])
        assert query["error"] == "invalid_target"
        assert query.get("iss") == lab.urls.issuer
