"""The client side: login widgets driven from code, browser login, storages, trace and diagram."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import labkit
from labkit.browser_login import BrowserLogin, scripted_browser
from labkit.lab import Lab
from labkit.render import mermaid, trace_html, trace_text
from labkit.storage import FileTokenStorage, TokenStorageError
from labkit.widgets import AutoLoginView, WidgetLogin

FULL_FLOW = [
    "POST /mcp 401",
    "GET /.well-known/oauth-protected-resource/mcp 200",
    "GET /.well-known/oauth-authorization-server 200",
    "POST /register 201",
    "GET /authorize 302",
    "POST /login 302",
    "POST /token 200",
    "POST /mcp 200",  # server/discover with the token
    "POST /mcp 200",  # tools/call whoami
    "POST /mcp 200",  # tools/list: the SDK client fetches the output schema to check the result
]


async def _whoami(lab: Lab, login: Any, **kwargs: Any) -> dict[str, Any]:
    oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock, **kwargs.pop("client", {}))
    async with labkit.connect(lab.mcp_url, oauth, **kwargs) as client:
        result = await client.call_tool("whoami", {})
    assert result.structured_content is not None
    return result.structured_content


async def _when(condition: Callable[[], bool], what: str, deadline: float = 10.0) -> None:
    """Wait for ``condition`` on the event loop, at most ``deadline`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def _with_form(lab: Lab, login: WidgetLogin, learner: Callable[[WidgetLogin], Awaitable[None]]) -> Any:
    """Connect as the notebook does while ``learner`` plays the person at the form."""
    flow = asyncio.create_task(_whoami(lab, login))
    try:
        await learner(login)
        return await flow
    finally:
        if not flow.done():
            flow.cancel()


async def _type(login: WidgetLogin, username: str, password: str, attempt: int = 0) -> None:
    await _when(lambda: login.form is not None and login.form.attempts == attempt, "the login form")
    assert login.form is not None
    login.form.username.value = username
    login.form.password.value = password
    login.form.sign_in.click()


def test_widget_login_signs_in(lab: Lab) -> None:
    login = WidgetLogin(autopilot=None, timeout=10)
    who = asyncio.run(_with_form(lab, login, lambda lg: _type(lg, "bob", "bob-writes")))
    assert who["subject"] == "bob"
    assert login.form is not None and "Signed in as bob" in login.form.status.value
    assert [s.status for s in login.steps] == [302, 302]


def test_widget_login_wrong_password_then_success(lab: Lab) -> None:
    login = WidgetLogin(autopilot=None, timeout=10)
    seen: list[str] = []

    async def learner(lg: WidgetLogin) -> None:
        await _type(lg, "alice", "not-her-password")
        await _when(lambda: lg.form is not None and lg.form.attempts == 1 and not lg.form.sign_in.disabled, "retry")
        assert lg.form is not None
        seen.append(lg.form.status.value)
        assert lg.form.username.value == "alice"  # kept; a fresh box, the password is empty
        assert lg.form.password.value == ""
        await _type(lg, "alice", "alice-reads", attempt=1)

    who = asyncio.run(_with_form(lab, login, learner))
    assert "Wrong username or password" in seen[0]
    assert who["subject"] == "alice" and who["scopes"] == ["notes:read"]


def test_widget_login_deny_ends_with_access_denied(lab: Lab) -> None:
    login = WidgetLogin(autopilot=None, timeout=10)

    async def learner(lg: WidgetLogin) -> None:
        await _when(lambda: lg.form is not None, "the login form")
        assert lg.form is not None
        lg.form.deny.click()

    with pytest.raises(BaseException) as caught:
        asyncio.run(_with_form(lab, login, learner))
    errors = _leaves(caught.value)
    assert any(isinstance(e, labkit.LoginError) and e.error == "access_denied" for e in errors), errors
    assert login.form is not None and "Access denied" in login.form.status.value


def test_widget_login_times_out_with_a_clear_message(lab: Lab) -> None:
    login = WidgetLogin(autopilot=None, timeout=0.2)
    with pytest.raises(BaseException) as caught:
        asyncio.run(_whoami(lab, login))
    assert any("nobody signed in within" in str(e) for e in _leaves(caught.value))
    assert login.form is not None and login.form.sign_in.disabled
    assert "Run the cell again" in login.form.status.value


def test_widget_autopilot_fills_the_form_and_says_so(lab: Lab) -> None:
    login = WidgetLogin(autopilot=("bob", "bob-writes"), timeout=10)
    who = asyncio.run(_whoami(lab, login))
    assert who["subject"] == "bob"
    assert login.form is not None and "Signed in as bob" in login.form.status.value


def test_autopilot_reads_its_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.widgets import autopilot_credentials

    monkeypatch.setenv("LABKIT_AUTOPILOT", "alice:alice-reads")
    assert autopilot_credentials() == ("alice", "alice-reads")
    monkeypatch.setenv("LABKIT_AUTOPILOT", "1")
    assert autopilot_credentials() == ("bob", "bob-writes")
    monkeypatch.delenv("LABKIT_AUTOPILOT")
    assert autopilot_credentials() is None


def test_automatic_login_view_shows_each_request(lab: Lab) -> None:
    login = AutoLoginView("bob", "bob-writes")
    asyncio.run(_whoami(lab, login))
    page = login.view.value
    assert "/authorize" in page and "/login" in page and "code=code_" in page
    assert [s.status for s in login.steps] == [302, 302]


def test_browser_login_receives_the_redirect_on_loopback(lab: Lab) -> None:
    login = BrowserLogin(open_browser=scripted_browser("bob", "bob-writes"), timeout=10)
    try:
        assert login.redirect_uri.startswith("http://127.0.0.1:") and login.redirect_uri.endswith("/callback")
        who = asyncio.run(_whoami(lab, login))
    finally:
        login.close()
    assert who["subject"] == "bob"


def test_file_storage_is_private_and_survives_a_restart(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    first = labkit.AutoLogin("bob", "bob-writes")
    asyncio.run(_whoami(lab, first, client={"storage": FileTokenStorage(path)}))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.logins == 1

    # A restarted kernel: new storage object, new SDK client, same file. No login at all.
    login = labkit.AutoLogin("bob", "bob-writes")
    again = labkit.Trace()
    who = asyncio.run(_whoami(lab, login, trace=again, client={"storage": FileTokenStorage(path)}))
    assert who["subject"] == "bob"
    assert login.logins == 0
    assert all(e.path != "/authorize" for e in again.exchanges)


def test_restarted_client_refreshes_an_expired_token_instead_of_logging_in(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    asyncio.run(_whoami(lab, labkit.AutoLogin("bob", "bob-writes"), client={"storage": FileTokenStorage(path)}))
    old = json.loads(path.read_text())["tokens"]["access_token"]
    lab.clock.advance(lab.provider.settings.access_token_ttl + 1)

    login = labkit.AutoLogin("bob", "bob-writes")
    trace = labkit.Trace()
    asyncio.run(_whoami(lab, login, trace=trace, client={"storage": FileTokenStorage(path)}))
    assert login.logins == 0
    assert "POST /token 200" in trace.paths()
    assert trace.exchanges[0].path == "/token"  # before the first MCP request, by itself
    assert trace.exchanges[0].request_form["grant_type"] == "refresh_token"
    assert json.loads(path.read_text())["tokens"]["access_token"] != old


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"some": "other file"}', "is not a labkit token file"),
        ('{"format": "labkit-token-storage/1", "tokens": {"token_type": 7}}', "has a damaged entry"),
    ],
    ids=["corrupt", "foreign", "damaged"],
)
def test_unusable_token_file_gives_a_clear_error_naming_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    with pytest.raises(TokenStorageError) as caught:
        FileTokenStorage(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert path.read_text() == content  # nothing overwritten


def test_trace_of_a_full_flow_is_exact(lab: Lab) -> None:
    trace = labkit.Trace()
    asyncio.run(_whoami(lab, labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks), trace=trace))
    assert trace.paths() == FULL_FLOW
    assert [e.mcp_method for e in trace.exchanges if e.path == "/mcp"] == [
        "server/discover",
        "server/discover",
        "tools/call",
        "tools/list",
    ]
    authorize = trace.exchanges[4]
    assert authorize.query["code_challenge_method"] == "S256"
    token = trace.exchanges[6]
    assert labkit.pkce.check_pair(token.request_form["code_verifier"], authorize.query["code_challenge"])
    table = trace_html(trace)
    assert table.count("<tr>") == len(FULL_FLOW) + 1
    assert "User (login form) → Authorization server" in table
    assert " 6. User (login form) -> Authorization server: POST /login 302" in trace_text(trace)


def test_mermaid_diagram_nests_introspection_inside_the_call(lab: Lab) -> None:
    trace = labkit.Trace()
    lab.verifier.trace = trace
    try:
        asyncio.run(_whoami(lab, labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks), trace=trace))
    finally:
        lab.verifier.trace = None
    diagram = mermaid(trace).splitlines()
    assert diagram[0] == "sequenceDiagram"
    assert "    participant AS as Authorization server" in diagram
    first_call = diagram.index(
        next(line for line in diagram if line.startswith("    C->>RS: POST /mcp, server/discover, Bearer"))
    )
    assert diagram[first_call + 1].startswith("    RS->>AS: POST /introspect")
    assert diagram[first_call + 2].startswith("    AS-->>RS: 200 active=True, sub=bob")
    assert diagram[first_call + 3] == "    RS-->>C: 200"
    assert not any(";" in line or "#" in line for line in diagram)


def test_lab_state_file_keeps_issuer_and_grants_across_a_restart(tmp_path: Path) -> None:
    from labkit.lab import launch  # a second, independent lab: the session's lab keeps running

    state = tmp_path / "lab-state.json"
    tokens = tmp_path / "tokens.json"
    lab = launch(state_file=state)
    try:
        asyncio.run(_whoami(lab, labkit.AutoLogin("bob", "bob-writes"), client={"storage": FileTokenStorage(tokens)}))
        issuer = lab.issuer_url
    finally:
        lab.stop()
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    lab = launch(state_file=state)
    try:
        assert lab.issuer_url == issuer
        login = labkit.AutoLogin("bob", "bob-writes")
        asyncio.run(_whoami(lab, login, client={"storage": FileTokenStorage(tokens)}))
        assert login.logins == 0
    finally:
        lab.stop()


def test_nest_asyncio_applied_first_does_not_break_the_lab() -> None:
    """A learner may run nest_asyncio.apply() before anything: the servers run on loops of their own."""
    import subprocess
    import sys

    code = (
        "import nest_asyncio; nest_asyncio.apply()\n"
        "import asyncio, labkit\n"
        "lab = labkit.start()\n"
        "async def main():\n"
        "    oauth = labkit.oauth_client(lab.mcp_url, labkit.AutoLogin('bob', 'bob-writes'))\n"
        "    async with labkit.connect(lab.mcp_url, oauth) as c:\n"
        "        print((await c.call_tool('whoami', {})).structured_content['subject'])\n"
        "asyncio.run(main())\n"
        "lab.stop()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bob"


def _leaves(error: BaseException) -> list[BaseException]:
    """All exceptions inside (nested) exception groups and their causes."""
    found: list[BaseException] = []
    stack = [error]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        if current.__context__ is not None and current.__context__ is not current.__cause__:
            stack.append(current.__context__)
    return found
