"""The lab's authorization-server provider: clients, pending logins, codes, token families.

The SDK's handlers (``create_auth_routes``) parse and check every request, then call
one method of this class. What they leave to us, and what this file does:

- registration policy (which redirect URIs and scopes a client may have);
- where ``/authorize`` sends the user (our login page) and what it remembers meanwhile;
- minting codes and tokens, binding them to client, user, scopes and resource;
- single use of codes, rotation of refresh tokens, revocation of whole grants.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    IdentityAssertionParams,
    RefreshToken,
    RegistrationError,
    TokenError,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from labkit.clock import LabClock
from labkit.users import ALL_SCOPES, DemoUser

CODE_TTL = 300  # RFC 6749 §4.1.2: codes are short-lived; ten minutes at most, we take five.
LOGIN_TTL = 600  # how long a pending sign-in waits for the user
EXPIRED_KEPT = 3600  # seconds an expired access token is remembered (for explanations)
MAX_CLIENT_NAME = 200  # it is shown on every login page for this client
MAX_REDIRECT_URI = 2000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def token_digest(token: str) -> str:
    """SHA-256 of a token, hex: how a token is named where the token itself must not be kept."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str, nbytes: int = 32) -> str:
    """A random, URL-safe credential. The prefix tells a learner what it is when it shows up."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


@dataclass
class PendingLogin:
    """An authorization request waiting for the user to sign in (kept under an id we make)."""

    id: str
    client: OAuthClientInformationFull
    params: AuthorizationParams
    expires_at: float


@dataclass
class Grant:
    """What one user granted one client for one resource: every token of a login belongs to one."""

    id: str
    client_id: str
    subject: str
    scopes: list[str]
    resource: str
    revoked: bool = False


@dataclass
class CodeRecord:
    code: AuthorizationCode
    grant_id: str
    lab_expires_at: float
    used: bool = False


@dataclass
class AccessRecord:
    token: str
    grant_id: str
    scopes: list[str]
    issued_at: float
    expires_at: float


@dataclass
class RefreshRecord:
    token: str
    grant_id: str
    scopes: list[str]
    expires_at: float
    rotated: bool = False  # used once already: presenting it again is a replay


@dataclass
class ProviderSettings:
    access_token_ttl: int = 300
    refresh_token_ttl: int = 86_400
    code_ttl: int = CODE_TTL


@dataclass
class LabProvider:
    """Implements ``OAuthAuthorizationServerProvider`` for the lab, all in memory.

    Every method is async because the protocol is; the state is guarded by one lock
    because notebooks also read it from other threads.
    """

    issuer: str
    clock: LabClock
    settings: ProviderSettings = field(default_factory=ProviderSettings)
    resources: set[str] = field(default_factory=set)  # resources we mint tokens for (RFC 8707)
    clients: dict[str, OAuthClientInformationFull] = field(default_factory=dict)
    pending: dict[str, PendingLogin] = field(default_factory=dict)
    codes: dict[str, CodeRecord] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessRecord] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    # Called with the SHA-256 digests of access tokens that were just revoked (None: all).
    # Resource servers that cache introspection answers listen here; in production this is
    # an event push such as the OpenID Shared Signals Framework (CAEP "session revoked").
    revocation_listeners: list[Callable[[list[str] | None], None]] = field(default_factory=list)
    on_change: Callable[[], None] | None = None  # set when the lab keeps its state in a file
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # -- clients (RFC 7591) ------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        if client_info.client_name and len(client_info.client_name) > MAX_CLIENT_NAME:
            raise RegistrationError("invalid_client_metadata", f"client_name is over {MAX_CLIENT_NAME} characters")
        for uri in client_info.redirect_uris or []:
            check_redirect_uri(str(uri))
        # RFC 7591 §3.2.1 lets the server replace requested metadata. We register every
        # client for every lab scope: the *user* decides at sign-in what a token gets,
        # and a client can later step up (SEP-2350) without registering again. The SDK's
        # handler echoes this same object, so the client sees what was registered.
        client_info.scope = " ".join(ALL_SCOPES)
        with self._lock:
            self.clients[client_info.client_id] = client_info
            self._changed()

    # -- /authorize -------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Remember the request under a fresh id and send the user to our login page.

        The SDK has already checked the client, the exact redirect URI, the scopes against
        the registration and that a PKCE challenge (S256) is present.
        """
        # Errors go back to the client's redirect URI (RFC 6749 §4.1.2.1), naming us (RFC 9207).
        if params.resource is None:
            return self._error_redirect(params, "invalid_request", "the resource parameter is required (RFC 8707)")
        if params.resource not in self.resources:
            return self._error_redirect(params, "invalid_target", f"this server issues no tokens for {params.resource}")
        login_id = secrets.token_urlsafe(24)
        with self._lock:
            self._prune()
            self.pending[login_id] = PendingLogin(
                id=login_id, client=client, params=params, expires_at=self.clock.now() + LOGIN_TTL
            )
        return f"{self.issuer}/login?request={login_id}"

    def pending_login(self, login_id: str) -> PendingLogin | None:
        """The pending sign-in with this id, if it exists and has not expired."""
        with self._lock:
            login = self.pending.get(login_id)
            if login is None or login.expires_at < self.clock.now():
                return None
            return login

    def approve(self, login_id: str, user: DemoUser) -> str | None:
        """The user signed in: mint a code and return the client's redirect URI carrying it.

        None if the pending sign-in is gone (used or expired meanwhile).
        """
        with self._lock:
            login = self.pending.pop(login_id, None)
            if login is None:
                return None
            params = login.params
            requested = params.scopes or list(ALL_SCOPES[:1])
            granted = user.grantable(requested)
            if not granted:
                return self._redirect(
                    login,
                    error="invalid_scope",
                    error_description=f"{user.username} may not grant {' '.join(requested)}",
                )
            assert params.resource is not None  # authorize() refused requests without one
            grant = Grant(
                id=secrets.token_urlsafe(12),
                client_id=login.client.client_id,
                subject=user.username,
                scopes=granted,
                resource=params.resource,
            )
            code = new_secret("code", 20)  # 160 bits, as RFC 6749 §10.10 recommends
            lab_expiry = self.clock.now() + self.settings.code_ttl
            self.grants[grant.id] = grant
            self.codes[code] = CodeRecord(
                code=AuthorizationCode(
                    code=code,
                    scopes=granted,
                    expires_at=lab_expiry,
                    client_id=grant.client_id,
                    code_challenge=params.code_challenge,
                    redirect_uri=params.redirect_uri,
                    redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
                    resource=params.resource,
                    subject=user.username,
                ),
                grant_id=grant.id,
                lab_expires_at=lab_expiry,
            )
            return self._redirect(login, code=code)

    def deny(self, login_id: str) -> str | None:
        """The user pressed Deny: RFC 6749 §4.1.2.1 says ``error=access_denied``."""
        with self._lock:
            login = self.pending.pop(login_id, None)
        if login is None:
            return None
        return self._redirect(login, error="access_denied", error_description="the user denied the request")

    def _error_redirect(self, params: AuthorizationParams, error: str, description: str) -> str:
        return construct_redirect_uri(
            str(params.redirect_uri), error=error, error_description=description, state=params.state, iss=self.issuer
        )

    def _redirect(self, login: PendingLogin, **params: str) -> str:
        # RFC 9207: name the issuer in the response so a client can detect mix-up attacks.
        return construct_redirect_uri(
            str(login.params.redirect_uri), **params, state=login.params.state, iss=self.issuer
        )

    def _prune(self) -> None:
        """Forget what can no longer matter, so a long-running lab does not grow without end.

        Kept on purpose: a used code until it would have expired (a replay must still be
        recognised and revoke its grant), a rotated refresh token until it expires (same
        reason), and an expired access token for an hour (so ``lab.explain`` can say why).
        """
        now = self.clock.now()
        for table, alive in (
            (self.pending, lambda v: v.expires_at >= now),
            (self.codes, lambda v: v.lab_expires_at >= now),
            (self.access_tokens, lambda v: v.expires_at >= now - EXPIRED_KEPT),
            (self.refresh_tokens, lambda v: v.expires_at >= now),
        ):
            for key in [k for k, v in table.items() if not alive(v)]:
                del table[key]
        used = {r.grant_id for r in self.codes.values()} | {r.grant_id for r in self.access_tokens.values()}
        used |= {r.grant_id for r in self.refresh_tokens.values()}
        for grant_id in [g for g in self.grants if g not in used]:
            del self.grants[grant_id]

    # -- authorization codes ----------------------------------------------------------

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        with self._lock:
            record = self.codes.get(authorization_code)
            if record is None or record.code.client_id != client.client_id:
                return None  # a code of another client "does not exist" for this one
            # The SDK compares expires_at with the wall clock; hand it our deadline in wall time.
            return record.code.model_copy(update={"expires_at": self.clock.to_wall(record.lab_expires_at)})

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        with self._lock:
            record = self.codes.get(authorization_code.code)
            if record is None or record.grant_id not in self.grants:
                raise TokenError("invalid_grant", "authorization code does not exist (the lab was reset)")
            if record.used:
                # RFC 6749 §4.1.2: a code used twice means someone copied it; revoke what it gave.
                self._revoke_grant(record.grant_id)
                raise TokenError(
                    "invalid_grant", "authorization code was already used; the tokens issued for it are now revoked"
                )
            record.used = True
            grant = self.grants[record.grant_id]  # present: checked above, under the same lock
            if grant.revoked:
                raise TokenError("invalid_grant", "the grant behind this code was revoked")
            return self._issue(grant, grant.scopes)

    async def exchange_identity_assertion(
        self, client: OAuthClientInformationFull, params: IdentityAssertionParams
    ) -> OAuthToken:
        """SEP-990's enterprise grant is not part of this lab (and is off in create_auth_routes)."""
        raise TokenError("unsupported_grant_type", "this lab does not accept identity assertions")

    # -- tokens -----------------------------------------------------------------------

    def _issue(self, grant: Grant, scopes: list[str]) -> OAuthToken:
        now = self.clock.now()
        access = new_secret("at")
        refresh = new_secret("rt")
        self.access_tokens[access] = AccessRecord(
            token=access,
            grant_id=grant.id,
            scopes=scopes,
            issued_at=now,
            expires_at=now + self.settings.access_token_ttl,
        )
        self.refresh_tokens[refresh] = RefreshRecord(
            token=refresh, grant_id=grant.id, scopes=grant.scopes, expires_at=now + self.settings.refresh_token_ttl
        )
        self._changed()
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=self.settings.access_token_ttl,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        with self._lock:
            record = self.refresh_tokens.get(refresh_token)
            if record is None:
                return None
            grant = self.grants[record.grant_id]
            if grant.revoked or grant.client_id != client.client_id:
                return None
            return RefreshToken(
                token=record.token,
                client_id=grant.client_id,
                scopes=record.scopes,
                expires_at=int(self.clock.to_wall(record.expires_at)),
                resource=grant.resource,
                subject=grant.subject,
            )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        with self._lock:
            record = self.refresh_tokens.get(refresh_token.token)
            grant = self.grants.get(record.grant_id) if record else None
            if record is None or grant is None:  # the lab was reset between load and exchange
                raise TokenError("invalid_grant", "refresh token does not exist")
            if record.rotated:
                # OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2: a rotated refresh token came back, so two
                # parties hold it. We cannot tell which is legitimate: revoke the whole grant.
                self._revoke_grant(grant.id)
                raise TokenError(
                    "invalid_grant", "refresh token was already used; every token of this grant is now revoked"
                )
            record.rotated = True  # rotation: this refresh token is now spent
            return self._issue(grant, scopes)  # saves the state, rotation included

    async def load_access_token(self, token: str) -> AccessToken | None:
        with self._lock:
            record = self.access_tokens.get(token)
            if record is None:
                return None
            grant = self.grants[record.grant_id]
            return AccessToken(
                token=token,
                client_id=grant.client_id,
                scopes=record.scopes,
                expires_at=int(self.clock.to_wall(record.expires_at)),
                resource=grant.resource,
                subject=grant.subject,
                claims={"iss": self.issuer},
            )

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        """RFC 7009 §2.1: revoking either token of a grant revokes the grant (all its tokens)."""
        with self._lock:
            record = self.access_tokens.get(token.token) or self.refresh_tokens.get(token.token)
            if record is not None:
                self._revoke_grant(record.grant_id)

    def _revoke_grant(self, grant_id: str) -> None:
        grant = self.grants.get(grant_id)
        if grant is None or grant.revoked:
            return
        grant.revoked = True
        dead = [token_digest(t) for t, r in self.access_tokens.items() if r.grant_id == grant_id]
        self._announce(dead)
        self._changed()

    def _announce(self, digests: list[str] | None) -> None:
        """Tell the resource servers which access tokens died (None: all of them)."""
        for listener in list(self.revocation_listeners):
            listener(digests)

    # -- introspection (RFC 7662), used by introspection.py -----------------------------

    def introspect(self, token: str) -> dict[str, object]:
        """The RFC 7662 answer for an access token: ``{"active": false}`` unless it is usable now."""
        with self._lock:
            record = self.access_tokens.get(token)
            if record is None:
                return {"active": False}
            grant = self.grants[record.grant_id]
            if grant.revoked or record.expires_at < self.clock.now():
                return {"active": False}
            return {
                "active": True,
                "token_type": "Bearer",
                "iss": self.issuer,
                "sub": grant.subject,
                "client_id": grant.client_id,
                "scope": " ".join(record.scopes),
                "aud": grant.resource,
                "iat": int(record.issued_at),
                "exp": int(record.expires_at),
            }

    # -- state that outlives the process (optional) -------------------------------------

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def export_state(self) -> dict[str, Any]:
        """Clients, grants and tokens as JSON-ready data. Codes and pending logins live minutes
        and are not kept."""
        with self._lock:
            return {
                "clock_offset": self.clock.offset,
                "clients": [c.model_dump(mode="json", exclude_none=True) for c in self.clients.values()],
                "grants": [asdict(g) for g in self.grants.values()],
                "access_tokens": [asdict(r) for r in self.access_tokens.values()],
                "refresh_tokens": [asdict(r) for r in self.refresh_tokens.values()],
            }

    def import_state(self, state: dict[str, Any]) -> None:
        """The inverse of ``export_state`` (a malformed state raises KeyError, TypeError or ValueError)."""
        with self._lock:
            clients = [OAuthClientInformationFull.model_validate(c) for c in state["clients"]]
            self.clients = {c.client_id: c for c in clients}
            self.grants = {g["id"]: Grant(**g) for g in state["grants"]}
            self.access_tokens = {r["token"]: AccessRecord(**r) for r in state["access_tokens"]}
            self.refresh_tokens = {r["token"]: RefreshRecord(**r) for r in state["refresh_tokens"]}
            self.clock.reset()
            self.clock.advance(float(state.get("clock_offset", 0.0)))

    @property
    def lock(self) -> threading.RLock:
        """The lock that guards every table (for readers in other threads)."""
        return self._lock

    def reset(self) -> None:
        """Forget every client, login, code and token (the lab's reset button)."""
        with self._lock:
            for table in (self.clients, self.pending, self.codes, self.grants, self.access_tokens, self.refresh_tokens):
                table.clear()
            self._announce(None)
            self._changed()


def check_redirect_uri(uri: str) -> None:
    """OAuth 2.1 §2.3.1 / RFC 8252: https, or http on a loopback address; never a fragment."""
    if len(uri) > MAX_REDIRECT_URI:
        raise RegistrationError("invalid_redirect_uri", f"a redirect URI is over {MAX_REDIRECT_URI} characters")
    parts = urlsplit(uri)
    if parts.fragment:
        raise RegistrationError("invalid_redirect_uri", f"{uri}: a redirect URI must not have a fragment")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise RegistrationError("invalid_redirect_uri", f"{uri}: use https, or http on a loopback address")
