# %% [markdown]
# # 05 · Token storage: tokens that survive a restart, and refresh tokens that rotate
#
# The SDK's client keeps its tokens wherever you tell it to. In this notebook you give it a
# file, restart it without signing in again, watch it renew an expired token by itself, and
# see what happens when an old refresh token is used twice.
#
# The lab is local and throwaway: tokens are shown (shortened, or in full where that
# teaches something) because they die with it. Never print real ones.

# %%
import labkit

lab = labkit.start()
lab.reset()
lab

# %% [markdown]
# ## What the SDK asks of a storage: four async methods
#
# `OAuthClientProvider` never decides where tokens live. It takes an object with four async
# methods, the `TokenStorage` protocol, and calls them: `get_*` when it starts, `set_*`
# after it registers and after every token response.

# %%
import inspect

from mcp.client.auth import TokenStorage

for name in ("get_tokens", "set_tokens", "get_client_info", "set_client_info"):
    print(f"async def {name}{inspect.signature(getattr(TokenStorage, name))}")

# %% [markdown]
# `labkit.InMemoryTokenStorage` is those four methods over plain attributes. Connect once
# with it and look at what the SDK handed over: a token pair and the client's registration.

# %%
from labkit.render import short  # shortens credentials for reading: at_Zx3kq9…

memory = labkit.InMemoryTokenStorage()
oauth = labkit.oauth_client(lab.mcp_url, labkit.AutoLogin("bob", "bob-writes"), storage=memory, clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth) as client:
    await client.call_tool("whoami", {})

tokens = await memory.get_tokens()
client_info = await memory.get_client_info()
print("access_token: ", short(tokens.access_token), f"(expires_in={tokens.expires_in})")
print("refresh_token:", short(tokens.refresh_token))
print("client_id:    ", client_info.client_id)

# %% [markdown]
# ## Two facts the SDK's `TokenStorage` protocol forgets (python-sdk issue #3250)
#
# A stored session must still work in the next process. With mcp 2.3.0 two facts do not
# reach the storage, because the SDK keeps them only in its client object:
#
# | fact | why the four methods lose it | what a restarted client does without it |
# |---|---|---|
# | when the access token expires | `OAuthToken` says `expires_in=300`: 300 s from a moment it does not record | counts the token as valid forever, sends it expired, gets 401 and makes the user sign in again instead of refreshing |
# | the authorization server's metadata | discovery results are not part of `TokenStorage` | sends its refresh to `<MCP server origin>/token`, which is the wrong server here |
#
# labkit's storages keep both, and `labkit.oauth_client` hands them back to the SDK's client
# before its first request (`hand_back_session` in `labkit/client.py`):

# %%
print("tokens_expire_at:", memory.tokens_expire_at, "(seconds since the epoch, lab clock)")
print("token_endpoint:  ", memory.oauth_metadata.token_endpoint)

# %% [markdown]
# ## A file that survives a restart: `FileTokenStorage`
#
# A command-line tool or an IDE plug-in must not ask for a password every time it starts:
# its tokens go to a file. Everything this notebook writes goes to a temporary directory,
# removed at the end.

# %%
import tempfile
from pathlib import Path

workdir = tempfile.TemporaryDirectory(prefix="lab05-")
token_file = Path(workdir.name) / "tokens.json"

login = labkit.AutoLogin("bob", "bob-writes")
oauth = labkit.oauth_client(lab.mcp_url, login, storage=labkit.FileTokenStorage(token_file), clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth) as client:
    who = (await client.call_tool("whoami", {})).structured_content
assert who["subject"] == "bob" and login.logins == 1
print("signed in as", who["subject"], "· logins:", login.logins)

# %% [markdown]
# The file holds live credentials, so only its owner may read it: mode `0600`, set when the
# file is created, not afterwards. It is written to a temporary file in the same directory,
# flushed to disk and renamed over the old one, so a crash never leaves half a file; no
# temporary file stays behind.

# %%
import os
import stat

mode = os.stat(token_file).st_mode
print(token_file.name, stat.filemode(mode), oct(stat.S_IMODE(mode)))
print("files in the directory:", sorted(p.name for p in Path(workdir.name).iterdir()))
assert stat.S_IMODE(mode) == 0o600

# %% [markdown]
# What is inside: the four things of `TokenStorage`, plus the two facts.

# %%
import json

saved = json.loads(token_file.read_text())
print("keys:            ", list(saved))
print("tokens:          ", {k: short(v) if isinstance(v, str) else v for k, v in saved["tokens"].items()})
print("tokens_expire_at:", saved["tokens_expire_at"])
print("client_info:     ", {k: saved["client_info"][k] for k in ("client_id", "token_endpoint_auth_method")})
print("oauth_metadata:  ", len(saved["oauth_metadata"]), "fields, among them", saved["oauth_metadata"]["token_endpoint"])

# %% [markdown]
# ## Restart: a new storage object, a new client, the same file
#
# A restarted process has nothing but the file. Make what it makes: a new
# `FileTokenStorage` and a new `labkit.oauth_client`. The two facts are back in the SDK's
# client before any request.

# %%
trace = labkit.Trace()
login = labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks)
storage = labkit.FileTokenStorage(token_file)
oauth = labkit.oauth_client(lab.mcp_url, login, storage=storage, clock=lab.clock)
print("expiry handed back:  ", oauth.context.token_expiry_time == storage.tokens_expire_at)
print("metadata handed back:", oauth.context.oauth_metadata.token_endpoint)

# %% [markdown]
# Now call a tool. No 401, no `/authorize`, no login: the stored token goes straight to the
# MCP server.

# %%
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    who = (await client.call_tool("whoami", {})).structured_content
assert who["subject"] == "bob"
assert login.logins == 0
assert not any(e.path in ("/authorize", "/register") for e in trace.exchanges)
print("logins:", login.logins)
trace

# %% [markdown]
# ## Without the two facts, a restart after expiry costs a login
#
# Move the lab's clock past the access token's lifetime (300 s), then restart the client
# the way mcp 2.3.0 alone would: without the two facts (`restore_session=False`).

# %%
lab.clock.advance(lab.provider.settings.access_token_ttl + 1)

trace = labkit.Trace()
login = labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks)
storage = labkit.FileTokenStorage(token_file)
oauth = labkit.oauth_client(lab.mcp_url, login, storage=storage, clock=lab.clock, restore_session=False)
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    await client.call_tool("whoami", {})
assert trace.exchanges[0].status == 401 and login.logins == 1
print("logins:", login.logins)
trace

# %% [markdown]
# The client sent its expired token as if it were good (row 1), got 401 and ran the whole
# flow again, sign-in included, although its refresh token was still valid. The user had
# to type a password for nothing.
#
# ## With them, the client renews the token by itself
#
# Same situation: the clock moves past the new token's lifetime, and a restarted client
# reads the file. This time the SDK's client knows the token has expired and where the
# token endpoint is. Keep the old token pair: you will need it below.

# %%
lab.clock.advance(lab.provider.settings.access_token_ttl + 1)
old = json.loads(token_file.read_text())["tokens"]

trace = labkit.Trace()
login = labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks)
oauth = labkit.oauth_client(lab.mcp_url, login, storage=labkit.FileTokenStorage(token_file), clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    await client.call_tool("whoami", {})
first = trace.exchanges[0]
assert first.path == "/token" and first.request_form["grant_type"] == "refresh_token"
assert login.logins == 0
trace

# %% [markdown]
# Row 1 went to the authorization server before any MCP request: `grant_type=refresh_token`,
# no user involved. The server has no part in this decision; only the client can know its
# token is about to be refused.
#
# ## Rotation: every refresh spends the refresh token
#
# The answer carried a new refresh token too, and the file now holds it. The old one is
# spent: OAuth 2.1 wants a public client's refresh tokens either bound to the client
# (sender-constrained) or rotated on every use, so that a copied one is soon worth nothing.

# %%
from labkit import manual

new = json.loads(token_file.read_text())["tokens"]
http = manual.http()  # a plain HTTP client, for requests made by hand
print("old refresh_token:", short(old["refresh_token"]))
print("new refresh_token:", short(new["refresh_token"]))
assert new["refresh_token"] != old["refresh_token"]
print("new access token active:", manual.introspect(lab, http, new["access_token"])["active"])

# %% [markdown]
# ## Reuse of an old refresh token revokes the whole grant
#
# Suppose someone copied the token file yesterday and now uses the old refresh token. The
# server sees a spent refresh token come back: two parties hold it, and it cannot tell
# which one is the thief. RFC 9700 §4.14.2: refuse it (`invalid_grant`) and revoke the
# active refresh token. This lab goes one step further and revokes every token of the grant.

# %%
info = saved["client_info"]  # the client's registration, from the file
app = manual.Client(info["client_id"], info["redirect_uris"], info)
replay = manual.refresh(lab, http, app, old["refresh_token"])
print(replay.status_code, replay.json()["error"], "·", replay.json()["error_description"])
assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

# %% [markdown]
# The newest tokens, which only the legitimate client had, are dead too:

# %%
print("newest access token:", manual.introspect(lab, http, new["access_token"]))
again = manual.refresh(lab, http, app, new["refresh_token"])
print("newest refresh token:", again.status_code, again.json()["error"])
assert manual.introspect(lab, http, new["access_token"]) == {"active": False}

# %% [markdown]
# Introspection says only `active: false`, and on purpose: RFC 7662 §2.2 tells the server
# not to say why. The lab can look inside its own authorization server and tell you:

# %%
lab.explain(new["access_token"])

# %% [markdown]
# So the honest client pays too: its next connection gets 401 and the user signs in again.
# That is the point: one login is a small price for cutting off whoever copied the token.

# %%
login = labkit.AutoLogin("bob", "bob-writes")
oauth = labkit.oauth_client(lab.mcp_url, login, storage=labkit.FileTokenStorage(token_file), clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth) as client:
    await client.call_tool("whoami", {})
assert login.logins == 1
print("logins:", login.logins)

# %% [markdown]
# Clean up: close the hand-made HTTP client and remove the directory with the token file.

# %%
http.close()
workdir.cleanup()
assert not token_file.exists()
print("directory still there:", Path(workdir.name).exists())

# %% [markdown]
# ## Recap
#
# - `TokenStorage` is four async methods; `OAuthClientProvider` calls them and decides
#   nothing about where tokens live.
# - A file storage holds live credentials: mode `0600` from creation, written atomically.
# - With mcp 2.3.0 a restarted client also needs the token's expiry and the authorization
#   server's metadata (issue #3250); labkit's storages keep them and `labkit.oauth_client`
#   hands them back. Without them, an expired token costs a login instead of a refresh.
# - The client, not the server, renews tokens: `POST /token grant_type=refresh_token`
#   before the request that would fail.
# - Refresh tokens rotate; a spent one coming back revokes the whole grant, newest tokens
#   included, and the honest client signs in again.
#
# ## Exercise: a token storage of your own
#
# Write `MyTokenStorage`, the four async methods of `TokenStorage`, keeping everything in
# memory (`__init__` takes no arguments). The check signs in with it, then connects a second
# client with the same storage object: that one must need no login and no registration.

# %% [exercise] token-storage
class MyTokenStorage:
    """The SDK's TokenStorage protocol: tokens and client registration, get and set."""

    async def get_tokens(self):
        raise NotImplementedError

    async def set_tokens(self, tokens):
        raise NotImplementedError

    async def get_client_info(self):
        raise NotImplementedError

    async def set_client_info(self, client_info):
        raise NotImplementedError

# %%
from labkit.exercises import nb05

nb05.check_token_storage(MyTokenStorage, lab)
