"""Turn traced exchanges into text a learner can read: one step, its request, the lines that matter."""

from __future__ import annotations

from typing import Any

from labkit.demo import DemoReport, Step
from labkit.trace import Exchange

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
    who = report.results.get("whoami") or {}
    parts.append(f"whoami said: subject={who.get('subject')} scopes={who.get('scopes')} audience={who.get('audience')}")
    parts.append("Result: every step did what it should." if report.ok else "Result: some steps FAILED.")
    return "\n".join(parts)
