# %% [markdown]
# # 06 · Token verifier: how the MCP server decides whether a token is good
#
# The resource server receives an opaque string and must decide: is it active, was it
# minted *for me*, does it carry the scope this tool needs, and how long may I trust my
# last answer? You will watch each decision, and break two of them on purpose.
#
# The lab is local and throwaway, so its tokens are shown; never print real ones.

# %%
import labkit
from labkit import manual

lab = labkit.start()
lab.reset()
http = manual.http()  # a plain HTTP client for requests made by hand (closed at the end)
lab

# %% [markdown]
# ## What the resource server learns: introspection (RFC 7662)
#
# The lab's access tokens are random strings (`at_…`): they carry no information at all.
# Everything the MCP server knows about one, it learns by asking the authorization server's
# `/introspect` endpoint. Get bob a token by hand, and ask as the MCP server would:

# %%
app, tokens = manual.tokens_for(lab, http, user="bob", scope="notes:read notes:write")
token = tokens["access_token"]

info = manual.introspect(lab, http, token)
for key, value in info.items():
    print(f"{key:11} {value}")
assert info["active"] is True and info["aud"] == lab.mcp_url

# %% [markdown]
# - `active`: the only field RFC 7662 requires. False for anything unknown, expired or revoked.
# - `sub`, `client_id`, `scope`: who, through which client, may do what.
# - `aud`: the resource the token was minted for (RFC 8707): this MCP server's URL.
# - `iss`, `iat`, `exp`: who issued it and its lifetime (seconds since the epoch).
#
# That answer reveals who the token belongs to, so not just anyone may ask: the endpoint
# wants a resource server's own credentials (RFC 7662 §2.1). Without them:

# %%
anonymous = http.post(lab.urls.endpoint("/introspect"), data={"token": token})
print(anonymous.status_code, anonymous.json()["error"], "·", anonymous.json()["error_description"])
assert anonymous.status_code == 401 and "active" not in anonymous.json()

# %% [markdown]
# ## The verifier inside a flow
#
# The MCP server asks the authorization server about each token it receives, and keeps a
# positive answer for 30 s. Point the verifier's own trace at the flow's trace to see its
# introspection call between the client's rows.

# %%
trace = labkit.Trace()
lab.verifier.trace = trace  # the resource server records its introspection calls here
login = labkit.AutoLogin("alice", "alice-reads", event_hooks=trace.hooks)
oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    await client.call_tool("whoami", {})
lab.verifier.trace = None
assert [e.sender for e in trace.exchanges].count("resource server") == 1
trace

# %% [markdown]
# One introspection (the row sent by the MCP server) although the client made three
# requests with the token: the cached answer served the other two. Keep that in mind; the
# end of this notebook shows what it costs.
#
# ## The `TokenVerifier` protocol: one method
#
# The SDK's bearer middleware needs one thing from you, and calls it for every request:

# %%
import inspect

from mcp.server.auth.provider import TokenVerifier

print("async def verify_token" + str(inspect.signature(TokenVerifier.verify_token)))

# %% [markdown]
# An `AccessToken` means "let it in, and this is who it is"; `None` means 401, with the
# `WWW-Authenticate` header the SDK writes. The lab's `IntrospectionTokenVerifier`
# (`labkit/verifier.py`) implements it. Make one here, with the MCP server's credentials,
# and call it yourself:

# %%
from labkit.verifier import IntrospectionTokenVerifier

verifier = IntrospectionTokenVerifier(
    introspection_url=lab.urls.endpoint("/introspect"),
    credentials=lab.verifier.credentials,  # the MCP server's introspection credentials
    resource=lab.mcp_url,  # who this verifier works for: tokens must name it in aud
    clock=lab.clock,
)
access = await verifier.verify_token(token)
print("subject:", access.subject, "· scopes:", access.scopes, "· client_id:", access.client_id)
print("a made-up token:", await verifier.verify_token("at_made-up-by-someone"))
await verifier.aclose()

# %% [markdown]
# ## Audience: a token for one server is refused by another (RFC 8707)
#
# Every MCP server you use receives your tokens. If a token for server A also worked at
# server B, then A (or whoever broke into A) could call B as you. So the client names the
# resource when it asks for a token (`resource=`), the authorization server writes it into
# `aud`, and each server refuses tokens whose `aud` is not itself.
#
# The lab names its MCP servers: `'notes'` is the one so far (`lab.mcp_url`; its verifier is
# `lab.verifier`). `lab.add_resource_server(name)` starts another with the same tools and
# returns its URL; below come `'second'` and then `'careless'`. Send `'second'` bob's token
# for `'notes'`:

# %%
second_url = lab.add_resource_server("second")
second = lab.resource_servers["second"].verifier
refused_before = second.stats.rejected_audience

response = manual.mcp_post(http, second_url, token)
print(response.status_code, response.headers["www-authenticate"])
print("refused for their audience at 'second':", second.stats.rejected_audience - refused_before)
assert response.status_code == 401 and second.stats.rejected_audience == refused_before + 1

# %% [markdown]
# The token is active (introspection said so), yet refused: `aud` names `'notes'`. The 401
# gives no reason: its `error_description` ("Authentication required") is the SDK's text for
# every 401, because a `TokenVerifier` can only return `None`. The reason stays in the
# resource server: here in the verifier's stats (a production verifier would also log it).
#
# The other way round too: a token minted for `'second'` does not work at `'notes'`, and
# `lab.verifier.stats.rejected_audience` counts it.

# %%
refused_before = lab.verifier.stats.rejected_audience
auth = manual.authorize(lab, http, manual.register(lab, http), user="bob", resource=second_url)
for_second = manual.exchange(lab, http, auth).json()["access_token"]

print("at 'second':", manual.mcp_post(http, second_url, for_second).status_code)
print("at 'notes': ", manual.mcp_post(http, lab.mcp_url, for_second).status_code)
print("refused for their audience at 'notes':", lab.verifier.stats.rejected_audience - refused_before)
assert lab.verifier.stats.rejected_audience == refused_before + 1

# %% [markdown]
# ## Without the audience check: the confused deputy
#
# Now a third server whose verifier skips the audience check (`check_audience=False`): it
# only asks "is this token active?". To call it with a token of your choice, give the SDK's
# client a fixed bearer token instead of the OAuth flow (`labkit.BearerAuth`: what a
# server that received your token could do with it):

# %%
careless_url = lab.add_resource_server("careless", check_audience=False)

# %% [markdown]
# Bob's token for the `notes` server, replayed at `careless`:

# %%
async with labkit.connect(careless_url, labkit.BearerAuth(token)) as client:
    who = (await client.call_tool("whoami", {})).structured_content
server_names = {rs.url: name for name, rs in lab.resource_servers.items()}
print("'careless' acts for:", who["subject"], who["scopes"])
print("the token's audience:", server_names[who["audience"]])
assert who["subject"] == "bob" and who["audience"] == lab.mcp_url

# %% [markdown]
# The careless server acts for bob with a token bob gave to someone else. That is the
# *confused deputy*: a server with real authority (bob's) used on behalf of whoever holds
# the token. The MCP specification therefore requires servers to validate that tokens were
# issued for them, and forbids passing a client's token through to other services.
#
# ## Scopes: 403 `insufficient_scope`, and the client's step-up
#
# The audience says *where* a token works; the scope says *what* it may do there. Here
# every call needs `notes:read`, and `add_note` needs `notes:write` too. Alice may only
# read. She asks for both scopes, and gets what she may grant:

# %%
import json
import re

_, alice = manual.tokens_for(lab, http, user="alice", scope="notes:read notes:write")
print("alice's token scope:", alice["scope"])

add_note = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "add_note", "arguments": {"text": "written by a reader"}},
}
response = manual.mcp_post(http, lab.mcp_url, alice["access_token"], add_note)
print(response.status_code, json.dumps(response.json()))
print("WWW-Authenticate:", response.headers["www-authenticate"])
assert response.status_code == 403 and 'scope="notes:write"' in response.headers["www-authenticate"]

# %% [markdown]
# 403, not 401: the token is good, it is just not enough (RFC 6750 §3.1). The header says
# which scope is missing, so a client can ask for it. The SDK's client does so by itself:
# bob signs in with read access, calls `add_note`, gets the 403 and authorizes again with
# the larger scope (step-up), then retries the call.
#
# Why read access first, although bob may write and the resource metadata lists both
# scopes? The first 401 names `scope="notes:read"`, the scope every request needs, and the
# SDK's client asks for the scope a 401 names before it looks at `scopes_supported`.

# %%
trace = labkit.Trace()
login = labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks)
oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    result = await client.call_tool("add_note", {"text": "bob stepped up"})
print(result.structured_content["result"], "· logins:", login.logins)
challenge = trace.exchanges[0].response_headers["www-authenticate"]
print("row 1, the 401 names:      ", re.search(r'scope="[^"]*"', challenge).group())
print("row 5, /authorize asks for:", trace.exchanges[4].query["scope"])
assert trace.exchanges[4].query["scope"] == "notes:read"
assert login.logins == 2 and trace.exchanges[8].status == 403
assert trace.exchanges[9].query["scope"] == "notes:read notes:write"
trace

# %% [markdown]
# Rows 9 to 13: the 403 naming `notes:write`, a second `/authorize` (now asking for
# `notes:read notes:write`), bob signs in again, a new token, and the same `tools/call`
# goes through. The client keeps its registration: no second `/register`.
#
# ## Revocation, and the price of caching
#
# The verifier caches a positive answer for 30 s: one introspection instead of one per
# request. The danger: a token revoked meanwhile would still be accepted from the cache. So
# the authorization server tells the resource servers which tokens it revoked (in
# production: an event push such as the OpenID Shared Signals Framework). The listener is
# the verifier's `forget` method:

# %%
print(lab.verifier.forget in lab.provider.revocation_listeners)

# %% [markdown]
# With the listener: a call puts bob's token in the cache, the client revokes the token
# (RFC 7009), and the very next call is refused.

# %%
app, tokens = manual.tokens_for(lab, http)
print("call:              ", manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code)
print("revoke:            ", manual.revoke(lab, http, app.client_id, tokens["access_token"]).status_code)
print("call after revoke: ", manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code)

# %% [markdown]
# Now remove the listener, as if the push were lost (or never built), and do the same:

# %%
lab.provider.revocation_listeners.remove(lab.verifier.forget)

app, tokens = manual.tokens_for(lab, http)
print("call:              ", manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code)
print("revoke:            ", manual.revoke(lab, http, app.client_id, tokens["access_token"]).status_code)
print("introspection says:", manual.introspect(lab, http, tokens["access_token"]))
stale = manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code
print("call after revoke: ", stale)
assert stale == 200

# %% [markdown]
# The authorization server knows the token is dead; the MCP server still serves it from its
# cache. (Why dead? Introspection does not say, on purpose: RFC 7662 §2.2. The lab can look
# inside its own authorization server: `lab.explain(token)`.)

# %%
lab.explain(tokens["access_token"])

# %% [markdown]
# The stale answer lasts until the cache entry expires, 30 s after it was made:

# %%
lab.clock.advance(31)
print("31 s later:        ", manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code)

# %% [markdown]
# Put the listener back (`lab.reset()` does it too):

# %%
lab.provider.revocation_listeners.append(lab.verifier.forget)

# %% [markdown]
# ## The cost side: introspections with and without the cache
#
# One client session making five tool calls with one token, first with the cache (30 s),
# then without (`cache_seconds = 0`). Counts, not timings: each introspection is one more
# round trip to the authorization server. Five calls make seven requests: `server/discover`
# opens the session, and after the first `tools/call` the SDK's client sends `tools/list`
# to fetch the tool's output schema and validate the structured result against it.

# %%
_, tokens = manual.tokens_for(lab, http)
for seconds in (30, 0):
    lab.verifier.cache_seconds = seconds
    before = lab.verifier.stats.introspections
    counted = labkit.Trace()
    async with labkit.connect(lab.mcp_url, labkit.BearerAuth(tokens["access_token"]), trace=counted) as client:
        for _ in range(5):
            await client.call_tool("whoami", {})
    made = lab.verifier.stats.introspections - before
    print(f"cache {seconds:2d} s: {len(counted.exchanges)} requests to the MCP server, {made} introspection(s)")
lab.verifier.cache_seconds = 30
print("the requests:", [e.mcp_method for e in counted.exchanges])

# %% [markdown]
# The trade-off, in one line: a cache of *n* seconds saves a round trip per request, and
# without revocation events lets a revoked token live up to *n* seconds more. Short-lived
# tokens bound the damage; revocation events remove it.

# %%
http.close()

# %% [markdown]
# ## Recap
#
# - With opaque tokens the resource server learns everything from introspection (RFC 7662),
#   which only authenticated resource servers may call.
# - A `TokenVerifier` is one async method: `AccessToken` lets the request in, `None` is 401.
# - Audience (RFC 8707): a server must refuse tokens minted for another; skipping the check
#   makes it a confused deputy that serves whoever replays someone's token.
# - Scopes: a good token without the needed scope gets 403 `insufficient_scope` with the
#   missing scope named; the SDK's client steps up by itself.
# - Caching verification saves round trips but delays revocation, unless the authorization
#   server pushes revocations to the resource servers.
#
# ## Exercise: an audience check
#
# Write `accepts(introspection, my_resource)`: given an introspection answer (a dict as
# above) and this server's resource URL, return True only if the token is active and was
# minted for this server. `aud` may be a string or a list of strings (RFC 7662 §2.2), or be
# missing. The check tries it on a handful of answers.

# %% [exercise] accepts
def accepts(introspection: dict, my_resource: str) -> bool:
    raise NotImplementedError

# %%
from labkit.exercises import nb06

nb06.check_accepts(accepts)
