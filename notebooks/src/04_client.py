# %% [markdown]
# # 04 · Client: the SDK's `OAuthClientProvider`, a login form, and the trace of a flow
#
# The MCP client does most of OAuth by itself: discovery, registration, PKCE, the token
# exchange, refresh. It needs you for one thing only: getting the user to sign in. Here you
# sign in three ways (a form in this notebook, an automatic credential POST, a real browser)
# and watch every request the client makes.

# %%
import labkit

lab = labkit.start()
lab.reset()
lab

# %% [markdown]
# ## What the SDK's client needs
#
# `OAuthClientProvider` (from `mcp.client.auth`) is an `httpx2.Auth`: attach it to the HTTP
# client and it answers every 401 with the whole OAuth flow. `labkit.oauth_client` builds it:
#
# ```python
# OAuthClientProvider(
#     mcp_url,                    # the full .../mcp URL: it is also the resource (RFC 8707)
#     OAuthClientMetadata(redirect_uris=[...], token_endpoint_auth_method="none", ...),
#     storage,                    # a TokenStorage: where tokens live (notebook 05)
#     redirect_handler=...,       # "send the user to this authorization URL"
#     callback_handler=...,       # "give me the code, state and iss that came back"
# )
# ```
#
# The two handlers are the login strategy. The client is *public* (no secret): a notebook
# cannot keep one, so PKCE is what protects its code.

# %% [markdown]
# ## Sign in with a form in the notebook
#
# `WidgetLogin` is a login strategy: its `redirect_handler` asks `/authorize` where the user
# should go (our login page) and shows a form; its `callback_handler` waits for you. When you
# press *Sign in*, the kernel posts your credentials to the login page, so it works even where
# your browser cannot reach the lab's ports (a JupyterHub).

# %%
from labkit.widgets import WidgetLogin

trace = labkit.Trace()
form_login = WidgetLogin(event_hooks=trace.hooks)  # record the login's requests too
oauth = labkit.oauth_client(lab.mcp_url, form_login, clock=lab.clock)

# %% [markdown]
# Run the next cell. It stops at the form until you sign in (`bob` / `bob-writes`, or
# `alice` / `alice-reads`); with *Run All* the cells below wait too, and go on by themselves
# once you are signed in. A wrong password shows a message and lets you try again.

# %%
async with labkit.connect(lab.mcp_url, oauth, trace=trace) as client:
    who = (await client.call_tool("whoami", {})).structured_content
assert who["subject"] in ("alice", "bob")
print(f"The MCP server says: you are {who['subject']}, with scopes {who['scopes']}.")

# %% [markdown]
# Only `notes:read`, even for bob: the 401 named that scope as what the call needs, and the
# client asks for no more than that. Calling `add_note` would get a 403 and make the client
# step up (notebook 06).
#
# Why the kernel does not freeze while the cell waits: the cell *awaits* (top-level `await`),
# so the kernel keeps handling your clicks. The form works around two details of
# ipykernel 7.4 that would otherwise lose what you type; `labkit/widgets.py` explains them.

# %% [markdown]
# ## What happened on the wire
#
# Every request of the flow, in order. The credentials went to the authorization server only
# (the row from *User*); the MCP server saw nothing but a bearer token. One honest caveat: here
# the kernel plays the user's browser, so the process that runs the MCP client posts the
# password. A real native client must not do that (RFC 8252 §8.12); it opens the system
# browser instead, as `BrowserLogin` below does.

# %%
trace

# %% [markdown]
# The same as a sequence diagram (JupyterLab draws it):

# %%
labkit.render.mermaid_markdown(trace)

# %% [markdown]
# A few facts to check in the trace, as the client's code would:

# %%
authorize = next(e for e in trace.exchanges if e.path == "/authorize")
token = next(e for e in trace.exchanges if e.path == "/token")
assert authorize.query["code_challenge_method"] == "S256"
assert labkit.pkce.check_pair(token.request_form["code_verifier"], authorize.query["code_challenge"])
assert authorize.query["resource"] == lab.mcp_url
print("PKCE: the verifier sent to /token hashes to the challenge sent to /authorize")
print("resource:", authorize.query["resource"])

# %% [markdown]
# ## Sign in automatically: the credential POST, step by step
#
# For tests and scripts, a login strategy can do what the person would do: request the
# authorization URL *without following* the redirect, read `Location` (the login page),
# POST the credentials there, and read `code`, `state` and `iss` from the next `Location`
# instead of visiting it. `AutoLoginView` does that and shows each step.

# %%
from labkit.widgets import AutoLoginView

auto = AutoLoginView("alice", "alice-reads")
async with labkit.connect(lab.mcp_url, labkit.oauth_client(lab.mcp_url, auto, clock=lab.clock)) as client:
    who = (await client.call_tool("whoami", {})).structured_content
assert who["subject"] == "alice" and auto.logins == 1
print(f"signed in as {who['subject']} without a person, in {len(auto.steps)} requests")

# %% [markdown]
# ## Sign in with a real browser (local `jupyter lab` only)
#
# A desktop MCP client listens on a loopback port, registers
# `http://127.0.0.1:<port>/callback` as its redirect URI and opens the system browser
# (RFC 8252). `BrowserLogin` does the same. It needs a browser that can reach the lab's
# ports, so on a JupyterHub this cell only says so. (The output stored in this file comes
# from the test run, where a scripted browser stands in for a person.)

# %%
from labkit.browser_login import BrowserLogin

if BrowserLogin.available():
    browser = BrowserLogin(timeout=120)
    try:
        oauth = labkit.oauth_client(lab.mcp_url, browser, clock=lab.clock)
        async with labkit.connect(lab.mcp_url, oauth) as client:
            who = (await client.call_tool("whoami", {})).structured_content
        print(f"signed in through the browser as {who['subject']}; redirect URI {browser.redirect_uri}")
    finally:
        browser.close()
else:
    print("No browser can be opened from this kernel (a JupyterHub or a container): skipping.")

# %% [markdown]
# ## A script's `asyncio.run(main())`, unchanged in a cell
#
# Scripts written for the SDK end with `asyncio.run(main())`. In a notebook that fails: the
# kernel already runs an event loop, and `asyncio.run` refuses to start a second one in the
# same thread.

# %%
import asyncio


async def main() -> str:
    oauth = labkit.oauth_client(lab.mcp_url, labkit.AutoLogin("bob", "bob-writes"), clock=lab.clock)
    async with labkit.connect(lab.mcp_url, oauth) as client:
        return (await client.call_tool("whoami", {})).structured_content["subject"]


script = main()
try:
    asyncio.run(script)
except RuntimeError as error:
    script.close()
    print("RuntimeError:", error)

# %% [markdown]
# In a cell, just `await main()`. To paste a script as it is, `nest_asyncio.apply()` makes
# the running loop re-entrant, so `asyncio.run` runs on it:

# %%
import nest_asyncio

nest_asyncio.apply()
print("asyncio.run(main()) →", asyncio.run(main()))

# %% [markdown]
# Why the lab itself does not need it: its servers run in threads with event loops of their
# own, and its cells use top-level `await`. Why to avoid it: it is archived; on
# Python 3.12+ applied *before* `import uvicorn` it breaks uvicorn's start (a `loop_factory`
# TypeError); and a re-entrant `asyncio.run` that waits for a person (the login form) fails
# (measured on ipykernel 7.4: a RuntimeError, and the kernel stays busy). Keep `await` for
# anything interactive.

# %% [markdown]
# ## Recap
#
# - `OAuthClientProvider` runs the flow; a login strategy is just `redirect_handler` +
#   `callback_handler`.
# - A form in the notebook, a credential POST from code, or a browser with a loopback
#   listener: three strategies, one protocol.
# - The trace shows what each party saw: the password only at the authorization server,
#   the token at the MCP server, PKCE tying `/authorize` to `/token`.
# - In a cell, `await`; `nest_asyncio` only to paste a script's `asyncio.run(main())` as is.
#
# ## Exercise: your own automatic login
#
# Complete `MyLogin`: a login strategy that signs in as bob without a person. Use
# `httpx2.AsyncClient(follow_redirects=False)`. In `redirect_handler`, GET the authorization
# URL, take the login page from `Location`, POST `username` and `password` to that exact URL
# (its `?request=` names the pending sign-in), and keep the query of the final `Location`. In `callback_handler`, return it as an
# `AuthorizationCodeResult(code=..., state=..., iss=...)`.

# %% [exercise] my-login
import httpx2
from mcp.shared.auth import AuthorizationCodeResult


class MyLogin:
    redirect_uri = "http://127.0.0.1/callback"

    async def redirect_handler(self, authorization_url: str) -> None:
        raise NotImplementedError

    async def callback_handler(self) -> AuthorizationCodeResult:
        raise NotImplementedError

# %%
from labkit.exercises import nb04

await nb04.check_login_strategy(lab, MyLogin())
