# %% [markdown]
# # 03 · The provider: what the SDK checks, and what it leaves to you
#
# The SDK's authorization-server routes parse and check every request, then call one method
# of a *provider* that you write. You watch which method each request reaches, which checks
# the SDK already made, and which ones only the provider can make.

# %% [markdown]
# ## Start the lab
#
# The lab is local and throwaway: ids, codes and tokens are shown in full.

# %%
import labkit

lab = labkit.start()
lab.reset()
print("authorization server (issuer):", lab.issuer_url)

# %% [markdown]
# ## The protocol
#
# `create_auth_routes(provider, issuer_url, ...)` gives the metadata, `/authorize`, `/token`,
# `/register` and `/revoke` routes. Everything they need from you is in one protocol class:

# %%
from mcp.server.auth.provider import OAuthAuthorizationServerProvider

methods = [name for name in vars(OAuthAuthorizationServerProvider) if not name.startswith("_")]
for name in methods:
    print(name)

# %% [markdown]
# `labkit/provider.py` implements it for the lab (`LabProvider`), all in memory. The last
# method (an enterprise identity-assertion grant, SEP-990) is off unless enabled; the lab
# does not implement it.
#
# | method | reached from | the SDK has already checked | left to the provider |
# |---|---|---|---|
# | `register_client` | `POST /register` | the metadata's shape; `authorization_code` and `code` are in it; `scope` within the allowed list; it made the `client_id` (and a secret, unless `none`) | the policy: which redirect URIs, names, scopes; storing the client |
# | `get_client` | `/authorize`, `/token`, `/revoke` | nothing | the lookup |
# | `authorize` | `GET /authorize` | the client exists; `redirect_uri` registered, exact; scopes within the registration; `code_challenge` present, method `S256` | where the user goes (login, consent, an upstream IdP); `resource` (RFC 8707); what to remember meanwhile |
# | `load_authorization_code` | `POST /token`, code grant | the client (a public one: that it exists) | finding the code; hiding other clients' codes; its deadline, in wall time |
# | `exchange_authorization_code` | same request, next | code's client = caller; not expired; same `redirect_uri`; PKCE verifier | single use; minting tokens bound to user, scopes, resource |
# | `load_refresh_token` / `exchange_refresh_token` | `POST /token`, refresh grant | client, expiry, scopes within the old ones | rotation; replay detection (notebook 05) |
# | `load_access_token` / `revoke_token` | `POST /revoke` (and `load_access_token` from the SDK's `ProviderTokenVerifier`, when one app is both servers) | client; the token is the caller's | revoking the whole grant (notebook 06) |

# %% [markdown]
# ## Watching the provider
#
# The SDK's handlers hold the provider object and call its methods by name. To see which
# ones a request reaches, we wrap them on the lab's provider instance for the length of a
# `with` block, and record the names in order.

# %%
import contextlib

watched = [name for name in methods if hasattr(lab.provider, name)]


@contextlib.contextmanager
def watching(provider):
    calls = []

    def recorded(name):
        method = getattr(provider, name)

        async def wrapper(*args, **kwargs):
            calls.append(name)
            return await method(*args, **kwargs)

        return wrapper

    for name in watched:
        setattr(provider, name, recorded(name))
    try:
        yield calls
    finally:
        for name in watched:
            delattr(provider, name)  # the class's own methods again

# %% [markdown]
# Two more helpers: `outcome` sums up an answer in one line (the status, and the error or
# where the redirect goes), and `c` is an HTTP client that shows redirects instead of
# following them.

# %%
from labkit import manual


def outcome(response) -> str:
    if response.status_code in (302, 303):
        location = response.headers["location"]
        if location.startswith(lab.urls.endpoint("/login?")):
            return "302 to the login page"
        query = manual.query_of(location)
        return f"302 to the client, error={query['error']}" if "error" in query else "302 to the client with a code"
    if response.status_code >= 400:
        return f"{response.status_code} {response.json()['error']}"
    return str(response.status_code)


c = manual.http()

# %% [markdown]
# ## `/register` → `register_client`
#
# Three registrations: one the SDK refuses by itself, one it passes on and the provider
# refuses, one that succeeds.

# %%
register_url = lab.urls.endpoint("/register")
attempts = {
    "no authorization_code grant": {"redirect_uris": [manual.REDIRECT_URI], "grant_types": ["refresh_token"]},
    "a redirect URI with a fragment": {"redirect_uris": ["http://127.0.0.1/callback#top"]},
    "a loopback redirect URI": {"redirect_uris": [manual.REDIRECT_URI], "scope": "notes:read"},
}
for label, body in attempts.items():
    with watching(lab.provider) as calls:
        response = c.post(register_url, json={**body, "token_endpoint_auth_method": "none"})
    print(f"{label:32} {outcome(response):28} provider: {calls}")

# %% [markdown]
# The redirect-URI rule (https, or http on a loopback host, never a fragment) is not in the
# SDK: it is `check_redirect_uri` in `labkit/provider.py`, called from `register_client`.
# The scope policy is the provider's too: the client asked for `notes:read`, and the
# provider registered every lab scope, leaving the choice to the user at sign-in
# (RFC 7591 §3.2.1 lets a server replace what a client asks for). Exercise 1 writes the
# redirect-URI rule.

# %%
registered = response.json()
print("asked scope=notes:read, registered scope:", registered["scope"])
assert registered["scope"] == "notes:read notes:write"

# %% [markdown]
# ## `/authorize` → `get_client`, then `authorize`
#
# A client and a PKCE pair, then the same authorization request spoiled one way at a time.

# %%
import secrets

from labkit import pkce

client = manual.register(lab, c)
verifier = pkce.make_verifier()
state = secrets.token_urlsafe(16)
good = manual.authorize_params(lab, client, challenge=pkce.s256_challenge(verifier), state=state)


def without(params, key):
    return {k: v for k, v in params.items() if k != key}


spoiled = {
    "unknown client_id": {**good, "client_id": "no-such-client"},
    "redirect_uri not registered": {**good, "redirect_uri": manual.REDIRECT_URI + "/"},
    "scope not registered": {**good, "scope": "notes:admin"},
    "no code_challenge": without(good, "code_challenge"),
    "code_challenge_method=plain": {**good, "code_challenge_method": "plain"},
    "no resource": without(good, "resource"),
    "a resource it does not serve": {**good, "resource": "https://other.example/mcp"},
}
for label, params in spoiled.items():
    with watching(lab.provider) as calls:
        response = manual.start_authorization(lab, c, params)
    print(f"{label:30} {outcome(response):45} provider: {calls}")

# %% [markdown]
# Read the last column:
#
# - None of the first five reaches `authorize`. The SDK refused the first three by checking
#   what `get_client` returned (no client; a redirect URI or scope not registered). No
#   `code_challenge` and `plain` failed its parameter validation, before any lookup; it
#   called `get_client` afterwards only to find the redirect URI to send the error to.
# - An unknown client or an unregistered `redirect_uri` gets a 400 answer, **not** a redirect:
#   a redirect URI the server cannot vouch for must receive nothing (RFC 6749 §4.1.2.1),
#   or the server becomes an open redirector (§10.15). The others go back to the client
#   with `error`.
# - `resource` is the provider's business: the SDK passes it through unchecked, and our
#   `authorize` requires it and refuses a server it does not issue tokens for
#   (`invalid_target`, RFC 8707).
#
# Now the request unspoiled:

# %%
with watching(lab.provider) as calls:
    response = manual.start_authorization(lab, c, good)
login_page = response.headers["location"]
print(outcome(response), "| provider:", calls)
print("Location:", login_page)
assert calls == ["get_client", "authorize"]

# %% [markdown]
# After its checks, the SDK's `AuthorizationHandler` (`mcp/server/auth/handlers/authorize.py`)
# ends with:
#
# ```python
# # Let the provider pick the next URI to redirect to
# return RedirectResponse(
#     url=await self.provider.authorize(
#         client,
#         auth_params,
#     ),
#     status_code=302,
#     headers={"Cache-Control": "no-store"},
# )
# ```
#
# `auth_params` is what the SDK validated (an `AuthorizationParams`: `state`, `scopes`,
# `code_challenge`, `redirect_uri`, `resource`). Our `authorize` keeps it under a fresh id
# until the user signs in, and returns the login page's URL. That is `lab.provider.pending`:

# %%
login_id = manual.query_of(login_page)["request"]
assert list(lab.provider.pending) == [login_id]
pending = lab.provider.pending[login_id]
print(f"request={login_id}")
print("client:", pending.client.client_name, pending.client.client_id)
print(f"state={pending.params.state}")
print(f"code_challenge={pending.params.code_challenge}")
print("scopes:", pending.params.scopes, "| resource:", pending.params.resource)
print("redirect_uri:", pending.params.redirect_uri)
print("expires in", round((pending.expires_at - lab.clock.now()) / 60), "min")

# %% [markdown]
# The key is an id the server made, not the client's `state`: a client cannot choose, or
# collide with, another pending sign-in.
#
# ## The login page is yours
#
# The SDK's part ended with the redirect. What the user sees at that `Location` is the
# provider author's page, `labkit/login_page.py`. Its form carries the pending id back
# (printed here as `…`, since it changes every run):

# %%
page = c.get(login_page)
html = page.text
assert f'name="request" value="{login_id}"' in html
start, end = html.index('<div class="box">'), html.index("</form></div>") + len("</form></div>")
print(html[start:end].replace(login_id, "…"))

# %% [markdown]
# Everything in that page is escaped (the client chose its own name), and the headers keep
# it out of frames and away from scripts:

# %%
for header in ("content-security-policy", "x-frame-options", "referrer-policy", "cache-control"):
    print(f"{header}: {page.headers[header]}")

# %% [markdown]
# Signing in calls no protocol method at all: the login route checks the password and calls
# the lab's own `provider.approve(login_id, user)`, which mints the code and binds it to the
# client, the user, the scopes, the PKCE challenge and the resource.

# %%
with watching(lab.provider) as calls:
    form = {"request": login_id, "username": "bob", "password": "bob-writes"}
    response = c.post(lab.urls.endpoint("/login"), data=form)
callback = response.headers["location"]
code = manual.query_of(callback)["code"]
print(outcome(response), "| provider:", calls)
record = lab.provider.codes[code]
print(f"code={code}")
print("client:", record.code.client_id, "| subject:", record.code.subject, "| scopes:", record.code.scopes)
print("resource:", record.code.resource, "| used:", record.used)
print("expires in", round((record.lab_expires_at - lab.clock.now()) / 60), "min")
assert calls == [] and lab.provider.pending == {}

# %% [markdown]
# ## `/token` → `load_authorization_code`, then `exchange_authorization_code`
#
# The same code, presented five ways: three spoiled, then right, then right again.

# %%
authorization = manual.Authorization(client, verifier, state, callback, manual.query_of(callback))
other = manual.register(lab, c, client_name="another client")
presentations = {
    "a wrong code_verifier": {"verifier": pkce.make_verifier()},
    "another redirect_uri": {"redirect_uri": manual.OTHER_REDIRECT_URI},
    "by another client": {"client_id": other.client_id},
    "all right": {},
    "the same code again": {},
}
answers = {}
for label, changes in presentations.items():
    with watching(lab.provider) as calls:
        answers[label] = response = manual.exchange(lab, c, authorization, **changes)
    print(f"{label:22} {outcome(response):18} {response.json().get('error_description', '')}".rstrip())
    print(f"{'':22} provider: {calls}")

# %% [markdown]
# - A wrong verifier and another `redirect_uri` are refused by the SDK after it loaded the
#   code, before `exchange_authorization_code`. (RFC 6749 §5.2 files a `redirect_uri`
#   mismatch under `invalid_grant`; mcp 2.3.0 answers `invalid_request`.)
# - For another client, our `load_authorization_code` returns `None` (the SDK would also
#   refuse a code whose `client_id` differs): "does not exist" tells an attacker nothing.
# - Those three failures did not burn the code: the fourth attempt got tokens.
# - The fifth attempt passed every SDK check, like the fourth: only the provider knows the
#   code was used. Ours refuses it, and revokes what the first exchange gave, since a code
#   coming back means someone copied it (RFC 6749 §4.1.2):

# %%
first_access_token = answers["all right"].json()["access_token"]
print(manual.introspect(lab, c, first_access_token))
assert answers["the same code again"].json()["error"] == "invalid_grant"

# %% [markdown]
# ### Expiry, and whose clock
#
# The SDK checks a code's `expires_at` against `time.time()`, the wall clock. The lab runs
# its own clock, so `load_authorization_code` hands the SDK the deadline translated to wall
# time:
#
# ```python
# return record.code.model_copy(update={"expires_at": self.clock.to_wall(record.lab_expires_at)})
# ```
#
# Moving the lab's clock past the five minutes of a fresh code:

# %%
fresh = manual.authorize(lab, c, client)
lab.clock.advance(301)
with watching(lab.provider) as calls:
    response = manual.exchange(lab, c, fresh)
print(outcome(response), response.json()["error_description"], "| provider:", calls)
assert response.json()["error_description"] == "authorization code has expired"

# %% [markdown]
# ## What is left to you
#
# The SDK does the protocol checks that need nothing but the request and what you return.
# What needs your storage, your users or your policy is yours:
#
# - **registration policy**: which redirect URIs, names and scopes a client may register;
# - **where `/authorize` sends the user**, and the whole page there: escaping, CSP, Deny,
#   a wrong password, how long a pending sign-in lives;
# - **the resource** (RFC 8707): the SDK passes `resource` from `/authorize` through
#   unchecked, and does not pass the token request's `resource` to you at all;
# - **codes**: 160 random bits (RFC 6749 §10.10), bound to client, user, scopes, challenge and
#   resource; single use, and a replay revokes what the code gave;
# - **tokens**: lifetimes, rotation of refresh tokens and replay detection (notebook 05),
#   revoking a whole grant, introspection for resource servers (notebook 06).
#
# ## Recap
#
# - `/register`, `/authorize`, `/token` and `/revoke` each check the request and call one to
#   three provider methods (`/revoke` up to four); a request the SDK refuses never reaches
#   `register_client`, `authorize` or `exchange_authorization_code`.
# - `authorize` returns a URL; the login page at that URL, and minting the code after it,
#   are entirely the provider author's.
# - The SDK checks a code's client, expiry, redirect URI and PKCE verifier; only the provider
#   can make a code single use.
#
# ## Exercise 1: a redirect-URI policy
#
# Write `redirect_uri_allowed(uri)`: `True` for https anywhere or http on a loopback host
# (`127.0.0.1`, `localhost`, `[::1]`, any port), `False` for anything else and for any URI
# with a fragment. `urllib.parse.urlsplit` does the parsing; its `.hostname` gives `[::1]`
# as `::1`, without brackets. RFC 8252 §8.3 recommends the loopback IP literals over
# `localhost`; the lab still accepts `localhost`. The check tries twelve URIs, some of them
# made to fool a prefix test.

# %% [exercise] redirect-uri-policy
def redirect_uri_allowed(uri: str) -> bool:
    raise NotImplementedError

# %%
from labkit.exercises import nb03

nb03.check_redirect_uri_policy(redirect_uri_allowed)

# %% [markdown]
# ## Exercise 2: single-use codes
#
# `nb03.TinyProvider` is a provider reduced to what `/token` needs (read it with
# `nb03.TinyProvider??`). It keeps `self.codes` (code string → `AuthorizationCode`) and
# `self.used` (a set), and offers `self.mint_tokens(authorization_code)` and
# `self.revoke_tokens_of(code_string)`. Write its two code methods:
#
# - `load_authorization_code(client, authorization_code)`: the `AuthorizationCode` for that
#   string, or `None` if there is none or it belongs to another client;
# - `exchange_authorization_code(client, authorization_code)`: tokens the first time; after
#   that, revoke what the first exchange gave and raise `TokenError("invalid_grant", ...)`.
#
# The check puts your provider behind the SDK's own `/token` handler (in memory, no port)
# and replays codes at it.

# %% [exercise] single-use-codes
from mcp.server.auth.provider import TokenError

from labkit.exercises import nb03


class MyProvider(nb03.TinyProvider):
    async def load_authorization_code(self, client, authorization_code):
        raise NotImplementedError

    async def exchange_authorization_code(self, client, authorization_code):
        raise NotImplementedError

# %%
from labkit.exercises import nb03

nb03.check_single_use(MyProvider)
