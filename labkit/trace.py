"""Record every HTTP exchange of a flow, in order, from httpx2 event hooks on the SDK's client."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2

# Response headers worth showing a learner; the rest is noise.
SHOWN_HEADERS = ("www-authenticate", "location", "content-type", "mcp-session-id")


@dataclass
class Exchange:
    """One request and its response, as the sender saw them."""

    method: str
    url: str
    status: int | None = None
    sender: str = "client"  # or "resource server", for its introspection calls
    started: float = 0.0  # time.perf_counter() at request and response, to order nested calls
    ended: float = 0.0
    request_form: dict[str, str] = field(default_factory=dict)
    request_json: Any = None
    authorization: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_json: Any = None
    elapsed_ms: float = 0.0

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path or "/"

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))

    @property
    def mcp_method(self) -> str | None:
        """The JSON-RPC method of an MCP request (``tools/call``, ...), if this is one."""
        body = self.request_json
        return body.get("method") if isinstance(body, dict) else None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "status": self.status}


@dataclass
class Trace:
    """Pass ``trace.hooks`` as ``event_hooks`` to an ``httpx2.AsyncClient``; read ``trace.exchanges``."""

    exchanges: list[Exchange] = field(default_factory=list)
    _started: dict[int, tuple[Exchange, float]] = field(default_factory=dict, repr=False)

    @property
    def hooks(self) -> dict[str, list]:
        return {"request": [self._on_request], "response": [self._on_response]}

    def clear(self) -> None:
        self.exchanges.clear()

    def record(self, exchange: Exchange) -> None:
        """Add an exchange recorded elsewhere (the resource server's introspection calls)."""
        self.exchanges.append(exchange)

    def paths(self) -> list[str]:
        """``["POST /mcp 401", "GET /.well-known/...", ...]``: the flow in one glance, for asserts."""
        return [f"{e.method} {e.path} {e.status}" for e in self.exchanges]

    def __repr__(self) -> str:
        return f"<Trace of {len(self.exchanges)} exchanges>"

    def _repr_html_(self) -> str:
        from labkit.render import trace_html

        return trace_html(self)

    async def _on_request(self, request: httpx2.Request) -> None:
        exchange = Exchange(method=request.method, url=str(request.url))
        exchange.authorization = request.headers.get("authorization")
        content_type = request.headers.get("content-type", "")
        body = _request_body(request)
        if body is not None:
            if "application/x-www-form-urlencoded" in content_type:
                exchange.request_form = dict(parse_qsl(body.decode(errors="replace")))
            elif "json" in content_type:
                exchange.request_json = _json(body)
        exchange.started = time.perf_counter()
        self.exchanges.append(exchange)
        self._started[id(request)] = (exchange, exchange.started)

    async def _on_response(self, response: httpx2.Response) -> None:
        found = self._started.pop(id(response.request), None)
        if found is None:
            return
        exchange, started = found
        exchange.status = response.status_code
        exchange.ended = time.perf_counter()
        exchange.elapsed_ms = (exchange.ended - started) * 1000
        exchange.response_headers = {k: v for k, v in response.headers.items() if k.lower() in SHOWN_HEADERS}
        # Read only complete JSON bodies: an MCP response may be a never-ending event stream.
        if response.headers.get("content-type", "").startswith("application/json"):
            exchange.response_json = _json(await response.aread())


def _request_body(request: httpx2.Request) -> bytes | None:
    try:
        return request.content
    except httpx2.RequestNotRead:
        return None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
