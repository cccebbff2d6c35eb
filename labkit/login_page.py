"""The login page that ``provider.authorize`` sends the user to: a form, escaped, with Sign in and Deny.

The SDK stops at ``provider.authorize`` returning a URL. Everything after that (showing
who asks for what, checking the password, redirecting back with a code) is the provider
author's job, and this is ours.
"""

from __future__ import annotations

import html
import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from labkit.provider import LabProvider, PendingLogin
from labkit.users import DEMO_USERS, check_password

LOGIN_PATH = "/login"

# Our page needs no script, no frame and nothing from elsewhere: say so to the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1rem 1.25rem}
label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem}
.buttons{margin-top:1rem;display:flex;gap:.5rem}button{padding:.45rem 1rem}
.error{color:#a00;font-weight:600}.meta{font-size:.85rem;color:#555}code{background:#f3f3f3;padding:0 .2rem}
"""


def render_login(login: PendingLogin, *, error: str | None = None, username: str = "") -> str:
    """The login form for a pending authorization. Every value from outside is escaped."""
    e = html.escape
    client_name = login.client.client_name or login.client.client_id
    scopes = " ".join(login.params.scopes or []) or "(default)"
    users = "".join(
        f"<li><code>{e(u.username)}</code> / <code>{e(u.password)}</code>: {e(u.description)}</li>"
        for u in DEMO_USERS.values()
    )
    error_html = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: MCP OAuth lab</title>
<style>{_STYLE}</style></head><body>
<h1>Sign in to the lab's authorization server</h1>
<div class="box">
<p><strong>{e(client_name)}</strong> asks for <code>{e(scopes)}</code>
on <code>{e(login.params.resource or "")}</code>.</p>
{error_html}
<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="request" value="{e(login.id)}">
<label for="username">Username</label><input id="username" name="username" type="text" value="{e(username)}" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password">
<div class="buttons"><button name="action" value="signin" type="submit">Sign in</button>
<button name="action" value="deny" type="submit">Deny</button></div>
</form></div>
<p class="meta">Demo users (a throwaway lab, so the passwords are public):</p><ul class="meta">{users}</ul>
<p class="meta">Redirects to <code>{e(str(login.params.redirect_uri))}</code> afterwards.</p>
</body></html>"""


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


EXPIRED_HEADER = "X-Labkit-Login"  # value "expired": the page below, told apart without reading HTML


def _expired_page() -> HTMLResponse:
    page = _page(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign-in expired</title></head><body>"
        "<h1>This sign-in request has expired or was already used</h1>"
        "<p>Start again from your MCP client.</p></body></html>",
        status=400,
    )
    page.headers[EXPIRED_HEADER] = "expired"
    return page


def _redirect_or_expired(location: str | None) -> Response:
    if location is None:  # another tab finished this sign-in a moment ago
        return _expired_page()
    return RedirectResponse(location, status_code=302, headers=SECURITY_HEADERS)


_ALERT = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def login_error(page: str) -> str | None:
    """The error message shown on a login page, if any (used by the automatic login)."""
    match = _ALERT.search(page)
    return html.unescape(match.group(1)) if match else None


def login_routes(provider: LabProvider) -> list[Route]:
    """``GET /login`` shows the form, ``POST /login`` signs in or denies."""

    async def show(request: Request) -> Response:
        login = provider.pending_login(request.query_params.get("request", ""))
        return _page(render_login(login)) if login else _expired_page()

    async def submit(request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # a body that is not a form at all
            return _page("<!doctype html><p>Expected an HTML form (application/x-www-form-urlencoded).</p>", 400)
        # The id comes in the form (browser) or in the URL it was posted to (automatic login).
        login_id = form.get("request") or request.query_params.get("request")
        login = provider.pending_login(login_id) if isinstance(login_id, str) else None
        if login is None:
            return _expired_page()
        action = form.get("action", "signin")
        if action == "deny":
            return _redirect_or_expired(provider.deny(login.id))
        username = form.get("username")
        password = form.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return _page(render_login(login, error="Enter a username and a password."), 400)
        user = check_password(username, password)
        if user is None:
            # The pending request stays: the user may try again.
            return _page(render_login(login, error="Wrong username or password.", username=username), 400)
        return _redirect_or_expired(provider.approve(login.id, user))

    return [Route(LOGIN_PATH, show, methods=["GET"]), Route(LOGIN_PATH, submit, methods=["POST"])]
