"""Token introspection (RFC 7662): the endpoint a resource server asks "is this token good?".

The SDK ships no introspection endpoint; an authorization server that hands out opaque
tokens must write one. Ours answers only resource servers that authenticate with their
own credentials (RFC 7662 §2.1), since the answer tells who the token belongs to.

A deliberate simplification: it answers any authenticated resource server truthfully,
``aud`` included, even about a token meant for another one. RFC 7662 §4 lets a server
answer ``active: false`` there instead (many production servers do); the lab leaves the
audience check to the resource server, the rule notebook 06 teaches and breaks.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from labkit.provider import LabProvider, new_secret

INTROSPECTION_PATH = "/introspect"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class ResourceServerCredentials:
    """How one resource server authenticates to the introspection endpoint (HTTP Basic)."""

    client_id: str
    client_secret: str

    @classmethod
    def generate(cls, client_id: str) -> ResourceServerCredentials:
        return cls(client_id, new_secret("rs"))


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1 client_secret_basic: Base64 of urlencoded ``id:secret``."""
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    client_id, secret = decoded.split(":", 1)
    return unquote(client_id), unquote(secret)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _error(status: int, error: str, description: str) -> JSONResponse:
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="introspection"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def introspection_routes(provider: LabProvider, allowed: list[ResourceServerCredentials]) -> list[Route]:
    """``POST /introspect``: authenticated resource servers only, form body with ``token``."""

    async def introspect(request: Request) -> Response:
        creds = _basic_credentials(request.headers.get("Authorization", ""))
        # compare_digest on str refuses non-ASCII text: compare bytes.
        known = next(
            (c for c in allowed if creds and hmac.compare_digest(c.client_id.encode(), creds[0].encode())), None
        )
        if creds is None or known is None or not _same(known.client_secret, creds[1]):
            return _error(401, "invalid_client", "introspection requires a resource server's credentials (HTTP Basic)")
        try:
            form = await request.form()
        except Exception:
            return _error(400, "invalid_request", "expected an application/x-www-form-urlencoded body")
        token = form.get("token")
        if not isinstance(token, str) or not token:
            return _error(400, "invalid_request", "the token parameter is required")
        return JSONResponse(provider.introspect(token), headers=NO_STORE)

    return [Route(INTROSPECTION_PATH, introspect, methods=["POST"])]
