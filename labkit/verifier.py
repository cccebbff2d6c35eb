"""The resource server's ``TokenVerifier``: ask the authorization server (RFC 7662), check the audience.

The SDK's bearer middleware calls ``verify_token`` for every request that carries a token;
``None`` means 401. What the verifier must decide itself:

- is the token active (introspection answers that);
- was it minted *for this server* (RFC 8707 audience), or is someone replaying a token
  that another resource server received (the confused-deputy problem);
- whether to cache the answer, and for how long: a cache saves a round trip per request
  but keeps honouring a revoked token until its entry expires, unless the authorization
  server tells the resource server about revocations (which this lab's does).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx2
from mcp.server.auth.provider import AccessToken

from labkit.clock import LabClock
from labkit.http import async_client
from labkit.introspection import ResourceServerCredentials
from labkit.provider import token_digest
from labkit.trace import Exchange, Trace

DEFAULT_CACHE_SECONDS = 30.0


@dataclass
class VerifierStats:
    """What the verifier did, so a notebook can show the cost of each choice."""

    introspections: int = 0
    cache_hits: int = 0
    rejected_inactive: int = 0
    rejected_audience: int = 0


@dataclass
class IntrospectionTokenVerifier:
    """Verifies opaque bearer tokens by introspection, with one shared HTTP client and a cache.

    The cache keeps a positive answer for ``cache_seconds`` (never past the token's expiry).
    A cache alone would keep honouring a revoked token until its entry expires; here the
    authorization server also tells us which tokens it revoked (``forget``), so revocation
    still takes effect at once. ``cache_seconds=0`` asks the authorization server every time.
    """

    introspection_url: str
    credentials: ResourceServerCredentials
    resource: str  # our own resource identifier; a token must name it in ``aud``
    clock: LabClock
    check_audience: bool = True
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    stats: VerifierStats = field(default_factory=VerifierStats)
    _http: httpx2.AsyncClient | None = field(default=None, repr=False)
    _cache: dict[str, tuple[float, AccessToken]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _revocations: int = field(default=0, repr=False)
    trace: Trace | None = None  # set it to see the introspection calls in a flow's trace

    def _client(self) -> httpx2.AsyncClient:
        # Created on first use, on the server's own event loop, then reused: opening a
        # client per request costs an SSL context (about 16 ms) every time.
        if self._http is None:
            self._http = async_client(
                auth=httpx2.BasicAuth(self.credentials.client_id, self.credentials.client_secret),
                timeout=httpx2.Timeout(5.0),
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def forget(self, digests: list[str] | None) -> None:
        """Drop cached answers for these token digests (None: everything). Thread-safe.

        Also counts the revocation, so an introspection answer already on its way back
        (given before the revocation) is not cached afterwards; see ``verify_token``.
        """
        with self._lock:
            self._revocations += 1
            if digests is None:
                self._cache.clear()
            else:
                for digest in digests:
                    self._cache.pop(digest, None)

    async def verify_token(self, token: str) -> AccessToken | None:
        key = token_digest(token)  # never keep raw tokens as keys
        if self.cache_seconds > 0:
            with self._lock:
                cached = self._cache.get(key)
            if cached and cached[0] > self.clock.now():
                self.stats.cache_hits += 1
                return cached[1]
        with self._lock:
            revocations_before = self._revocations
        access, lab_expiry = await self._introspect(token)
        if access is not None and self.cache_seconds > 0:
            until = self.clock.now() + self.cache_seconds
            with self._lock:
                # A revocation announced while we were asking may concern this very token:
                # then the answer is stale already, so use it once but do not keep it.
                if self._revocations == revocations_before:
                    self._cache[key] = (min(until, lab_expiry) if lab_expiry else until, access)
        return access

    async def _introspect(self, token: str) -> tuple[AccessToken | None, float | None]:
        self.stats.introspections += 1
        started = time.perf_counter()
        try:
            response = await self._client().post(self.introspection_url, data={"token": token})
        except httpx2.HTTPError:
            return None, None  # authorization server unreachable: fail closed
        if response.status_code != 200:
            return None, None
        info = response.json()
        if self.trace is not None:
            self.trace.record(
                Exchange(
                    "POST",
                    self.introspection_url,
                    response.status_code,
                    sender="resource server",
                    started=started,
                    ended=time.perf_counter(),
                    request_form={"token": token},
                    response_json=info,
                )
            )
        if not info.get("active"):
            self.stats.rejected_inactive += 1
            return None, None
        audience = info.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.check_audience and self.resource not in audiences:
            # RFC 8707 / MCP spec: a token minted for another resource must not work here.
            self.stats.rejected_audience += 1
            return None, None
        exp = info.get("exp") if isinstance(info.get("exp"), int) else None
        access = AccessToken(
            token=token,
            client_id=str(info.get("client_id", "")),
            scopes=str(info.get("scope", "")).split(),
            # The SDK middleware compares expires_at with the wall clock: translate lab time.
            expires_at=int(self.clock.to_wall(exp)) if exp is not None else None,
            resource=self.resource if self.resource in audiences else (audiences[0] if audiences else None),
            subject=info.get("sub"),
            claims={k: info[k] for k in ("iss", "aud", "iat", "exp") if k in info},
        )
        return access, exp
