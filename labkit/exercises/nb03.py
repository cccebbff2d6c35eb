"""Checks for notebook 03 (the provider), and the tiny provider its second exercise completes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.server.auth.provider import AccessToken, AuthorizationCode
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.applications import Starlette
from starlette.routing import Route

from labkit import pkce
from labkit.exercises import NotAttempted, Verdict, acall, call, not_attempted, right, wrong

# -- exercise 1: a redirect-URI policy -------------------------------------------------

# (uri, allowed, why): what the lab's policy says, and the reason a learner needs when it differs.
REDIRECT_URI_CASES: list[tuple[str, bool, str]] = [
    ("https://app.example.com/callback", True, "https is fine anywhere"),
    ("https://app.example.com/callback?tenant=acme", True, "a query is allowed (RFC 6749 §3.1.2); a fragment is not"),
    ("http://127.0.0.1:8765/callback", True, "http on loopback, any port: a native app's listener (RFC 8252 §7.3)"),
    (
        "http://localhost/callback",
        True,
        "localhost is a loopback host (RFC 8252 §8.3 prefers 127.0.0.1 or [::1], but this lab accepts it)",
    ),
    ("http://[::1]:9000/callback", True, "[::1] is the IPv6 loopback address (urlsplit's .hostname spells it ::1)"),
    (
        "http://app.example.com/callback",
        False,
        "plain http to a remote host sends the code across the network in clear",
    ),
    ("https://app.example.com/callback#done", False, "a redirect URI must not have a fragment (RFC 6749 §3.1.2)"),
    ("http://127.0.0.1.evil.example/callback", False, "its host is 127.0.0.1.evil.example: compare the parsed host"),
    ("http://localhost.evil.example/callback", False, "its host is localhost.evil.example, not localhost"),
    ("http://127.0.0.1@evil.example/callback", False, "'127.0.0.1@' is a user name: the host is evil.example"),
    ("javascript:alert(1)", False, "neither https nor http"),
    (
        "com.example.app:/callback",
        False,
        "this lab's policy is https or loopback http only (RFC 8252 §7.1 lets a real server accept such schemes)",
    ),
]


def check_redirect_uri_policy(fn: Callable[[str], bool]) -> Verdict:
    """Run the learner's policy against the lab's cases; the first disagreement is the feedback."""
    if inspect.iscoroutinefunction(fn):
        return wrong("make redirect_uri_allowed a plain `def`")
    for uri, allowed, why in REDIRECT_URI_CASES:
        try:
            result = call(fn, uri)
        except NotAttempted:
            return not_attempted("redirect_uri_allowed")
        except Exception as exc:  # the learner's code: report, never raise
            return wrong(f"for {uri} your function raised {type(exc).__name__}: {exc}; return True or False")
        if result not in (True, False):
            return wrong(f"return True or False (for {uri} you returned {result!r})")
        if bool(result) != allowed:
            verb = "accept" if allowed else "refuse"
            return wrong(f"{verb} {uri}: {why}")
    return right(
        f"all {len(REDIRECT_URI_CASES)} cases. In a provider, register_client raises "
        "RegistrationError('invalid_redirect_uri', ...) for a refused URI and the SDK answers 400."
    )


# -- exercise 2: single-use codes on a tiny provider ------------------------------------

TINY_REDIRECT_URI = "http://127.0.0.1/callback"
TINY_RESOURCE = "http://127.0.0.1/mcp"


class TinyProvider:
    """A provider small enough to read at once: clients, codes and tokens in dicts.

    The SDK's ``/token`` handler talks to it through ``get_client``,
    ``load_authorization_code`` and ``exchange_authorization_code``; the exercise writes
    the last two. Read it whole with ``nb03.TinyProvider??``.
    """

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}  # code string -> what it grants
        self.used: set[str] = set()  # code strings already exchanged
        self.tokens: dict[str, str] = {}  # access or refresh token -> the code string it came from
        self.revoked: set[str] = set()  # tokens that no longer work

    # What registration and the login page would do; the check calls these to set the scene.

    def add_client(self, client_id: str) -> OAuthClientInformationFull:
        client = OAuthClientInformationFull(
            client_id=client_id,
            redirect_uris=[TINY_REDIRECT_URI],  # type: ignore[list-item]
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            scope="notes:read",
        )
        self.clients[client_id] = client
        return client

    def add_code(self, client_id: str, code_challenge: str, *, ttl: float = 300) -> str:
        """A fresh code, bound to the client and the PKCE challenge, for user ``bob``."""
        code = f"code_{secrets.token_urlsafe(20)}"
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=["notes:read"],
            expires_at=time.time() + ttl,
            client_id=client_id,
            code_challenge=code_challenge,
            redirect_uri=TINY_REDIRECT_URI,  # type: ignore[arg-type]
            redirect_uri_provided_explicitly=True,
            resource=TINY_RESOURCE,
            subject="bob",
        )
        return code

    # Helpers for the exercise.

    def mint_tokens(self, code: AuthorizationCode) -> OAuthToken:
        """A new access token and refresh token for what ``code`` grants (remembered under the code)."""
        access, refresh = f"at_{secrets.token_urlsafe(32)}", f"rt_{secrets.token_urlsafe(32)}"
        self.tokens[access] = self.tokens[refresh] = code.code
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=300,
            scope=" ".join(code.scopes),
            refresh_token=refresh,
        )

    def revoke_tokens_of(self, code: str) -> None:
        """Revoke every token minted from the code string ``code``."""
        self.revoked.update(token for token, origin in self.tokens.items() if origin == code)

    # The protocol methods.

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def load_access_token(self, token: str) -> AccessToken | None:
        origin = self.tokens.get(token)
        if origin is None or token in self.revoked or not token.startswith("at_"):
            return None
        granted = self.codes[origin]
        return AccessToken(
            token=token,
            client_id=granted.client_id,
            scopes=granted.scopes,
            resource=granted.resource,
            subject=granted.subject,
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        raise NotImplementedError  # the exercise

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        raise NotImplementedError  # the exercise


def token_app(provider: Any) -> Starlette:
    """The SDK's own ``/token`` handler in front of ``provider``, as ``create_auth_routes`` mounts it."""
    handler = TokenHandler(provider, ClientAuthenticator(provider))
    return Starlette(routes=[Route("/token", endpoint=handler.handle, methods=["POST"])])


class _Failed(Exception):
    """A case went wrong: carries the verdict to give."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


def check_single_use(provider_class: type) -> Verdict:
    """Run the learner's provider behind the SDK's ``/token`` handler (in memory, no port)."""
    if not (inspect.isclass(provider_class) and issubclass(provider_class, TinyProvider)):
        return wrong("pass your class itself (MyProvider), a subclass of nb03.TinyProvider")
    for name in ("load_authorization_code", "exchange_authorization_code"):
        if not inspect.iscoroutinefunction(getattr(provider_class, name)):
            return wrong(f"keep {name} an `async def`: the SDK awaits it")
    # The notebook's own event loop is busy running the cell: run the scenario on a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(asyncio.run, _single_use_scenario(provider_class)).result(timeout=30)
        except Exception as exc:
            return wrong(f"the check could not run your provider ({type(exc).__name__}: {exc})")


async def _single_use_scenario(provider_class: type) -> Verdict:
    try:
        await _load_cases(provider_class)
        await _exchange_cases(provider_class)
        await _failed_pkce_keeps_the_code(provider_class)
    except NotAttempted as exc:
        return not_attempted(str(exc) or "MyProvider")
    except _Failed as failed:
        return failed.verdict
    return right(
        "codes load only for their own client, exchange once, and a replay is refused and revokes what the "
        "first exchange gave; a failed PKCE check does not burn the code."
    )


async def _learner(method: Callable[..., Any], *args: Any) -> Any:
    name = method.__name__
    try:
        return await acall(method, *args)
    except NotAttempted:
        raise NotAttempted(name) from None
    except Exception as exc:
        raise _Failed(wrong(f"{name} raised {type(exc).__name__}: {exc}")) from None


async def _load_cases(provider_class: type) -> None:
    provider = provider_class()
    mine, theirs = provider.add_client("client-a"), provider.add_client("client-b")
    code = provider.add_code("client-a", pkce.s256_challenge(pkce.make_verifier()))
    if await _learner(provider.load_authorization_code, mine, "code_no-such-code") is not None:
        raise _Failed(wrong("load_authorization_code must return None for a code that does not exist"))
    loaded = await _learner(provider.load_authorization_code, mine, code)
    if not isinstance(loaded, AuthorizationCode) or loaded.code != code:
        raise _Failed(
            wrong(f"load_authorization_code must return the AuthorizationCode from self.codes, not {loaded!r}")
        )
    if await _learner(provider.load_authorization_code, theirs, code) is not None:
        raise _Failed(
            wrong(
                "client-b got client-a's code from load_authorization_code: return None when the code's client_id "
                "is not client.client_id (the SDK checks too, but a provider must not hand out another client's code)"
            )
        )


async def _post_token(
    http: httpx2.AsyncClient, code: str, verifier: str, client_id: str = "client-a"
) -> httpx2.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": TINY_REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    try:
        return await http.post("/token", data=form)
    except NotImplementedError:
        raise NotAttempted("exchange_authorization_code") from None
    except Exception as exc:
        raise _Failed(wrong(f"POST /token failed inside your provider: {type(exc).__name__}: {exc}")) from None


def _describe(response: httpx2.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}"
    return f"{response.status_code} {body.get('error', '')} ({body.get('error_description', '')})"


@asynccontextmanager
async def _one_code(provider_class: type) -> AsyncIterator[tuple[Any, str, str, httpx2.AsyncClient]]:
    """A fresh learner provider with one client and one code, behind the SDK's token endpoint (no port)."""
    provider = provider_class()
    provider.add_client("client-a")
    verifier = pkce.make_verifier()
    code = provider.add_code("client-a", pkce.s256_challenge(verifier))
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=token_app(provider)), base_url="http://tiny"
    ) as http:
        yield provider, code, verifier, http


async def _exchange_cases(provider_class: type) -> None:
    async with _one_code(provider_class) as (provider, code, verifier, http):
        first = await _post_token(http, code, verifier)
        if first.status_code != 200:
            raise _Failed(
                wrong(f"the first exchange of a good code must give tokens; the SDK answered {_describe(first)}")
            )
        access = first.json()["access_token"]
        second = await _post_token(http, code, verifier)
    if second.status_code == 200:
        raise _Failed(wrong("the same code gave tokens twice: remember it in self.used and refuse a second exchange"))
    if second.json().get("error") != "invalid_grant":
        raise _Failed(wrong(f"a replayed code is invalid_grant (RFC 6749 §5.2); the SDK answered {_describe(second)}"))
    if await provider.load_access_token(access) is not None:
        raise _Failed(
            wrong(
                "the replay was refused, but the first exchange's tokens still work: a used code coming back means "
                "someone copied it, so call self.revoke_tokens_of(code) (RFC 6749 §4.1.2)"
            )
        )


async def _failed_pkce_keeps_the_code(provider_class: type) -> None:
    async with _one_code(provider_class) as (_provider, code, verifier, http):
        guess = await _post_token(http, code, pkce.make_verifier())
        if guess.status_code != 400:
            raise _Failed(wrong(f"a wrong code_verifier must fail; the SDK answered {_describe(guess)}"))
        real = await _post_token(http, code, verifier)
    if real.status_code != 200:
        raise _Failed(
            wrong(
                "after one wrong code_verifier, the right one was refused: the SDK calls load_authorization_code "
                "before it checks PKCE, so mark a code used in exchange_authorization_code, which runs only once "
                f"every check passed (the SDK answered {_describe(real)})"
            )
        )
