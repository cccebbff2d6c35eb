# %% [markdown]
# # 02 · The OAuth server by hand: metadata, registration, PKCE, login, token
#
# You do, one request at a time, what an MCP client does to get a token: read the
# authorization server's metadata, register, send the user to `/authorize` with PKCE and
# `state`, sign in, and trade the code for tokens. Each request is printed with its answer,
# once the answer has arrived.

# %% [markdown]
# ## Start the lab
#
# The lab is local and throwaway: codes, verifiers and tokens are shown in full, since seeing
# them is the point here. Never print real ones.

# %%
import labkit

lab = labkit.start()
lab.reset()
print("authorization server (issuer):", lab.issuer_url)

# %% [markdown]
# ## A client that shows every request
#
# `labkit.manual` has one function per request of the flow; each takes the HTTP client to
# send with. We hand it one with a response hook that prints the request (method, URL,
# body, and the `Authorization` header if any) and the answer's status and `Location`
# (percent-decoded, for reading). Redirects are not followed: each 302 is a step you look at.

# %%
import json
from urllib.parse import parse_qsl, unquote

import httpx2
from labkit import manual

requests_made = []


def show(response: httpx2.Response) -> None:
    request = response.request
    url, _, query = str(request.url).partition("?")
    print(f"→ {request.method} {url}{'?…' if query else ''}")
    if "authorization" in request.headers:
        print(f"    Authorization: {request.headers['authorization']}")
    body = request.content.decode()
    if body and request.headers.get("content-type") == "application/json":
        for key, value in json.loads(body).items():
            print(f"    {key}: {value}")
    elif body:
        for key, value in parse_qsl(body):
            print(f"    {key}={value}")
    print(f"← {response.status_code} {response.reason_phrase}")
    if "location" in response.headers:
        print(f"    Location: {unquote(response.headers['location'])}")
    requests_made.append(f"{request.method} {request.url.path} → {response.status_code}")


c = httpx2.Client(follow_redirects=False, timeout=10.0, event_hooks={"response": [show]})

# %% [markdown]
# ## 1. Authorization-server metadata (RFC 8414)
#
# Notebook 01 ended with the issuer, read from the MCP server's protected-resource metadata.
# The issuer's own metadata is at `/.well-known/oauth-authorization-server` on its host
# (RFC 8414 §3; an issuer with a path puts it between host and path). MCP clients also try
# OpenID Connect's `/.well-known/openid-configuration`.

# %%
metadata = c.get(lab.urls.as_metadata).json()
shown = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "registration_endpoint",
    "code_challenge_methods_supported",
    "authorization_response_iss_parameter_supported",
]
for key in shown:
    print(f"{key}: {metadata[key]}")
print("also:", ", ".join(sorted(set(metadata) - set(shown))))

# %% [markdown]
# Before trusting a word of it, the client checks that `issuer` is exactly the issuer it
# asked about (RFC 8414 §3.3): otherwise one server could pass itself off as another.
# `S256` is the only PKCE method offered, and the server promises to name itself in every
# authorization response (`iss`, RFC 9207).

# %%
assert metadata["issuer"] == lab.issuer_url
assert metadata["code_challenge_methods_supported"] == ["S256"]
assert metadata["authorization_response_iss_parameter_supported"] is True

# %% [markdown]
# ## 2. Dynamic client registration (RFC 7591)
#
# The client has never met this server, so it registers: it says where codes may be sent
# (`redirect_uris`) and that it has no secret (`token_endpoint_auth_method: none`, a
# *public* client: a notebook or a desktop app cannot keep one).
#
# Since the MCP spec revision of 2025-11-25, a client SHOULD use Client ID Metadata Documents
# when the server supports them (the `client_id` is an https URL of the client's metadata;
# the SDK's `client_metadata_url`), and dynamic registration is the fallback. The lab uses
# registration because its clients run on loopback, with no https URL to publish.

# %%
client = manual.register(lab, c)

# %% [markdown]
# The answer is the registered client. No `client_secret`: PKCE protects this client's codes
# instead. The server chose `scope` itself: this lab registers every client for every lab
# scope and lets the user decide at sign-in (notebook 03 shows where that policy lives).

# %%
print("client_id:", client.client_id)
for key in ("token_endpoint_auth_method", "redirect_uris", "scope"):
    print(f"{key}: {client.info[key]}")
assert "client_secret" not in client.info

# %% [markdown]
# ## 3. PKCE (RFC 7636)
#
# The code will travel through the browser, where it can leak (history, logs, another app
# listening on the redirect URI). PKCE makes a leaked code useless: the client keeps a random
# `verifier` and sends only its hash, the `challenge`; at the token endpoint it must show
# the verifier itself.

# %%
from labkit import pkce

verifier = pkce.make_verifier()
challenge = pkce.s256_challenge(verifier)
print(f"verifier={verifier}  ({len(verifier)} characters; stays in the client)")
print(f"challenge={challenge}  (BASE64URL(SHA256(verifier)); goes in the URL)")
assert pkce.check_pair(verifier, challenge)
assert not pkce.check_pair(pkce.make_verifier(), challenge)

# %% [markdown]
# ## 4. The authorization request
#
# `state` is a random value the client keeps and must get back unchanged: it ties the answer
# to this request, so an attacker cannot slip their own code into the client (CSRF,
# RFC 6749 §10.12).
# `resource` names the MCP server the token is for (RFC 8707); the MCP spec requires it.

# %%
import secrets

state = secrets.token_urlsafe(16)
params = manual.authorize_params(lab, client, challenge=challenge, state=state, scope="notes:read")
for key, value in params.items():
    print(f"{key}={value}")

# %% [markdown]
# In a real client this URL opens in the user's browser. The server checks it and sends the
# user on, here to its login page:

# %%
response = manual.start_authorization(lab, c, params)
login_page = response.headers["location"]
assert response.status_code == 302
assert login_page.startswith(lab.urls.endpoint("/login?request="))

# %% [markdown]
# The `request` value is an id the server made for this pending sign-in; the client's
# `state` never becomes a server-side key. How `/authorize` chose this page is notebook 03.
#
# ## 5. The user signs in
#
# A browser would GET that page and show a form; pressing *Sign in* posts it. We send what
# the form sends: the hidden `request` id, the credentials, and the button pressed.
#
# The MCP server never sees the password: it goes to the authorization server only. Here the
# kernel plays the user's browser, so the process that runs the MCP client handles it too.
# That is a lab shortcut: a native app must not use an embedded user agent for this
# (RFC 8252 §8.12); it opens the system browser, as `BrowserLogin` does in notebook 04.

# %%
request_id = manual.query_of(login_page)["request"]
response = c.post(
    lab.urls.endpoint("/login"),
    data={"request": request_id, "username": "bob", "password": "bob-writes", "action": "signin"},
)
callback = response.headers["location"]

# %% [markdown]
# The answer sends the browser back to the client's `redirect_uri` with three parameters.
# Nothing listens on `http://127.0.0.1/callback` here, and nothing needs to: we read the
# `Location` instead of following it. (A desktop client listens on a loopback port there,
# RFC 8252 §7.3; notebook 04 does that with a real browser.)

# %%
answer = manual.query_of(callback)
for key, value in answer.items():
    print(f"{key}={value}")

# %% [markdown]
# Before using the code, the client checks two things:
#
# - `state` is the one it sent: this answer belongs to its own request;
# - `iss` is the issuer it sent the user to (RFC 9207): a client that talks to several
#   authorization servers cannot be tricked into sending one server's code to another
#   (the *mix-up* attack).

# %%
assert callback.startswith(client.redirect_uri + "?")
assert answer["state"] == state
assert answer["iss"] == lab.issuer_url
code = answer["code"]

# %% [markdown]
# ## 6. The token request
#
# Back channel now: the client posts straight to the token endpoint from the metadata,
# form-encoded (RFC 6749 §4.1.3). It repeats the `redirect_uri`, adds the PKCE
# `code_verifier`, and names the resource again (RFC 8707 §2.2; the MCP spec asks for it
# in both requests).

# %%
form = {
    "grant_type": "authorization_code",
    "code": code,
    "redirect_uri": client.redirect_uri,
    "client_id": client.client_id,
    "code_verifier": verifier,
    "resource": lab.mcp_url,
}
response = c.post(metadata["token_endpoint"], data=form)
tokens = response.json()

# %% [markdown]
# The server hashed the verifier, compared it with the challenge it kept with the code
# (RFC 7636 §4.6), and answered with tokens (and `Cache-Control: no-store`: no proxy may keep them).

# %%
for key, value in tokens.items():
    print(f"{key}: {value}")
print("Cache-Control:", response.headers["cache-control"])
assert response.status_code == 200
assert tokens["token_type"] == "Bearer"
assert tokens["scope"] == "notes:read"

# %% [markdown]
# - `access_token` goes on every MCP request; it lives `expires_in` seconds.
# - `refresh_token` gets a new access token later without the user (notebook 05).
# - `scope` is what was granted, which can be less than what was asked.
#
# ## 7. Use it
#
# The MCP server from notebook 01 now lets the client in. (`manual.mcp_post` also ends the
# MCP session it opened, hence the `DELETE`.)

# %%
response = manual.mcp_post(c, lab.mcp_url, tokens["access_token"])
assert response.status_code == 200

# %% [markdown]
# ## Recap
#
# Five requests to the authorization server, then the MCP server lets you in:

# %%
for number, line in enumerate(requests_made, 1):
    print(number, line)
c.close()

# %% [markdown]
# - **Metadata** (RFC 8414): where every endpoint is; the `issuer` must match exactly.
# - **Registration** (RFC 7591): a public client, no secret; the server decides what it registers.
# - **/authorize**: `client_id`, exact `redirect_uri`, `scope`, `resource`, a random `state`,
#   and the S256 `code_challenge`. The answer is a redirect to the login page.
# - **Login**: the password goes to the authorization server, never to the MCP server. The
#   answer redirects to the client with `code`, `state` and `iss`; the client checks `state`
#   and `iss`.
# - **/token**: the code plus the `code_verifier` that only this client knows.
#
# The SDK's client makes the same requests (compare the trace in notebook 00), after
# discovering the issuer from a 401 as in notebook 01.
#
# ## Exercise 1: PKCE by hand
#
# Write `s256(verifier)`, the S256 challenge of RFC 7636 §4.2, with `hashlib` and `base64`
# only (not `labkit.pkce`). The check tries the example of RFC 7636 Appendix B first.

# %% [exercise] s256
def s256(verifier: str) -> str:
    raise NotImplementedError

# %%
from labkit.exercises import nb02

nb02.check_s256(s256)

# %% [markdown]
# ## Exercise 2: read the answer like a careful client
#
# Write `read_callback(location, sent_state, issuer)`: given the `Location` of the redirect
# back to the client, return the `code`, or raise `ValueError` if the client must not use
# it: a `state` that is not the one sent (or none), an `iss` that is not exactly the issuer
# (or none: this server's metadata promises it), or an `error` answer. The check makes a
# fresh authorization on the lab and tampers with its answer in several ways.

# %% [exercise] read-callback
def read_callback(location: str, sent_state: str, issuer: str) -> str:
    raise NotImplementedError

# %%
from labkit.exercises import nb02

nb02.check_read_callback(read_callback, lab)
