"""Rules 16-17: the login page escapes what it shows, keeps a failed sign-in retryable, and denies properly."""

from __future__ import annotations

import html

import httpx2

from labkit import manual as hf
from labkit.lab import Lab
from labkit.login_page import login_error

SCRIPT_NAME = "<script>alert(1)</script>"
EVIL_STATE = '"><img src=x onerror=alert(1)>'
EVIL_USERNAME = '"><svg onload=alert(2)>'


def _assert_security_headers(headers: httpx2.Headers) -> None:
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script allowed at all (default-src 'none')
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_login_page_escapes_client_name_and_state(lab: Lab) -> None:
    """Rule 16 (RFC 6749 §10.14, OWASP XSS): attacker-chosen client_name and state never appear raw."""
    with hf.http() as c:
        client = hf.register(lab, c, client_name=SCRIPT_NAME)
        page_url, _verifier = hf.login_url(lab, c, client, state=EVIL_STATE)
        page = c.get(page_url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        _assert_security_headers(page.headers)
        body = page.text
        assert SCRIPT_NAME not in body
        assert html.escape(SCRIPT_NAME) in body  # shown, but as text
        assert EVIL_STATE not in body
        # The page does not show the state at all: no markup of it, raw or escaped, can reach the HTML.
        assert "<img" not in body
        assert "onerror" not in body

        # The state goes back to the client unchanged (only URL-encoded in the Location).
        done = c.post(page_url, data={"username": "bob", "password": "bob-writes"})
        assert done.status_code == 302
        assert EVIL_STATE not in done.headers["location"]
        assert hf.query_of(done.headers["location"])["state"] == EVIL_STATE


def test_wrong_password_page_escapes_the_username(lab: Lab) -> None:
    """Rule 16 (OWASP XSS): the username echoed back after a failed sign-in is escaped."""
    with hf.http() as c:
        page_url, _verifier = hf.login_url(lab, c, hf.register(lab, c))
        failed = c.post(page_url, data={"username": EVIL_USERNAME, "password": "x"})
        assert failed.status_code == 400
        _assert_security_headers(failed.headers)
        assert EVIL_USERNAME not in failed.text
        assert f'value="{html.escape(EVIL_USERNAME)}"' in failed.text


def test_wrong_password_keeps_the_pending_authorization(lab: Lab) -> None:
    """Rule 17 (RFC 6749 §4.1.1-4.1.2): a failed sign-in shows an error; the same login URL then succeeds."""
    with hf.http() as c:
        client = hf.register(lab, c)
        page_url, verifier = hf.login_url(lab, c, client, state="s-17")
        for username, password in [("bob", "wrong"), ("mallory", "bob-writes"), ("alice", "bob-writes")]:
            failed = c.post(page_url, data={"username": username, "password": password})
            assert failed.status_code == 400
            assert failed.headers["content-type"].startswith("text/html")
            assert "location" not in failed.headers
            assert login_error(failed.text) == "Wrong username or password."
        missing = c.post(page_url, data={"username": "bob"})
        assert missing.status_code == 400
        assert login_error(missing.text) == "Enter a username and a password."
        assert lab.provider.codes == {}

        ok = c.post(page_url, data={"username": "bob", "password": "bob-writes"})
        assert ok.status_code == 302
        query = hf.query_of(ok.headers["location"])
        assert ok.headers["location"].startswith(client.redirect_uri + "?")
        assert query["state"] == "s-17"
        assert query["iss"] == lab.urls.issuer
        auth = hf.Authorization(client, verifier, "s-17", ok.headers["location"], query)
        assert hf.exchange(lab, c, auth).status_code == 200

        # Used: the login URL is gone now.
        again = c.post(page_url, data={"username": "bob", "password": "bob-writes"})
        assert again.status_code == 400
        assert "expired or was already used" in again.text


def test_deny_redirects_with_access_denied_state_and_iss(lab: Lab) -> None:
    """Rule 17 (RFC 6749 §4.1.2.1, RFC 9207 §2): Deny -> 302 to the client with access_denied, state and iss."""
    with hf.http() as c:
        client = hf.register(lab, c)
        page_url, _verifier = hf.login_url(lab, c, client, state="s-deny")
        denied = c.post(page_url, data={"action": "deny"})
        assert denied.status_code == 302
        location = denied.headers["location"]
        assert location.startswith(client.redirect_uri + "?")
        query = hf.query_of(location)
        assert query["error"] == "access_denied"
        assert query["state"] == "s-deny"
        assert query["iss"] == lab.urls.issuer
        assert "code" not in query
        assert lab.provider.codes == {}
        # The pending authorization was consumed: signing in afterwards is refused.
        late = c.post(page_url, data={"username": "bob", "password": "bob-writes"})
        assert late.status_code == 400


def test_pending_login_expires(lab: Lab) -> None:
    """Rule 17 (RFC 6749 §10.12): a login page left open too long (600 s) can no longer sign in."""
    with hf.http() as c:
        page_url, _verifier = hf.login_url(lab, c, hf.register(lab, c))
        lab.clock.advance(601)
        assert c.get(page_url).status_code == 400
        late = c.post(page_url, data={"username": "bob", "password": "bob-writes"})
        assert late.status_code == 400
        assert "location" not in late.headers
