"""Sign in the real way: the login page in a browser, the redirect caught by a loopback listener.

This is what a desktop MCP client does (RFC 8252 §7.3): it listens on a loopback port,
registers ``http://127.0.0.1:<port>/callback`` as its redirect URI, and opens the system
browser at the authorization URL. It only works where the browser can reach the lab's
ports, i.e. a local ``jupyter lab``; on a JupyterHub use ``WidgetLogin`` instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import threading
import weakref
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2
from mcp.shared.auth import AuthorizationCodeResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from labkit.autologin import LoginError
from labkit.server_thread import ServerThread
from labkit.urls import LOOPBACK
from labkit.widgets import autopilot_credentials

CALLBACK_PATH = "/callback"


@dataclass
class BrowserLogin:
    """A ``LoginStrategy`` that opens the login page in a browser and waits for the redirect."""

    open_browser: Callable[[str], object] | None = None  # default: the system browser (webbrowser.open)
    timeout: float = 300.0
    show_link: bool = True  # also print the link in the notebook, in case no browser opens
    redirect_uri: str = field(init=False)
    _listener: ServerThread = field(init=False, repr=False)
    _pending: concurrent.futures.Future[dict[str, str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        autopilot = autopilot_credentials()
        if self.open_browser is None:
            self.open_browser = scripted_browser(*autopilot) if autopilot else webbrowser.open
        self._listener = ServerThread("login callback", LOOPBACK)
        self._listener.launch(Starlette(routes=[Route(CALLBACK_PATH, self._callback, methods=["GET"])]))
        self._listener.wait_ready()
        self.redirect_uri = f"http://{LOOPBACK}:{self._listener.port}{CALLBACK_PATH}"
        # Forgotten instances do not keep a thread and a port for the life of the kernel.
        weakref.finalize(self, self._listener.request_stop)

    async def _callback(self, request: Request) -> HTMLResponse:
        query = dict(request.query_params)
        pending = self._pending
        if pending is None or pending.done():
            return _page("No sign-in is waiting for this answer", "Start again from the notebook.", 400)
        pending.set_result(query)
        if "error" in query:
            return _page("Sign-in ended", f"The authorization server answered: {query['error']}.", 200)
        return _page("Signed in", "You can close this tab and go back to the notebook.", 200)

    async def redirect_handler(self, authorization_url: str) -> None:
        self._pending = concurrent.futures.Future()
        if self.show_link:
            _show_link(authorization_url)
        if getattr(self.open_browser, "scripted", False):
            print("Test run: no person here, so a scripted browser opens the page and signs in.")
        assert self.open_browser is not None
        self.open_browser(authorization_url)

    async def callback_handler(self) -> AuthorizationCodeResult:
        if self._pending is None:
            raise LoginError("no sign-in is waiting: redirect_handler did not run")
        try:
            query = await asyncio.wait_for(asyncio.wrap_future(self._pending), self.timeout)
        except TimeoutError:
            raise LoginError(f"no answer from the browser within {self.timeout:.0f} s") from None
        if "error" in query:
            detail = query.get("error_description", "")
            raise LoginError(f"authorization failed: {query['error']} ({detail})", error=query["error"])
        return AuthorizationCodeResult(code=query.get("code", ""), state=query.get("state"), iss=query.get("iss"))

    @staticmethod
    def available() -> bool:
        """Can this kernel open a browser? (Under a test run, a scripted one always can.)"""
        if autopilot_credentials():
            return True
        try:
            webbrowser.get()
        except webbrowser.Error:
            return False
        return True

    def close(self) -> None:
        """Stop the loopback listener (also on leaving a ``with BrowserLogin() as login:`` block)."""
        self._listener.stop()

    def __enter__(self) -> BrowserLogin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scripted_browser(username: str, password: str) -> Callable[[str], None]:
    """A stand-in for a person with a browser: open the page, sign in, follow the redirect."""

    def browse(url: str) -> None:
        def run() -> None:
            with httpx2.Client(follow_redirects=False, timeout=10.0) as http:
                login_page = http.get(url).headers["location"]
                back = http.post(login_page, data={"username": username, "password": password}).headers["location"]
                http.get(back)  # a browser follows the redirect to the loopback listener

        threading.Thread(target=run, name="scripted browser", daemon=True).start()

    browse.scripted = True  # type: ignore[attr-defined]
    return browse


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _show_link(url: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython comes with the lab's requirements
        return
    if get_ipython() is None:
        return
    link = html.escape(url, quote=True)
    display(HTML(f'<a href="{link}" target="_blank" rel="noopener">Open the login page</a> (a new tab opens)'))
