"""The lab object: start, re-run, stop, clear errors, logs kept out of cell output."""

from __future__ import annotations

import socket

import httpx2
import pytest

import labkit
from labkit.lab import Lab
from labkit.server_thread import ServerStartError


def test_start_twice_gives_the_same_lab(running_lab: Lab) -> None:
    assert labkit.start() is running_lab
    assert running_lab.running


def test_urls_share_one_canonical_form(lab: Lab) -> None:
    """Issuer and resource are spelled once, without a trailing slash (RFC 8414 §3.3 compares strings)."""
    metadata = httpx2.get(lab.urls.as_metadata).json()
    prm = httpx2.get(lab.urls.resource_metadata).json()
    assert metadata["issuer"] == lab.issuer_url == prm["authorization_servers"][0]
    assert prm["resource"] == lab.mcp_url
    assert not lab.issuer_url.endswith("/")
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["introspection_endpoint"] == lab.issuer_url + "/introspect"


def test_taken_port_fails_at_once_with_a_clear_message() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        from labkit.lab import _start

        with pytest.raises(ServerStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            _start(as_port=port, mcp_port=0, access_token_ttl=300, host="127.0.0.1")


def test_stop_frees_the_ports() -> None:
    from labkit.lab import _start

    lab = _start(as_port=0, mcp_port=0, access_token_ttl=300, host="127.0.0.1")
    ports = (lab.urls.as_port, lab.urls.rs_port)
    lab.stop()
    assert not lab.running
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # would raise if the server still held it


def test_logs_stay_out_of_output(lab: Lab, capfd: pytest.CaptureFixture[str]) -> None:
    """httpx2 logs every request at INFO; in a notebook that would print into the running cell."""
    httpx2.post(lab.urls.endpoint("/token"), data={"grant_type": "nonsense"})
    httpx2.get(lab.urls.endpoint("/nowhere"))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert f"GET {lab.urls.endpoint('/nowhere')}" in lab.logs()  # kept in the lab's buffer instead


def test_reset_forgets_clients_and_moves_clock_back(lab: Lab) -> None:
    lab.clock.advance(100)
    response = httpx2.post(
        lab.urls.endpoint("/register"),
        json={"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"},
    )
    assert response.status_code == 201
    lab.reset()
    assert lab.provider.clients == {}
    assert lab.clock.offset == 0


def test_process_exit_stops_the_lab() -> None:
    """A script (or a kernel) that ends leaves no server behind and does not hang on exit."""
    import subprocess
    import sys

    code = "import labkit; lab = labkit.start(); print(lab.urls.as_port, lab.urls.rs_port)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    for port in map(int, done.stdout.split()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_explain_says_what_a_token_is(lab: Lab) -> None:
    from labkit import manual

    with manual.http() as c:
        client, tokens = manual.tokens_for(lab, c, user="alice")
        text = str(lab.explain(tokens["access_token"]))
        assert "active: an access token of alice" in text and f"audience: {lab.mcp_url}" in text
        assert "expires in 300 s" in text or "expires in 299 s" in text
        assert "refresh token" in str(lab.explain(tokens["refresh_token"]))
        manual.revoke(lab, c, client.client_id, tokens["access_token"])
        assert "revoked" in str(lab.explain(tokens["access_token"]))
    lab.clock.advance(10_000)
    assert "never issued" in str(lab.explain("at_made_up"))


def test_metadata_lists_every_scope_and_the_401_names_the_least(lab: Lab) -> None:
    """RFC 9728 §2 scopes_supported: all a client may ask for; the 401 names what this request needs."""
    prm = httpx2.get(lab.urls.resource_metadata).json()
    assert prm["scopes_supported"] == ["notes:read", "notes:write"]
    response = httpx2.post(lab.mcp_url, json={}, headers={"Accept": "application/json, text/event-stream"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.endswith(', scope="notes:read"') and challenge.count("scope=") == 1
