"""Rules 14 and 18, seen through the SDK's own client: a scope the user cannot grant, and a forged state."""

from __future__ import annotations

import asyncio
import json

import pytest
from mcp.client.auth import OAuthFlowError
from mcp.shared.exceptions import MCPError

import labkit
from labkit import manual as hf
from labkit.autologin import ForgedState
from labkit.lab import Lab

ADD_NOTE_CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "add_note", "arguments": {"text": "written by a reader"}},
}


def test_reader_cannot_add_a_note_with_the_sdk_client(lab: Lab) -> None:
    """Rule 14 (RFC 6750 §3.1, SEP-2350): alice's step-up still gets notes:read only, so the call fails.

    The SDK client answers the 403 insufficient_scope by authorizing again for notes:write;
    alice signs in but may not grant it, the retry gets 403 again, and ``call_tool`` raises
    ``MCPError`` (-32603, "Server returned an error response").
    """
    login = labkit.AutoLogin("alice", "alice-reads")

    async def run() -> tuple[dict, MCPError]:
        oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
        async with labkit.connect(lab.mcp_url, oauth) as client:
            who = (await client.call_tool("whoami", {})).structured_content
            with pytest.raises(MCPError) as failure:
                await client.call_tool("add_note", {"text": "written by a reader"})
            still = (await client.call_tool("list_notes", {})).is_error
        assert still is False  # the session survives the refusal
        return who or {}, failure.value

    who, error = asyncio.run(run())
    assert who["subject"] == "alice"
    assert who["scopes"] == ["notes:read"]
    assert error.error.code == -32603
    assert "error response" in error.error.message
    assert login.logins == 2  # the first sign-in, then the step-up attempt
    assert [n["author"] for n in lab.notebook.all()] == ["lab"]  # nothing was written


def test_reader_token_gets_403_insufficient_scope_for_add_note(lab: Lab) -> None:
    """Rule 14 (RFC 6750 §3.1): a raw tools/call add_note with alice's token -> 403 + Bearer challenge."""
    with hf.http() as c:
        _client, tokens = hf.tokens_for(lab, c, user="alice", scope="notes:read notes:write")
        assert tokens["scope"] == "notes:read"  # asked for both, alice may grant only reading
        response = hf.mcp_post(c, lab.mcp_url, tokens["access_token"], ADD_NOTE_CALL)
        assert response.status_code == 403
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        assert 'error="insufficient_scope"' in challenge
        assert 'scope="notes:write"' in challenge
        assert f'resource_metadata="{lab.urls.resource_metadata}"' in challenge
        assert response.json()["error"] == "insufficient_scope"
        assert [n["author"] for n in lab.notebook.all()] == ["lab"]

        # The same message with bob's token passes the gate (the transport then wants a session).
        _bob_client, bob = hf.tokens_for(lab, c, user="bob", scope="notes:read notes:write")
        assert hf.mcp_post(c, lab.mcp_url, bob["access_token"], ADD_NOTE_CALL).status_code != 403


_CALL_JSON = json.dumps(ADD_NOTE_CALL)


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps([ADD_NOTE_CALL]),
        json.dumps({**ADD_NOTE_CALL, "id": "x"}),
        _CALL_JSON.replace('"add_note"', '"add\\u005fnote"'),
        json.dumps(ADD_NOTE_CALL, indent=4),
        "\ufeff" + _CALL_JSON,
    ],
    ids=["batch", "string-id", "escaped-name", "pretty", "utf8-bom"],
)
def test_scope_gate_is_not_bypassed_by_message_shape(lab: Lab, raw: str) -> None:
    """Rule 14 (RFC 6750 §3.1): batches, other ids, JSON escapes, a BOM: alice never adds a note.

    The gate parses bodies with the transport's own parser, so a body is either read the
    same way by both (403 here) or refused by both (a JSON-RPC parse error, as for a BOM).
    """
    with hf.http() as c:
        _client, tokens = hf.tokens_for(lab, c, user="alice")
        response = hf.mcp_post(c, lab.mcp_url, tokens["access_token"], raw=raw.encode())
        if raw.startswith("\ufeff"):
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == -32700
        else:
            assert response.status_code == 403, response.text
            assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
        assert [n["author"] for n in lab.notebook.all()] == ["lab"]


def test_sdk_client_rejects_a_state_mismatch(lab: Lab) -> None:
    """Rule 18 (RFC 6749 §10.12, OAuth 2.1 §7.12): a callback whose state differs is refused, code unused."""
    login = ForgedState(labkit.AutoLogin("bob", "bob-writes"))

    async def run() -> None:
        oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
        async with labkit.connect(lab.mcp_url, oauth) as client:
            await client.call_tool("whoami", {})

    with pytest.RaisesGroup(
        pytest.RaisesExc(OAuthFlowError, match=r"^State parameter mismatch: forged-state != "),
        flatten_subgroups=True,
    ):
        asyncio.run(run())
    assert login.inner.logins == 1  # the user did sign in ...
    assert len(lab.provider.codes) == 1
    assert all(not record.used for record in lab.provider.codes.values())  # ... but the code was never redeemed
    assert lab.provider.access_tokens == {}
