"""Checks for notebook 00 (welcome)."""

from __future__ import annotations

from labkit.exercises import Verdict, not_attempted, right, wrong
from labkit.trace import Trace


def check_password_request(answer: object, trace: Trace) -> Verdict:
    """The password travels once, to the authorization server's login page, never to the MCP server."""
    if answer is None:
        return not_attempted("password_request")
    login_row = next(i for i, e in enumerate(trace.exchanges, 1) if e.path == "/login")
    if answer == login_row:
        return right(
            f"row {login_row}, POST /login to the authorization server. The MCP server never sees the "
            "password: that is the point of OAuth. (Here the kernel plays the user's browser; notebook 04 "
            "shows a real browser, where the client's process never touches it either.)"
        )
    if not isinstance(answer, int):
        return wrong("give the row number as an integer")
    chosen = trace.exchanges[answer - 1] if 0 < answer <= len(trace.exchanges) else None
    what = f"row {answer} is {chosen.method} {chosen.path}" if chosen else f"there is no row {answer}"
    return wrong(f"{what}; look for the request whose form has a username and password.")
