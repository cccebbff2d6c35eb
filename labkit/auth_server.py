"""The authorization server as one Starlette app: the SDK's routes plus login and introspection."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.routes import build_metadata, cors_middleware, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labkit.introspection import INTROSPECTION_PATH, ResourceServerCredentials, introspection_routes
from labkit.login_page import LOGIN_PATH, login_routes
from labkit.provider import LabProvider
from labkit.urls import http_url
from labkit.users import ALL_SCOPES, READ_SCOPE

METADATA_PATH = "/.well-known/oauth-authorization-server"
AUTHORIZE_PATH = "/authorize"
REVOKE_PATH = "/revoke"


def build_auth_app(provider: LabProvider, resource_servers: list[ResourceServerCredentials]) -> Starlette:
    """``create_auth_routes`` does metadata, /authorize, /token, /register and /revoke.

    We add what a provider author must add: the login page and introspection, and we
    extend the metadata (RFC 8414) to advertise them. Two small wrappers bridge gaps of
    mcp 2.3.0 (see ``_with_issuer`` and ``_public_client_revocation``).
    """
    issuer = http_url(provider.issuer)
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=list(ALL_SCOPES), default_scopes=[READ_SCOPE])
    revocation = RevocationOptions(enabled=True)
    sdk_routes = create_auth_routes(
        provider, issuer, client_registration_options=registration, revocation_options=revocation
    )

    metadata = build_metadata(issuer, None, registration, revocation)
    metadata.introspection_endpoint = http_url(provider.issuer + INTROSPECTION_PATH)
    metadata.introspection_endpoint_auth_methods_supported = ["client_secret_basic"]
    metadata.authorization_response_iss_parameter_supported = True  # RFC 9207: we send iss
    metadata.revocation_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]
    # Public clients (no secret, PKCE instead) are what this lab registers: say so (RFC 8414 §2).
    metadata.token_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]

    routes: list[Route] = []
    for route in sdk_routes:
        path = getattr(route, "path", None)
        if path == METADATA_PATH:
            handler = cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"])
            route = Route(METADATA_PATH, endpoint=handler, methods=["GET", "OPTIONS"])
        elif path == AUTHORIZE_PATH:
            route = Route(AUTHORIZE_PATH, endpoint=_with_issuer(route.app, provider.issuer), methods=["GET", "POST"])
        elif path == REVOKE_PATH:
            route = Route(REVOKE_PATH, endpoint=_public_client_revocation(route.app), methods=["POST", "OPTIONS"])
        routes.append(route)
    routes += login_routes(provider) + introspection_routes(provider, resource_servers)
    return Starlette(routes=routes, exception_handlers={HTTPException: _oauth_error})


async def _oauth_error(request: Request, exc: Exception) -> Response:
    """A body Starlette cannot parse (e.g. multipart without boundary) still gets OAuth error JSON."""
    assert isinstance(exc, HTTPException)
    if request.url.path == LOGIN_PATH:
        return Response(exc.detail, status_code=exc.status_code)
    return JSONResponse(
        {"error": "invalid_request", "error_description": str(exc.detail)},
        status_code=exc.status_code,
        headers={"Cache-Control": "no-store"},
    )


class _ASGIWrapper:
    """An ASGI app made from a coroutine function (Starlette treats plain functions as endpoints)."""

    def __init__(self, handler: ASGIApp) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


def _with_issuer(app: ASGIApp, issuer: str) -> ASGIApp:
    """RFC 9207 §2: an error redirect from /authorize names the issuer too.

    The SDK's handler redirects some errors itself (missing or ``plain`` PKCE, bad scope)
    without ``iss``; a client that checks ``iss`` would then drop a genuine error.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_iss(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (302, 303):
                message["headers"] = [_with_iss_header(k, v, issuer) for k, v in message["headers"]]
            await send(message)

        await app(scope, receive, send_with_iss)

    return _ASGIWrapper(wrapped)


def _with_iss_header(key: bytes, value: bytes, issuer: str) -> tuple[bytes, bytes]:
    if key.lower() != b"location":
        return key, value
    return key, _add_iss(value.decode("latin-1"), issuer).encode("latin-1")


def _add_iss(location: str, issuer: str) -> str:
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "error" for k, _ in query) or any(k == "iss" for k, _ in query):
        return location
    return urlunsplit(parts._replace(query=urlencode([*query, ("iss", issuer)])))


def _public_client_revocation(app: ASGIApp) -> ASGIApp:
    """mcp 2.3.0's revocation model requires ``client_secret`` even from a public client.

    RFC 7009 §2.1 asks only for ``token`` (and the client's authentication, which for a
    public client is its ``client_id``). We add an empty ``client_secret`` to such a form
    and let the SDK's own handler do the rest.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST" or not _is_form(scope):
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > DEFAULT_MAX_REQUEST_BODY_SIZE:  # the SDK's own limit, applied before we buffer more
                too_big = JSONResponse({"error": "invalid_request", "error_description": "request body too large"}, 413)
                await too_big(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not any(k == "client_secret" for k, _ in parse_qsl(body.decode("latin-1"))):
            body += b"&client_secret=" if body else b"client_secret="
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": headers}, replay, send)

    return _ASGIWrapper(wrapped)


def _is_form(scope: Scope) -> bool:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.split(b";")[0].strip().lower() == b"application/x-www-form-urlencoded"
