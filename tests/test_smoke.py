"""The whole flow with the SDK's own client, as a learner would run it."""

from __future__ import annotations

import asyncio

import labkit
from labkit.lab import Lab


def test_sdk_client_completes_flow_and_steps_up(lab: Lab) -> None:
    async def run() -> tuple[dict, str]:
        login = labkit.AutoLogin("bob", "bob-writes")
        oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
        async with labkit.connect(lab.mcp_url, oauth) as client:
            who = (await client.call_tool("whoami", {})).structured_content
            added = (await client.call_tool("add_note", {"text": "hello"})).content[0].text
        return who, added

    who, added = asyncio.run(run())
    assert who["subject"] == "bob"
    assert who["scopes"] == ["notes:read"]
    assert who["audience"] == lab.mcp_url
    assert added == "note 2 added by bob"
