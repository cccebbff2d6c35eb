# %% [markdown]
# # 01 · The MCP server: a tool call without auth, then the same server behind OAuth
#
# You call a tool on an open MCP server, then knock on the protected one without a token
# and follow the 401 to the document that says where tokens come from (RFC 9728).

# %% [markdown]
# ## Start the lab
#
# Each notebook starts the lab itself and resets it, so it runs alone and runs again.
# The lab is local and throwaway: tokens and ids are shown in full when that teaches something.

# %%
import labkit

lab = labkit.start()
lab.reset()
print("MCP server (protected):", lab.mcp_url)

# %% [markdown]
# ## A tool call without auth
#
# `lab.open_server_url()` starts the same notes server with no auth at all: the baseline.
# `labkit.connect` opens an MCP client session over streamable HTTP; a `Trace` records
# each HTTP request it makes.

# %%
open_url = lab.open_server_url()
trace = labkit.Trace()
async with labkit.connect(open_url, trace=trace) as client:
    notes = await client.call_tool("list_notes", {})
    anonymous = await client.call_tool("whoami", {})
    tools = await client.list_tools()

print("tools:", [tool.name for tool in tools.tools])
print("list_notes →", notes.structured_content["result"])
print("whoami →", anonymous.structured_content)

# %% [markdown]
# MCP is JSON-RPC over HTTP: each request is one `POST /mcp` carrying one method.
# The SDK's client opened with `server/discover` (the handshake of recent protocol versions;
# an older server gets `initialize` instead). The `tools/list` right after the first
# `tools/call` is the SDK's own: it fetches the tool's output schema to validate the
# structured result. The last `tools/list` is ours.

# %%
for exchange in trace.exchanges:
    print(exchange.method, exchange.path, exchange.status, exchange.mcp_method)
methods = [exchange.mcp_method for exchange in trace.exchanges]
assert methods == ["server/discover", "tools/call", "tools/list", "tools/call", "tools/list"]
assert anonymous.structured_content == {"authenticated": False}

# %% [markdown]
# Anyone who can reach this server can call every tool, `add_note` included. Now the same
# tools on the protected server.
#
# ## The same server, protected: 401
#
# A raw POST, as any HTTP client would send it: the first JSON-RPC message of a session
# and no `Authorization` header. `labkit.manual` sends the older `initialize` handshake,
# which this server also accepts; the SDK client opens with `server/discover`.

# %%
import httpx2
from labkit import manual

body = manual.initialize_body()
print("sent:", body["method"], body["params"]["protocolVersion"])
response = httpx2.post(lab.mcp_url, json=body, headers={"Accept": manual.MCP_ACCEPT})
print(response.status_code, response.json())

# %% [markdown]
# The refusal names where to learn more, in the `WWW-Authenticate` header (RFC 6750 §3,
# with the `resource_metadata` parameter of RFC 9728 §5.1):

# %%
challenge = response.headers["www-authenticate"]
for part in challenge.removeprefix("Bearer ").split(", "):
    print(part)
assert response.status_code == 401
assert f'resource_metadata="{lab.urls.resource_metadata}"' in challenge
assert challenge.endswith(', scope="notes:read"')

# %% [markdown]
# Two details an expert eye catches:
#
# - The SDK answers a request with no token with `error="invalid_token"`, although RFC 6750
#   §3.1 says a request without authentication information SHOULD get no error code: an SDK
#   deviation, listed in notebook 07's "SDK vs RFC" box.
# - `scope="notes:read"` names the scope this request needs, as the MCP authorization spec
#   asks (the parameter is RFC 6750 §3's). mcp 2.3.0 leaves it out; the lab adds it, with
#   a small middleware you meet below.
#
# A made-up token gets the same 401: to this server, it is just a token the authorization
# server does not know.

# %%
forged = httpx2.post(
    lab.mcp_url, json=body, headers={"Accept": manual.MCP_ACCEPT, "Authorization": "Bearer at_made-up-token"}
)
print(forged.status_code, forged.json()["error"])
assert forged.status_code == 401

# %% [markdown]
# ## Protected-resource metadata (RFC 9728)
#
# The URL in the challenge is the MCP URL with `/.well-known/oauth-protected-resource`
# inserted between host and path (RFC 9728 §3.1). It needs no token: it is how a client
# that knows only the MCP URL finds out where to get one.

# %%
metadata_response = httpx2.get(lab.urls.resource_metadata)
resource_metadata = metadata_response.json()
print("GET", lab.urls.resource_metadata, "→", metadata_response.status_code)
for key, value in resource_metadata.items():
    print(f"  {key}: {value}")

# %% [markdown]
# - `resource` is this server's identifier, and equals the URL the client connected to
#   (RFC 9728 §3.3: a client must check that, or anyone could point it at other metadata).
#   It is also what the client names in `resource=` when it asks for a token (RFC 8707).
# - `authorization_servers` says whom to ask: notebook 02 goes there.
# - `scopes_supported` lists the scopes a client may request for this resource (RFC 9728 §2):
#   both, since `add_note` needs `notes:write`. It is not what every request needs: that is
#   the 401's `scope`, `notes:read`.
#
# A client asks for the 401's `scope` first, and for `scopes_supported` only when the 401
# names none (MCP spec). So `bob`, who may write, gets only `notes:read` from the SDK client
# at first; a 403 on `add_note` makes it step up (notebook 06).

# %%
assert resource_metadata["resource"] == lab.mcp_url
assert resource_metadata["authorization_servers"] == [lab.issuer_url]
assert resource_metadata["scopes_supported"] == ["notes:read", "notes:write"]
print("authorization server:", resource_metadata["authorization_servers"][0])

# %% [markdown]
# ## How the server is built
#
# `labkit/resource_server.py` builds the protected server with the SDK's `MCPServer`.
# The lines that matter, from `build_protected_app`:
#
# ```python
# server = MCPServer(
#     "lab-notes",
#     token_verifier=verifier,  # asked about every bearer token (notebook 06)
#     auth=AuthSettings(
#         issuer_url=http_url(urls.issuer),  # → authorization_servers in the metadata
#         resource_server_url=http_url(verifier.resource),  # → resource; where the metadata lives
#         required_scopes=[READ_SCOPE],  # every request needs notes:read
#         validate_token_resource=False,  # the audience check is in our verifier
#     ),
# )
# ```
#
# Then it swaps the SDK's metadata route for one listing both scopes (the SDK lists
# `required_scopes` only) and appends two middlewares of its own. The tools are plain
# functions; `whoami` reads the verified token with the SDK's `get_access_token()`.
# This cell checks that the quote above is still what the file says:

# %%
import inspect

from labkit import resource_server

source = inspect.getsource(resource_server.build_protected_app)
quoted = [
    "token_verifier=verifier",
    "issuer_url=http_url(urls.issuer)",
    "resource_server_url=http_url(verifier.resource)",
    "required_scopes=[READ_SCOPE]",
    "validate_token_resource=False",
    "scopes_supported=list(ALL_SCOPES)",
]
assert all(line in source for line in quoted)
assert "get_access_token()" in inspect.getsource(resource_server.add_note_tools)

# %% [markdown]
# What did `auth=` add? Build both apps once more (not served) and compare. The open server
# has one route and no middleware; the protected one has the metadata route too, the SDK's
# two middlewares, and labkit's `ScopeGate` and `ScopeInChallenge`.

# %%
open_app = resource_server.build_open_app(lab.urls, lab.notebook)
app = resource_server.build_protected_app(lab.urls, lab.verifier, lab.notebook)
for label, built in (("open", open_app), ("protected", app)):
    print(f"{label}:")
    for route in built.routes:
        print("  route", route.path, "→", type(route.endpoint).__name__)
    for middleware in built.user_middleware:
        print("  middleware", middleware.cls.__name__)
assert len(open_app.routes) == 1 and open_app.user_middleware == []

# %% [markdown]
# One request to `/mcp` goes through them in this order:
#
# 1. `AuthenticationMiddleware` with the SDK's `BearerAuthBackend`: reads
#    `Authorization: Bearer …` and calls `token_verifier.verify_token(token)`; `None` means
#    anonymous.
# 2. `AuthContextMiddleware`: keeps the verified token where `get_access_token()` finds it.
# 3. `ScopeGate` (labkit's): a `tools/call` of `add_note` needs `notes:write`, or 403.
# 4. `ScopeInChallenge` (labkit's): on the way back, adds `scope="notes:read"` to a 401's
#    `WWW-Authenticate`.
# 5. `RequireAuthMiddleware` on the `/mcp` route: anonymous → 401 with the challenge you
#    saw; a token without `notes:read` → 403 `insufficient_scope`.
#
# The metadata route has no `RequireAuthMiddleware`: anyone may read it, and its CORS
# headers let browser-based clients read it too.
#
# ## With a token
#
# Notebook 02 gets a token step by step; here `manual.tokens_for` does it in one call
# (register, sign in as `bob`, exchange the code), asking for `notes:read` as the SDK
# client would.

# %%
with manual.http() as c:
    _, tokens = manual.tokens_for(lab, c, user="bob", scope="notes:read")
    accepted = manual.mcp_post(c, lab.mcp_url, tokens["access_token"])
print("access_token:", tokens["access_token"])
print("POST /mcp with it →", accepted.status_code, accepted.headers["content-type"])
assert accepted.status_code == 200

# %% [markdown]
# A client that holds a token just sends it as a header on every request. That is all
# this `httpx2.Auth` does; the SDK's `OAuthClientProvider` (notebook 04) also gets and
# renews the token.

# %%
labkit.render.show_source(labkit.BearerAuth)

# %%
async with labkit.connect(lab.mcp_url, labkit.BearerAuth(tokens["access_token"])) as client:
    who = (await client.call_tool("whoami", {})).structured_content
for key, value in who.items():
    print(f"{key}: {value}")

# %% [markdown]
# The server never saw a password. It saw a token, asked the authorization server about it
# (introspection, notebook 06), and got back who granted it (`subject`), to which client
# (`client_id`), for what (`scopes`), for which server (`audience`) and until when.

# %%
assert who["subject"] == "bob"
assert who["scopes"] == ["notes:read"]
assert who["audience"] == lab.mcp_url

# %% [markdown]
# ## Recap
#
# - An MCP server is JSON-RPC over `POST /mcp`. Without auth, anyone calls any tool.
# - With `MCPServer(..., token_verifier=..., auth=AuthSettings(...))`, a request without a
#   valid token gets 401 and `WWW-Authenticate: Bearer ..., resource_metadata="..."` (the
#   lab adds `scope="..."`, the scope to ask for first).
# - The protected-resource metadata (RFC 9728) names the resource, its authorization
#   servers and the scopes a client may request: from the MCP URL alone, a client finds
#   where to get a token.
# - With a token, the tool sees the verified token (`get_access_token()`), never a password.
#
# ## Exercise
#
# Write what a client does with a 401: given the `WWW-Authenticate` value, return the issuer
# of the authorization server to use. Read the `resource_metadata` URL out of the header,
# fetch it, and take the first of its `authorization_servers`. The check tries the header
# the server sends and the same parameters in other orders.

# %% [exercise] discover-issuer
def discover_issuer(www_authenticate: str) -> str:
    raise NotImplementedError

# %%
from labkit.exercises import nb01

nb01.check_discover_issuer(discover_issuer, lab)
