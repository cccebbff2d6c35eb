"""Explain a token in words, from what the authorization server says about it (RFC 7662)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit import manual

if TYPE_CHECKING:
    from labkit.lab import Lab


@dataclass(frozen=True)
class TokenExplanation:
    """The introspection answer, and the same in sentences."""

    answer: dict[str, Any]
    lines: list[str]

    def __str__(self) -> str:
        return "\n".join(self.lines)

    __repr__ = __str__


def explain_token(lab: Lab, token: str) -> TokenExplanation:
    """Ask ``/introspect`` as the lab's MCP server would, and say what the answer means."""
    with manual.http() as http:
        answer = manual.introspect(lab, http, token)
    if not answer.get("active"):
        reason = _why_inactive(lab, token)
        return TokenExplanation(answer, [f"inactive: {reason}", "A resource server must refuse it (401)."])
    left = int(answer["exp"] - lab.clock.now())
    audience = answer.get("aud")
    lines = [
        f"active: an access token of {answer.get('sub')}, given to client {answer.get('client_id')}",
        f"scopes: {answer.get('scope')}",
        f"audience: {audience} (only that resource server may accept it)",
        f"expires in {left} s of lab time",
    ]
    return TokenExplanation(answer, lines)


def _why_inactive(lab: Lab, token: str) -> str:
    provider = lab.provider
    with provider.lock:
        if token in provider.refresh_tokens:
            return "this is a refresh token; only the token endpoint accepts it, never a resource server"
        record = provider.access_tokens.get(token)
        grant = provider.grants.get(record.grant_id) if record else None
        if record is None or grant is None:
            return "the authorization server never issued it (or the lab was reset)"
        if grant.revoked:
            return "its grant was revoked (revocation, or a replayed code or refresh token)"
        return "it has expired"
