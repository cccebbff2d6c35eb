"""The MCP server as a protected resource: notes tools, bearer auth, and a per-tool scope gate.

``MCPServer`` with ``auth=AuthSettings(...)`` and a ``token_verifier`` answers 401 with
``WWW-Authenticate`` and serves protected-resource metadata (RFC 9728). One scope for the
whole endpoint is all it does; the write tool needs more, so ``ScopeGate`` answers 403
``insufficient_scope`` for it, which is what makes the SDK client step up (SEP-2350).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic_core import from_json
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labkit.urls import LabUrls, http_url
from labkit.users import ALL_SCOPES, READ_SCOPE, WRITE_SCOPE
from labkit.verifier import IntrospectionTokenVerifier

TOOL_SCOPES = {"add_note": WRITE_SCOPE}  # tools that need more than the endpoint's scope


class NoteBook:
    """The data the tools guard: a list of notes shared by everyone in this lab."""

    def __init__(self) -> None:
        self._notes: list[dict[str, str]] = [{"author": "lab", "text": "Welcome to the MCP OAuth lab."}]
        self._lock = threading.Lock()

    def all(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._notes)

    def add(self, author: str, text: str) -> int:
        with self._lock:
            self._notes.append({"author": author, "text": text})
            return len(self._notes)

    def reset(self) -> None:
        with self._lock:
            del self._notes[1:]


def add_note_tools(server: MCPServer, notebook: NoteBook) -> None:
    """The tools: ``whoami`` shows the token as the server sees it; read and write notes."""

    @server.tool()
    def whoami() -> dict[str, Any]:
        """Who is calling: the subject, client and scopes of the access token, as verified."""
        token = get_access_token()
        if token is None:
            return {"authenticated": False}
        # The authorization server's own expiry (lab time, as introspection and lab.explain say);
        # token.expires_at was translated to wall time for the SDK's middleware.
        exp = (token.claims or {}).get("exp", token.expires_at)
        expires = datetime.fromtimestamp(exp, UTC).isoformat() if exp else None
        return {
            "authenticated": True,
            "subject": token.subject,
            "client_id": token.client_id,
            "scopes": token.scopes,
            "audience": token.resource,
            "expires_at": expires,
        }

    @server.tool()
    def list_notes() -> list[dict[str, str]]:
        """All notes (needs notes:read, like every call to this server)."""
        return notebook.all()

    @server.tool()
    def add_note(text: str) -> str:
        """Add a note (needs notes:write)."""
        token = get_access_token()
        author = (token.subject or token.client_id) if token else "anonymous"
        count = notebook.add(author, text)
        return f"note {count} added by {author}"


class ScopeGate:
    """ASGI middleware: a ``tools/call`` for a tool in ``tool_scopes`` needs that scope, or 403.

    It runs after the SDK's authentication middleware, so ``scope["user"]`` holds the
    verified token. The 403 carries ``WWW-Authenticate: Bearer error="insufficient_scope",
    scope="..."`` (RFC 6750 §3.1), the signal the SDK client steps up on.
    """

    def __init__(self, app: ASGIApp, tool_scopes: dict[str, str], resource_metadata_url: str) -> None:
        self.app = app
        self.tool_scopes = tool_scopes
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        needed = self._needed_scope(body)
        user = scope.get("user")
        if needed and isinstance(user, AuthenticatedUser) and needed not in user.scopes:
            await _send_insufficient_scope(send, needed, self.resource_metadata_url)
            return
        await self.app(scope, _replay(messages, receive), send)

    def _needed_scope(self, body: bytes) -> str | None:
        try:
            # The parser the SDK's transport uses, so the gate and the transport read a body alike
            # (and a deeply nested body is a ValueError here, not a RecursionError).
            message = from_json(body)
        except ValueError:
            return None  # not JSON: the transport will answer with its own error
        batch = message if isinstance(message, list) else [message]
        for item in batch:
            if isinstance(item, dict) and item.get("method") == "tools/call":
                params = item.get("params")
                name = params.get("name") if isinstance(params, dict) else None
                if isinstance(name, str) and name in self.tool_scopes:
                    return self.tool_scopes[name]
        return None


class ScopeInChallenge:
    """ASGI middleware: name the scope a request needs in the 401's ``WWW-Authenticate``.

    The MCP authorization spec asks for it (the client requests that scope first, before
    the resource metadata's ``scopes_supported``), RFC 6750 §3 allows it; mcp 2.3.0 leaves
    it out. So a client starts with the least it needs and steps up on a 403 later.
    """

    def __init__(self, app: ASGIApp, scope: str) -> None:
        self.app = app
        self.scope_param = f', scope="{scope}"'.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_scope(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                message["headers"] = [
                    (k, v + self.scope_param) if k.lower() == b"www-authenticate" and b"scope=" not in v else (k, v)
                    for k, v in message["headers"]
                ]
            await send(message)

        await self.app(scope, receive, send_with_scope)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _send_insufficient_scope(send: Send, needed: str, resource_metadata_url: str) -> None:
    description = f"this tool needs the scope {needed}"
    challenge = (
        f'Bearer error="insufficient_scope", scope="{needed}", '
        f'error_description="{description}", resource_metadata="{resource_metadata_url}"'
    )
    body = json.dumps({"error": "insufficient_scope", "error_description": description}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def build_protected_app(urls: LabUrls, verifier: IntrospectionTokenVerifier, notebook: NoteBook) -> Starlette:
    """The notes server behind bearer auth: the ASGI app uvicorn runs."""
    server = MCPServer(
        "lab-notes",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=http_url(urls.issuer),
            resource_server_url=http_url(verifier.resource),
            required_scopes=[READ_SCOPE],
            # Our verifier checks the audience itself (verifier.py), so a notebook can switch
            # that check off and watch what breaks; the SDK's own check would hide it.
            validate_token_resource=False,
        ),
        log_level="WARNING",
    )
    add_note_tools(server, notebook)
    app = server.streamable_http_app(host=urls.host)
    metadata_url = _metadata_url(verifier.resource)
    # RFC 9728 §2: scopes_supported lists the scopes a client may ask for to use this
    # resource. The SDK fills it with required_scopes only; we list every scope a tool needs.
    prm = create_protected_resource_routes(
        http_url(verifier.resource),
        [http_url(urls.issuer)],
        scopes_supported=list(ALL_SCOPES),
        resource_name="Lab notes",
    )[0]
    app.router.routes[:] = [prm if getattr(r, "path", None) == prm.path else r for r in app.router.routes]
    # Appended last, they run inside the SDK's AuthenticationMiddleware and see the user.
    app.user_middleware.append(Middleware(ScopeGate, tool_scopes=TOOL_SCOPES, resource_metadata_url=metadata_url))
    app.user_middleware.append(Middleware(ScopeInChallenge, scope=READ_SCOPE))
    return app


def build_open_app(urls: LabUrls, notebook: NoteBook) -> Starlette:
    """The same tools with no auth at all: the baseline for notebook 01 and the benchmark."""
    server = MCPServer("lab-notes-open", log_level="WARNING")
    add_note_tools(server, notebook)
    return server.streamable_http_app(host=urls.host)


def _metadata_url(resource: str) -> str:
    return str(build_resource_metadata_url(http_url(resource)))
