"""Defects a code review found, each pinned by a test that fails without its fix."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

import labkit
from labkit import manual
from labkit.clock import LabClock
from labkit.lab import Lab
from labkit.provider import token_digest
from labkit.storage import InMemoryTokenStorage
from labkit.urls import LabUrls

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


def _status(lab: Lab, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return httpx2.post(lab.mcp_url, json=PING, headers=headers).status_code


def test_a_revocation_during_introspection_is_not_cached_over(lab: Lab) -> None:
    """The introspection answer came back 'active', but the token was revoked meanwhile."""
    with manual.http() as c:
        client, tokens = manual.tokens_for(lab, c)
    verifier = lab.verifier
    original = verifier._introspect

    async def answer_then_revocation(token: str):  # type: ignore[no-untyped-def]
        result = await original(token)
        verifier.forget([token_digest(token)])  # the push arrives while the answer is in flight
        return result

    verifier._introspect = answer_then_revocation  # type: ignore[method-assign]
    try:
        assert _status(lab, tokens["access_token"]) != 401  # answered with what the AS said then
    finally:
        del verifier._introspect
    with manual.http() as c:
        manual.revoke(lab, c, client.client_id, tokens["access_token"])
    assert _status(lab, tokens["access_token"]) == 401  # nothing stale was kept


def test_reset_between_load_and_exchange_is_an_oauth_error_not_a_crash(lab: Lab) -> None:
    with manual.http() as c:
        client = manual.register(lab, c)
        auth = manual.authorize(lab, c, client)
    info = lab.provider.clients[client.client_id]

    async def race() -> None:
        code = await lab.provider.load_authorization_code(info, auth.code)
        assert code is not None
        lab.provider.reset()
        await lab.provider.exchange_authorization_code(info, code)

    with pytest.raises(labkit.provider.TokenError) as caught:
        asyncio.run(race())
    assert caught.value.error == "invalid_grant"


def test_open_server_has_notes_of_its_own(lab: Lab) -> None:
    async def write_without_token() -> None:
        async with labkit.connect(lab.open_server_url()) as client:
            await client.call_tool("add_note", {"text": "written without a token"})

    asyncio.run(write_without_token())
    assert all(note["text"] != "written without a token" for note in lab.notebook.all())


def test_a_session_stored_for_another_server_is_not_handed_back(lab: Lab) -> None:
    storage = InMemoryTokenStorage()
    asyncio.run(_whoami(lab, storage))
    assert storage.server_url == lab.mcp_url and storage.oauth_metadata is not None
    oauth = labkit.oauth_client("http://127.0.0.1:9/mcp", labkit.AutoLogin("bob", "bob-writes"), storage=storage)
    assert oauth.context.oauth_metadata is None and oauth.context.token_expiry_time is None


def test_storage_and_client_must_share_one_clock(lab: Lab) -> None:
    storage = InMemoryTokenStorage(clock=LabClock())
    with pytest.raises(ValueError, match="different clocks"):
        labkit.oauth_client(lab.mcp_url, labkit.AutoLogin("bob", "bob-writes"), storage=storage, clock=lab.clock)
    adopted = labkit.oauth_client(lab.mcp_url, labkit.AutoLogin("bob", "bob-writes"), storage=storage)
    assert adopted.context.clock is storage.clock  # type: ignore[attr-defined]


def test_ipv6_hosts_are_bracketed_in_urls() -> None:
    urls = LabUrls(as_port=9000, rs_port=8000, host="::1")
    assert urls.issuer == "http://[::1]:9000" and urls.mcp == "http://[::1]:8000/mcp"


def test_metadata_says_public_clients_are_welcome(lab: Lab) -> None:
    metadata = httpx2.get(lab.urls.as_metadata).json()
    assert "none" in metadata["token_endpoint_auth_methods_supported"]


def test_reset_restores_verifier_settings_and_detaches_traces(lab: Lab) -> None:
    lab.verifier.cache_seconds = 0
    lab.verifier.check_audience = False
    lab.verifier.trace = labkit.Trace()
    lab.reset()
    assert (lab.verifier.cache_seconds, lab.verifier.check_audience, lab.verifier.trace) == (30.0, True, None)


async def _whoami(lab: Lab, storage: InMemoryTokenStorage) -> None:
    oauth = labkit.oauth_client(lab.mcp_url, labkit.AutoLogin("bob", "bob-writes"), storage=storage)
    async with labkit.connect(lab.mcp_url, oauth) as client:
        await client.call_tool("whoami", {})


def test_a_long_running_lab_forgets_what_can_no_longer_matter(lab: Lab) -> None:
    with manual.http() as c:
        client, tokens = manual.tokens_for(lab, c)
        lab.clock.advance(2 * 86_400)  # past every lifetime: code, access and refresh token
        manual.login_url(lab, c, client)  # any new authorization request prunes
    assert tokens["access_token"] not in lab.provider.access_tokens
    assert tokens["refresh_token"] not in lab.provider.refresh_tokens
    assert lab.provider.codes == {} and lab.provider.grants == {}
    assert len(lab.provider.pending) == 1  # the new one


def test_pruning_keeps_what_replay_detection_needs(lab: Lab) -> None:
    with manual.http() as c:
        client = manual.register(lab, c)
        auth = manual.authorize(lab, c, client)
        first = manual.exchange(lab, c, auth).json()
        manual.login_url(lab, c, client)  # prune now: the used code has not expired yet
        assert manual.exchange(lab, c, auth).json()["error"] == "invalid_grant"
        assert manual.introspect(lab, c, first["access_token"]) == {"active": False}  # replay revoked it
