"""Sign in without a browser: the ``redirect_handler`` / ``callback_handler`` pair that posts credentials.

What a browser would do, done by the kernel:

1. request the authorization URL *without following the redirect*; the 302's
   ``Location`` is the login page that ``provider.authorize`` chose;
2. POST the credentials to that ``Location``;
3. the answer is a 302 to the client's redirect URI carrying ``code``, ``state`` and
   ``iss`` (or ``error``); read them from ``Location`` instead of visiting it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.shared.auth import AuthorizationCodeResult

from labkit.http import async_client
from labkit.login_page import login_error

# Never visited: the code is read from the Location header. A loopback URI still, so the
# registration is exactly what a native app would register (RFC 8252 §7.3).
AUTO_REDIRECT_URI = "http://127.0.0.1/callback"


class LoginError(RuntimeError):
    """The login did not produce a code; the message says what the server answered."""

    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


@dataclass
class LoginStep:
    """One request of the login, for showing: what was sent, what came back."""

    method: str
    url: str
    status: int
    location: str | None


@dataclass
class AutoLogin:
    """Signs in as ``username`` whenever the SDK asks for authorization."""

    username: str
    password: str
    redirect_uri: str = AUTO_REDIRECT_URI
    event_hooks: dict[str, list] | None = None  # e.g. a Trace's hooks, to record the login too
    steps: list[LoginStep] = field(default_factory=list)
    logins: int = 0
    _result: AuthorizationCodeResult | None = field(default=None, repr=False)

    async def redirect_handler(self, authorization_url: str) -> None:
        self._result = None
        self.steps = []
        async with async_client(follow_redirects=False, timeout=10.0, event_hooks=self.event_hooks or {}) as http:
            first = await http.get(authorization_url)
            login_page = self._location(first)
            if first.status_code != 302 or login_page is None:
                raise LoginError(f"/authorize answered {first.status_code}: {_error_text(first)}")
            if login_page.startswith(self.redirect_uri):  # refused before any login page
                self._result = parse_redirect(login_page, self.redirect_uri)
                return
            second = await http.post(login_page, data={"username": self.username, "password": self.password})
            final = self._location(second)
            if second.status_code != 302 or final is None:
                message = login_error(second.text) or f"the login page answered {second.status_code}"
                raise LoginError(f"signing in as {self.username!r} failed: {message}")
            self.logins += 1
            self._result = parse_redirect(final, self.redirect_uri)

    async def callback_handler(self) -> AuthorizationCodeResult:
        if self._result is None:
            raise LoginError("no authorization response: redirect_handler did not complete")
        return self._result

    def _location(self, response: httpx2.Response) -> str | None:
        location = response.headers.get("location")
        self.steps.append(LoginStep(response.request.method, str(response.request.url), response.status_code, location))
        return location


@dataclass
class ForgedState:
    """A broken login strategy: signs in honestly, then hands the SDK a different ``state``.

    That is what a forged callback looks like to the client (CSRF, RFC 6749 §10.12);
    notebook 07 and the rule tests use it to show the SDK refusing it.
    """

    inner: AutoLogin

    @property
    def redirect_uri(self) -> str:
        return self.inner.redirect_uri

    async def redirect_handler(self, authorization_url: str) -> None:
        await self.inner.redirect_handler(authorization_url)

    async def callback_handler(self) -> AuthorizationCodeResult:
        real = await self.inner.callback_handler()
        return AuthorizationCodeResult(code=real.code, state="forged-state", iss=real.iss)


def parse_redirect(location: str, redirect_uri: str) -> AuthorizationCodeResult:
    """Read ``code``, ``state`` and ``iss`` (or ``error``) from the redirect to the client."""
    if not location.startswith(redirect_uri):
        raise LoginError(f"redirected to {location}, not to our redirect URI {redirect_uri}")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "error" in query:
        detail = query.get("error_description", "")
        raise LoginError(f"authorization failed: {query['error']} ({detail})", error=query["error"])
    return AuthorizationCodeResult(code=query.get("code", ""), state=query.get("state"), iss=query.get("iss"))


def _error_text(response: httpx2.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('error')}: {body.get('error_description')}"
    except ValueError:
        return response.text[:200]
