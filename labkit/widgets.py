"""Login widgets: a form the learner types into, and a view of the automatic credential POST.

How the form waits without deadlocking the kernel (ipykernel 7.4, JupyterLab 4.6):

- The cell that connects awaits the login with top-level ``await``; it never blocks the
  kernel's event loop, so the kernel keeps dispatching widget messages while it waits
  (ipykernel 7.4 hands comm messages to a running async cell's loop "concurrently").
- Those concurrent comm messages get no busy/idle status, and the widget front end sends
  a model's next state update only after the previous one went idle. So text boxes send
  their value on blur or Enter only (``continuous_update=False``), every attempt gets
  fresh text boxes, and ``acknowledge_update`` publishes the missing idle status for each
  update our form receives, so a learner who edits a field twice is heard twice.
- The button's click is a custom message, which the front end never holds back.
- The Sign in click only hands the values over; the credential POST runs in the waiting
  coroutine, from the kernel, so it works where the browser cannot reach the lab's ports.
- Under a test run (``LABKIT_AUTOPILOT`` set) nobody types: the form fills and presses
  itself through the widgets' own API and says so.
"""

from __future__ import annotations

import asyncio
import html
import os
from dataclasses import dataclass, field
from typing import Literal

import httpx2
import ipywidgets as w
from IPython.display import display
from mcp.shared.auth import AuthorizationCodeResult

from labkit.autologin import AUTO_REDIRECT_URI, AutoLogin, LoginError, LoginStep, parse_redirect
from labkit.http import async_client
from labkit.login_page import EXPIRED_HEADER, login_error

LOGIN_TIMEOUT = 300.0
AUTOPILOT_ENV = "LABKIT_AUTOPILOT"


def autopilot_credentials() -> tuple[str, str] | None:
    """``("bob", "bob-writes")`` when ``LABKIT_AUTOPILOT=bob:bob-writes`` (or ``1`` for bob) is set."""
    value = os.environ.get(AUTOPILOT_ENV, "")
    if not value or value == "0":
        return None
    if ":" in value:
        user, password = value.split(":", 1)
        return user, password
    return "bob", "bob-writes"


Action = Literal["signin", "deny"]


def acknowledge_update(change: object = None) -> None:
    """Publish the idle status that ipykernel 7.4 omits for a comm message handled during a cell.

    Without it the front end holds every later update of the same text box until the cell
    ends. Uses the kernel's public attributes only (``get_parent``, ``session``,
    ``iopub_socket``); anywhere else (no kernel, a value set from code) it does nothing.
    An idle the kernel did send itself is harmless to repeat.
    """
    try:
        from IPython import get_ipython

        kernel = get_ipython().kernel  # type: ignore[union-attr]
        parent = kernel.get_parent()
        if parent.get("header", {}).get("msg_type") != "comm_msg":
            return
        kernel.session.send(kernel.iopub_socket, "status", {"execution_state": "idle"}, parent=parent)
    except Exception:  # not in a kernel, or a kernel without these attributes
        return


@dataclass
class LoginForm:
    """The widgets of one login: a header, fresh inputs per attempt, buttons and a status line."""

    header: w.HTML = field(default_factory=lambda: w.HTML())
    status: w.HTML = field(default_factory=lambda: w.HTML())
    sign_in: w.Button = field(default_factory=lambda: w.Button(description="Sign in", button_style="primary"))
    deny: w.Button = field(default_factory=lambda: w.Button(description="Deny"))
    username: w.Text = field(init=False)
    password: w.Password = field(init=False)
    inputs: w.VBox = field(default_factory=lambda: w.VBox())
    box: w.VBox = field(init=False)
    attempts: int = 0

    def __post_init__(self) -> None:
        self.new_inputs()
        self.box = w.VBox(
            [self.header, self.inputs, w.HBox([self.sign_in, self.deny]), self.status],
            layout=w.Layout(border="1px solid #ccc", padding="8px", width="420px"),
        )

    def new_inputs(self, username: str = "") -> None:
        """Fresh text boxes (new widget models) for the next attempt; see the module docstring."""
        self.username = w.Text(
            value=username, placeholder="alice or bob", description="Username", continuous_update=False
        )
        self.password = w.Password(placeholder="password", description="Password", continuous_update=False)
        for box in (self.username, self.password):
            box.observe(acknowledge_update, names="value")
        self.inputs.children = (self.username, self.password)

    def enable(self, on: bool) -> None:
        self.sign_in.disabled = self.deny.disabled = not on

    def say(self, text: str, *, kind: Literal["info", "error", "ok"] = "info") -> None:
        color = {"info": "#555", "error": "#a00", "ok": "#070"}[kind]
        self.status.value = f'<span style="color:{color}">{html.escape(text)}</span>'


@dataclass
class WidgetLogin:
    """A ``LoginStrategy`` that shows a login form in the notebook and waits for the learner.

    Use it as ``labkit.oauth_client(lab.mcp_url, WidgetLogin())`` and ``await`` the first
    call in the cell (top-level ``await``): the cell waits at the form, Run All included.
    """

    timeout: float = LOGIN_TIMEOUT
    redirect_uri: str = AUTO_REDIRECT_URI
    autopilot: tuple[str, str] | None = field(default_factory=autopilot_credentials)
    event_hooks: dict[str, list] | None = None  # e.g. a Trace's hooks, to record the login too
    form: LoginForm | None = None
    steps: list[LoginStep] = field(default_factory=list)
    _login_page: str | None = None
    _early: AuthorizationCodeResult | None = None
    _clicks: asyncio.Queue[Action] | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        """Ask /authorize where the user should go (our login page) and show the form for it."""
        self.steps = []
        self._early = None
        async with async_client(follow_redirects=False, timeout=10.0, event_hooks=self.event_hooks or {}) as http:
            first = await http.get(authorization_url)
        location = first.headers.get("location")
        self.steps.append(LoginStep("GET", authorization_url, first.status_code, location))
        if first.status_code != 302 or location is None:
            raise LoginError(f"/authorize answered {first.status_code}: {first.text[:200]}")
        if location.startswith(self.redirect_uri):  # refused before any login page (e.g. invalid_scope)
            self._early = parse_redirect(location, self.redirect_uri)
            return
        self._login_page = location
        self.form = self._show_form(authorization_url)

    def _show_form(self, authorization_url: str) -> LoginForm:
        form = LoginForm()
        query = httpx2.URL(authorization_url).params
        form.header.value = (
            "<b>Sign in to the lab's authorization server</b><br>"
            f"<small>An MCP client asks for <code>{html.escape(query.get('scope', ''))}</code> "
            f"on <code>{html.escape(query.get('resource', ''))}</code>.<br>"
            "Demo users: <code>alice</code> / <code>alice-reads</code>, <code>bob</code> / <code>bob-writes</code>."
            "</small>"
        )
        loop = asyncio.get_running_loop()
        self._clicks = asyncio.Queue()
        clicks = self._clicks

        def clicked(action: Action) -> None:
            # May run on the kernel's main loop or on another thread: hand over thread-safely.
            loop.call_soon_threadsafe(clicks.put_nowait, action)

        form.sign_in.on_click(lambda _: clicked("signin"))
        form.deny.on_click(lambda _: clicked("deny"))
        if self.autopilot:
            form.say("Test run: nobody types here; the form fills and presses itself through its widget API.")
        else:
            form.say("Type a demo user's name and password, then press Sign in.")
        display(form.box)
        if self.autopilot:
            user, password = self.autopilot
            form.username.value, form.password.value = user, password
            form.sign_in.click()
        return form

    async def callback_handler(self) -> AuthorizationCodeResult:
        """Wait for Sign in or Deny; POST from the kernel; loop on a wrong password."""
        if self._early is not None:
            return self._early
        form, queue, login_page = self.form, self._clicks, self._login_page
        if form is None or queue is None or login_page is None:
            raise LoginError("no login form is waiting: redirect_handler did not run")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        async with async_client(follow_redirects=False, timeout=10.0, event_hooks=self.event_hooks or {}) as http:
            while True:
                try:
                    action = await asyncio.wait_for(queue.get(), timeout=max(0.0, deadline - loop.time()))
                except TimeoutError:
                    form.enable(False)
                    form.say(
                        f"Nobody signed in within {self.timeout:.0f} s. Run the cell again to retry.", kind="error"
                    )
                    raise LoginError(f"nobody signed in within {self.timeout:.0f} s") from None
                form.enable(False)
                result = await self._submit(http, form, login_page, action)
                if result is not None:
                    return result
                form.enable(True)

    async def _submit(
        self, http: httpx2.AsyncClient, form: LoginForm, login_page: str, action: Action
    ) -> AuthorizationCodeResult | None:
        username = form.username.value.strip()
        if action == "signin" and not (username and form.password.value):
            form.say("Enter a username and a password.", kind="error")
            form.new_inputs(username)
            return None
        data = {"action": "deny"} if action == "deny" else {"username": username, "password": form.password.value}
        form.say("Denying…" if action == "deny" else f"Signing in as {username}…")
        try:
            response = await http.post(login_page, data=data)
        except httpx2.HTTPError as exc:
            form.say(f"The authorization server did not answer: {exc}", kind="error")
            form.new_inputs(username)
            return None
        location = response.headers.get("location")
        self.steps.append(LoginStep("POST", login_page, response.status_code, location))
        form.attempts += 1
        if response.status_code == 302 and location:
            try:
                result = parse_redirect(location, self.redirect_uri)
            except LoginError as exc:
                shown = "Access denied: you pressed Deny." if exc.error == "access_denied" else str(exc)
                form.say(shown, kind="error")
                raise
            form.inputs.children = ()
            form.say(f"Signed in as {username}. The client continues by itself.", kind="ok")
            return result
        message = login_error(response.text) or f"The login page answered {response.status_code}."
        if response.headers.get(EXPIRED_HEADER) == "expired":
            form.say("This sign-in expired. Run the cell again.", kind="error")
            raise LoginError("the pending sign-in expired")
        form.say(f"{message} Try again.", kind="error")
        form.new_inputs(username)
        return None


@dataclass
class AutoLoginView(AutoLogin):
    """The automatic credential POST (``AutoLogin``), drawn step by step in the notebook."""

    view: w.HTML = field(default_factory=lambda: w.HTML())

    async def redirect_handler(self, authorization_url: str) -> None:
        self.view.value = "<i>Automatic login…</i>"
        display(self.view)
        try:
            await super().redirect_handler(authorization_url)
        finally:
            self.view.value = steps_html(self.steps, self.username)


def steps_html(steps: list[LoginStep], username: str) -> str:
    """The login requests as an HTML table: request, status, where it sends us next."""
    e = html.escape
    titles = ["Authorization request (not followed)", f"POST the credentials of {username} to Location"]
    rows = "".join(
        f"<tr><td>{e(titles[i] if i < len(titles) else '')}</td><td><code>{e(s.method)} {e(_short_url(s.url))}</code>"
        f"</td><td>{s.status}</td><td><code>{e(_short_url(s.location or ''))}</code></td></tr>"
        for i, s in enumerate(steps)
    )
    return (
        "<table><tr><th>step</th><th>request</th><th>status</th><th>Location</th></tr>"
        f"{rows}</table><small>The last Location carries <code>code</code>, <code>state</code> and "
        "<code>iss</code>; the client reads them without visiting it.</small>"
    )


def _short_url(url: str, keep: int = 90) -> str:
    return url if len(url) <= keep else url[:keep] + "…"
