# %% [markdown]
# # 00 · Welcome: OAuth 2.1 in the Model Context Protocol
#
# In this lab you run, watch and break the OAuth flow that protects an MCP server, with the
# official MCP Python SDK (`mcp` 2.x) doing the protocol work. Everything runs inside this
# notebook's kernel: no cloud account, no browser tab unless you want one.
#
# **You will build up, one notebook each:**
#
# | notebook | concept | you will see |
# |---|---|---|
# | 01 | MCP server | a tool call without auth, then the same server answering 401 |
# | 02 | OAuth server | metadata, registration, `/authorize` with PKCE, login, token: by hand |
# | 03 | Provider | what the SDK checks and what a provider author must write |
# | 04 | Client | the SDK's `OAuthClientProvider` with a login form, a trace, a diagram |
# | 05 | Token storage | tokens that survive a restart; refresh and its rotation |
# | 06 | Token verifier | introspection, audience, scopes and step-up, revocation and caching |
# | 07 | When rules break | each rule broken on purpose: the error the server answers, and what the spec requires |

# %% [markdown]
# ## The parties
#
# Four parties talk in every flow: the client, the user, the MCP server and the authorization
# server. Six components inside them each get a notebook (MCP server, authorization server,
# provider, client, token storage, token verifier). The arrows are the requests you will see
# again and again.
#
# ```mermaid
# sequenceDiagram
#     participant C as MCP client (SDK OAuthClientProvider + token storage)
#     participant U as User (login page)
#     participant RS as MCP server (resource server + token verifier)
#     participant AS as Authorization server (SDK routes + provider)
#     C->>RS: call a tool (no token)
#     RS-->>C: 401 + where the metadata is
#     C->>AS: discover, register, /authorize with PKCE
#     AS->>U: login page (provider.authorize chose it)
#     U->>AS: credentials
#     AS-->>C: redirect with code
#     C->>AS: code + verifier → tokens
#     C->>RS: call the tool with the access token
#     RS->>AS: introspect the token (token verifier)
#     RS-->>C: the result
# ```
#
# The client, not the server, renews tokens; the server only validates them and answers
# 401 (no valid token) or 403 (a valid token without the needed scope).

# %% [markdown]
# ## Start the lab
#
# `labkit.start()` runs the authorization server and the MCP server in background threads
# of this kernel, on free loopback ports. Running the cell again gives the same lab, not a
# second one.

# %%
import labkit

lab = labkit.start()
lab.reset()  # no clients or tokens from an earlier run
lab

# %% [markdown]
# The two URLs are all a client needs to know: the MCP URL (which is also the resource's
# name, RFC 8707) and, found from it, the issuer. Both answer already:

# %%
import httpx2

metadata = httpx2.get(lab.urls.as_metadata).json()
assert metadata["issuer"] == lab.issuer_url
print("issuer:", metadata["issuer"])
print("PKCE methods:", metadata["code_challenge_methods_supported"])

# %% [markdown]
# ## The whole flow in one cell
#
# Before taking it apart, see it work. `AutoLogin` signs in as a demo user by posting the
# credentials from the kernel (notebook 04 explains how); `Trace` records every request.

# %%
trace = labkit.Trace()
login = labkit.AutoLogin("bob", "bob-writes", event_hooks=trace.hooks)
oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    who = (await client.call_tool("whoami", {})).structured_content
assert who["subject"] == "bob"
who

# %% [markdown]
# Ten requests, from a refused call to a tool result. Every later notebook zooms into one
# part of this table. Three details: the SDK client opens the session with `server/discover`;
# after the first `tools/call` it asks `tools/list` for the tool's output schema, to check the
# result; and the MCP server's own question to the authorization server (introspection) is not
# in this client-side trace (notebook 06 shows it). Bob got only `notes:read`: the 401 named
# that scope as what the call needs, so the client asked for no more (notebook 06: step-up).

# %%
trace

# %% [markdown]
# ## Resetting, and the lab's clock
#
# `lab.reset()` forgets every client, token and note, so you can start a notebook afresh.
# `lab.clock.advance(seconds)` moves the lab's time forward, to expire codes and tokens
# without waiting. The server logs are kept out of your cells: `print(lab.logs())` shows them.

# %%
lab.reset()
assert lab.provider.clients == {}
print("clients after reset:", len(lab.provider.clients))

# %% [markdown]
# ## Using these notebooks
#
# - **On your own:** go in order; each notebook starts the lab itself, so any one also runs
#   alone. Run a notebook top to bottom first, then change things.
# - **In a workshop:** the README has a 90-minute plan. On a JupyterHub, where your browser
#   cannot reach the kernel's ports, everything still works: the login form posts from the
#   kernel, not from your browser.
# - **Exercises** end each notebook. Fill in the cell, run the check below it: it says
#   `✓ Right`, `✗ Not yet` (and why) or `… Not attempted`. Solutions are in
#   `notebooks/solutions/`.
#
# ## Recap
#
# - Two servers run in this kernel: the authorization server (issuer) and the MCP server
#   (resource). The SDK implements the protocol on both sides; the lab fills in what the SDK
#   leaves to you: login page, provider storage, introspection, token storage.
# - The client discovers everything from the MCP URL, and renews its own tokens.
#
# ## Exercise
#
# Look at the table above: which request carried the user's password, and to which server?
# Set `password_request` to its number (1 to 10).

# %% [exercise] password-request
password_request = None  # the number of the row in the trace table

# %%
from labkit.exercises import nb00

nb00.check_password_request(password_request, trace)
