"""The resource server's verification cache: fast, and still honest about revocation and expiry."""

from __future__ import annotations

import httpx2

from labkit import manual as hf
from labkit.lab import Lab

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


def _status(lab: Lab, token: str) -> int:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    # Without a session the transport answers 400 to an accepted token; 401 means refused.
    return httpx2.post(lab.mcp_url, json=PING, headers=headers).status_code


def test_second_request_is_answered_from_the_cache(lab: Lab) -> None:
    with hf.http() as c:
        _client, tokens = hf.tokens_for(lab, c)
    before = lab.verifier.stats.introspections
    assert _status(lab, tokens["access_token"]) != 401
    assert _status(lab, tokens["access_token"]) != 401
    assert lab.verifier.stats.introspections == before + 1
    assert lab.verifier.stats.cache_hits >= 1


def test_revocation_reaches_a_cached_token_at_once(lab: Lab) -> None:
    """The authorization server tells the resource server what it revoked (a push, as with CAEP)."""
    with hf.http() as c:
        client, tokens = hf.tokens_for(lab, c)
        assert _status(lab, tokens["access_token"]) != 401  # now cached
        assert hf.revoke(lab, c, client.client_id, tokens["access_token"]).status_code == 200
    assert _status(lab, tokens["access_token"]) == 401


def test_cache_without_revocation_events_honours_a_revoked_token_until_it_expires(lab: Lab) -> None:
    """The price of caching when nobody tells the resource server: a revoked token keeps working."""
    lab.provider.revocation_listeners.remove(lab.verifier.forget)
    try:
        with hf.http() as c:
            client, tokens = hf.tokens_for(lab, c)
            assert _status(lab, tokens["access_token"]) != 401
            hf.revoke(lab, c, client.client_id, tokens["access_token"])
            assert hf.introspect(lab, c, tokens["access_token"])["active"] is False
        assert _status(lab, tokens["access_token"]) != 401  # stale: still accepted
        lab.clock.advance(lab.verifier.cache_seconds + 1)
        assert _status(lab, tokens["access_token"]) == 401
    finally:
        lab.provider.revocation_listeners.append(lab.verifier.forget)
        lab.verifier.forget(None)


def test_cache_never_outlives_the_token(lab: Lab) -> None:
    lab.verifier.cache_seconds = 10_000
    try:
        with hf.http() as c:
            _client, tokens = hf.tokens_for(lab, c)
        assert _status(lab, tokens["access_token"]) != 401
        lab.clock.advance(lab.provider.settings.access_token_ttl + 1)
        assert _status(lab, tokens["access_token"]) == 401
    finally:
        lab.verifier.cache_seconds = 30.0


def test_without_cache_every_request_asks_the_authorization_server(lab: Lab) -> None:
    lab.verifier.cache_seconds = 0
    try:
        with hf.http() as c:
            _client, tokens = hf.tokens_for(lab, c)
        before = lab.verifier.stats.introspections
        for _ in range(3):
            assert _status(lab, tokens["access_token"]) != 401
        assert lab.verifier.stats.introspections == before + 3
    finally:
        lab.verifier.cache_seconds = 30.0
