"""The client side: the SDK's ``OAuthClientProvider`` wired to a login strategy, and a connect helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any, Protocol

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.auth.oauth2 import OAuthContext
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from labkit.clock import LabClock
from labkit.http import async_client
from labkit.storage import InMemoryTokenStorage
from labkit.trace import Trace


class LoginStrategy(Protocol):
    """What ``OAuthClientProvider`` needs to get a code: somewhere to send the user, a way to hear back."""

    redirect_uri: str

    async def redirect_handler(self, authorization_url: str) -> None: ...

    async def callback_handler(self) -> AuthorizationCodeResult: ...


@dataclass
class _LabClockContext(OAuthContext):
    """``OAuthContext`` that judges token expiry by the lab clock instead of ``time.time()``.

    The SDK client decides by itself when to refresh: before a request, if its token has
    expired by *its* clock. The lab's clock runs ahead when a notebook moves it, so the
    in-kernel client must read the same clock to see its token age. This overrides two
    methods of an SDK class that is not in ``mcp.client.auth.__all__``; it is the lab's
    only reach into the client's internals for time.
    """

    clock: LabClock | None = None

    def update_token_expiry(self, token: OAuthToken) -> None:
        if self.clock is None or token.expires_in is None:
            super().update_token_expiry(token)
        else:
            self.token_expiry_time = self.clock.now() + int(token.expires_in)

    def is_token_valid(self) -> bool:
        if self.clock is None:
            return super().is_token_valid()
        return bool(
            self.current_tokens
            and self.current_tokens.access_token
            and (not self.token_expiry_time or self.clock.now() <= self.token_expiry_time)
        )


def oauth_client(
    mcp_url: str,
    login: LoginStrategy,
    *,
    storage: TokenStorage | None = None,
    clock: LabClock | None = None,
    client_name: str = "labkit notebook client",
    scope: str | None = None,
    restore_session: bool = True,
) -> OAuthClientProvider:
    """The SDK's ``OAuthClientProvider`` for ``mcp_url`` (the full ``.../mcp`` URL: it is the resource).

    A public client (``token_endpoint_auth_method="none"``): a notebook cannot keep a
    secret, so PKCE is what protects its codes (OAuth 2.1 §2.1, RFC 8252).
    ``restore_session=False`` leaves out what mcp 2.3.0 would not know after a restart
    (token expiry, server metadata), to show what it costs.
    """
    metadata = OAuthClientMetadata(
        client_name=client_name,
        redirect_uris=[AnyUrl(login.redirect_uri)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope=scope,
    )
    provider = OAuthClientProvider(
        mcp_url,
        metadata,
        storage if storage is not None else InMemoryTokenStorage(),
        redirect_handler=login.redirect_handler,
        callback_handler=login.callback_handler,
    )
    if isinstance(storage, InMemoryTokenStorage):
        # Expiries are stored in the time the client judges them by: one clock for both.
        if clock is None:
            clock = storage.clock
        elif storage.clock is None:
            storage.clock = clock
        if storage.clock is not clock:
            raise ValueError("the token storage and the client judge expiry by different clocks; pass one clock")
    if clock is not None:
        values = {f.name: getattr(provider.context, f.name) for f in fields(OAuthContext)}
        provider.context = _LabClockContext(**values, clock=clock)
    if isinstance(storage, InMemoryTokenStorage) and restore_session:
        hand_back_session(provider, storage, mcp_url)
    return provider


def hand_back_session(provider: OAuthClientProvider, storage: InMemoryTokenStorage, mcp_url: str) -> None:
    """Give the SDK's client the two facts mcp 2.3.0 does not keep across restarts (#3250).

    Without the expiry, a reloaded token counts as valid forever: the client sends it,
    gets 401 and starts a new login instead of refreshing. Without the metadata, its
    refresh goes to ``<MCP server origin>/token``, which is the wrong server here.
    A session stored for another MCP server is not handed back: its token endpoint may be
    gone, or somebody else's (the client then discovers and signs in afresh).
    """
    if storage.server_url not in (None, mcp_url):
        return
    if storage.tokens_expire_at is not None:
        provider.context.token_expiry_time = storage.tokens_expire_at
    if storage.oauth_metadata is not None:
        provider.context.oauth_metadata = storage.oauth_metadata


class BearerAuth(httpx2.Auth):
    """Puts one fixed access token on every request: all a client that holds a token does.

    The SDK's ``OAuthClientProvider`` also gets and renews the token; this one cannot, which
    is what a notebook wants when it replays a token somewhere on purpose.
    """

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@asynccontextmanager
async def connect(
    mcp_url: str, auth: httpx2.Auth | None = None, *, trace: Trace | None = None
) -> AsyncIterator[Client]:
    """An MCP ``Client`` session over streamable HTTP, authenticated by ``auth`` and traced by ``trace``."""
    hooks: dict[str, list[Callable[[Any], Awaitable[None]]]] = trace.hooks if trace else {}
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with (
        async_client(auth=auth, event_hooks=hooks, timeout=timeout) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        # The flow (if any) is done: keep where the token endpoint is, for the next process.
        if isinstance(auth, OAuthClientProvider) and isinstance(auth.context.storage, InMemoryTokenStorage):
            auth.context.storage.set_oauth_metadata(auth.context.oauth_metadata, server_url=mcp_url)
        yield client
