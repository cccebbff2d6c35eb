"""Turn traced exchanges into text a learner can read: one step, its request, the lines that matter."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from labkit.trace import Exchange, Trace

if TYPE_CHECKING:
    from labkit.demo import DemoReport, Step

SECRET_KEYS = ("access_token", "refresh_token", "code", "code_verifier", "token", "client_secret")


def short(value: Any, keep: int = 14) -> str:
    """Long credentials shortened for display: ``at_Zx3kq9…`` (the full value is in the trace)."""
    text = str(value)
    return text if len(text) <= keep + 2 else text[:keep] + "…"


def exchange_lines(e: Exchange) -> list[str]:
    """The lines of one exchange worth reading, most telling first."""
    lines = [f"{e.method} {short(e.url, 70) if '?' in e.url else e.url}"]
    if e.query:
        wanted = ("response_type", "scope", "resource", "state", "code_challenge", "code_challenge_method")
        lines += [f"  ?{k}={short(e.query[k], 44)}" for k in wanted if k in e.query]
    if e.request_form:
        lines += [f"  {k}={short(v) if k in SECRET_KEYS else v}" for k, v in e.request_form.items() if k != "password"]
        if "password" in e.request_form:
            lines.append("  password=(the demo user's password)")
    if e.authorization:
        lines.append(f"  Authorization: {short(e.authorization, 20)}")
    lines.append(f"← {e.status}")
    for key, value in e.response_headers.items():
        if key in ("www-authenticate", "location"):
            lines.append(f"  {key.title()}: {short(value, 110)}")
    body = e.response_json
    if isinstance(body, dict):
        shown = {k: (short(v) if k in SECRET_KEYS else v) for k, v in body.items() if _worth_showing(k)}
        lines += [f"  {k}: {v}" for k, v in shown.items()]
    return lines


def _worth_showing(key: str) -> bool:
    return key in {
        "resource",
        "authorization_servers",
        "scopes_supported",
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "introspection_endpoint",
        "code_challenge_methods_supported",
        "client_id",
        "token_endpoint_auth_method",
        "access_token",
        "refresh_token",
        "expires_in",
        "scope",
        "error",
        "error_description",
    }


def step_text(number: int, step: Step) -> str:
    mark = "ok" if step.ok else f"FAILED (expected {step.expected_status})"
    head = f"{number:2d}. {step.title}: {mark}\n    ({step.why})"
    if step.exchange is None:
        return head + "\n    no such request was made"
    return head + "\n" + "\n".join("    " + line for line in exchange_lines(step.exchange))


def report_text(report: DemoReport) -> str:
    parts = [
        "The OAuth flow of an MCP client, step by step. Tokens and codes belong to this throwaway",
        "local lab and die with it; they are shortened here for reading.",
        "",
    ]
    parts += [step_text(i, s) + "\n" for i, s in enumerate(report.steps, 1)]
    parts += [f"{'ok' if passed else 'FAILED'}: {check}" for check, passed in report.checks.items()]
    who = report.results.get("whoami") or {}
    parts.append(f"whoami said: subject={who.get('subject')} scopes={who.get('scopes')} audience={who.get('audience')}")
    parts.append("Result: every step did what it should." if report.ok else "Result: some steps FAILED.")
    return "\n".join(parts)


# -- one line per exchange: what a learner should look at ----------------------------------


def request_note(e: Exchange) -> str:
    """What the request carries that matters."""
    form, path = e.request_form, e.path
    if path == "/authorize":
        q = e.query
        challenge, state = short(q.get("code_challenge")), short(q.get("state"))
        return f"PKCE {q.get('code_challenge_method')} challenge={challenge}, state={state}"
    if path == "/login":
        return f"username={form.get('username')}" if "username" in form else str(form.get("action", ""))
    if path == "/token":
        grant = form.get("grant_type", "")
        proof = f"code_verifier={short(form.get('code_verifier'))}" if grant == "authorization_code" else ""
        return f"{grant}, {proof or 'refresh_token=' + short(form.get('refresh_token'))}"
    if path in ("/introspect", "/revoke"):
        return f"token={short(form.get('token'))}"
    if path.endswith("/mcp") and not path.startswith("/.well-known/"):
        bearer = f"Bearer {short(e.authorization[7:])}" if e.authorization else "no token"
        return f"{e.mcp_method}, {bearer}" if e.mcp_method else bearer
    return ""


def response_note(e: Exchange) -> str:
    """What the answer says that matters."""
    body = e.response_json if isinstance(e.response_json, dict) else {}
    location = e.response_headers.get("location", "")
    path = e.path
    if e.status in (401, 403) and "www-authenticate" in e.response_headers:
        return "WWW-Authenticate: " + challenge_gist(e.response_headers["www-authenticate"])
    if "error" in body and isinstance(body["error"], str):
        return f"error={body['error']}"
    if path.startswith("/.well-known/oauth-protected-resource"):
        return f"resource={body.get('resource')}, authorization_servers={body.get('authorization_servers')}"
    if path.startswith("/.well-known/oauth-authorization-server"):
        return f"issuer={body.get('issuer')}, PKCE={body.get('code_challenge_methods_supported')}"
    if path == "/register":
        return f"client_id={short(body.get('client_id'), 13)}"
    if path == "/authorize":
        return "to the login page" if "/login" in location else short(location, 50)
    if path == "/login":
        query = dict(parse_qsl(urlsplit(location).query))
        if "code" in query:
            return f"code={short(query['code'])}, state, iss"
        return f"error={query['error']}" if "error" in query else "the form again"
    if path == "/token" and "access_token" in body:
        return f"access_token={short(body['access_token'])}, refresh_token={short(body.get('refresh_token'))}"
    if path == "/introspect" and body:
        return f"active={body.get('active')}, sub={body.get('sub')}, aud={body.get('aud')}"
    return ""


def challenge_gist(header: str) -> str:
    """The parts of a Bearer challenge a client acts on: error, resource_metadata, scope."""
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    wanted = ("error", "resource_metadata", "scope")
    return "Bearer " + ", ".join(f"{k}={params[k]}" for k in wanted if k in params)


def gist(e: Exchange) -> str:
    """The request's and the answer's notes in one line."""
    return " → ".join(note for note in (request_note(e), response_note(e)) if note)


def _party(e: Exchange, who: str) -> str:
    if who == "from":
        if e.sender == "resource server":
            return "RS"
        return "U" if e.path == "/login" else "C"
    return "AS" if e.path in AS_PATHS or e.path.startswith("/.well-known/oauth-authorization-server") else "RS"


AS_PATHS = {"/authorize", "/login", "/token", "/register", "/revoke", "/introspect"}
NAMES = {"C": "MCP client (SDK)", "U": "User (login form)", "RS": "MCP server", "AS": "Authorization server"}


def trace_html(trace: Trace) -> str:
    """The trace as an HTML table: who asked whom for what, the status, and the gist."""
    e_ = html.escape
    left = ' style="text-align:left"'
    rows = "".join(
        f"<tr><td>{i}</td><td{left}>{e_(NAMES[_party(e, 'from')])} → {e_(NAMES[_party(e, 'to')])}</td>"
        f"<td{left}><code>{e_(e.method)} {e_(e.path)}</code></td><td>{e.status}</td><td{left}>{e_(gist(e))}</td></tr>"
        for i, e in enumerate(trace.exchanges, 1)
    )
    return (
        f'<table style="font-size:90%"><tr><th>#</th><th{left}>from → to</th><th{left}>request</th><th>status</th>'
        f"<th{left}>what matters</th></tr>{rows}</table>"
    )


def trace_text(trace: Trace) -> str:
    """The same table as plain text (for terminals and tests)."""
    return "\n".join(
        f"{i:2d}. {NAMES[_party(e, 'from')]} -> {NAMES[_party(e, 'to')]}: {e.method} {e.path} {e.status}  {gist(e)}"
        for i, e in enumerate(trace.exchanges, 1)
    )


def mermaid(trace: Trace) -> str:
    """A Mermaid sequence diagram of the trace (JupyterLab 4 draws ```mermaid blocks in Markdown).

    Requests and responses are ordered by time, so the resource server's introspection
    call appears inside the client request that caused it.
    """
    events: list[tuple[float, int, str]] = []
    for n, e in enumerate(trace.exchanges):
        src, dst = _party(e, "from"), _party(e, "to")
        what = f"{e.method} {e.path}"
        label = _mermaid_text(f"{what}, {request_note(e)}" if request_note(e) else what)
        events.append((e.started, 2 * n, f"    {src}->>{dst}: {label}"))
        answer = _mermaid_text(f"{e.status} {response_note(e)}".strip())
        events.append((e.ended or e.started, 2 * n + 1, f"    {dst}-->>{src}: {answer}"))
    events.sort()
    lines = ["sequenceDiagram"] + [f"    participant {k} as {v}" for k, v in NAMES.items()]
    return "\n".join(lines + [line for _, _, line in events])


def _mermaid_text(text: str) -> str:
    # ';' ends a statement and '#' starts an entity code in Mermaid: keep messages plain.
    return short(text.replace(";", ",").replace("#", ""), 90)


def mermaid_markdown(trace: Trace) -> Any:
    """The diagram as a Markdown object a notebook displays (JupyterLab 4 draws it)."""
    from IPython.display import Markdown

    return Markdown(f"```mermaid\n{mermaid(trace)}\n```")


def show_source(obj: Any) -> Any:
    """An object's source as a Markdown code block, so a notebook can show labkit code it uses."""
    import inspect

    from IPython.display import Markdown

    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")
