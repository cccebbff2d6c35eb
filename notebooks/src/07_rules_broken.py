# %% [markdown]
# # 07 · When rules break: each OAuth rule broken on purpose, the error the server answers, and what the spec requires
#
# Notebooks 02 to 06 followed the rules. Here you break them one at a time, over raw HTTP
# with `labkit.manual` (the same calls as the lab's rule tests in `tests/test_rules_*.py`),
# and read the server's exact answer: status, `error`, `error_description`. Each section
# says in one sentence why the rule exists. Where mcp 2.3.0 answers otherwise than the RFC,
# the section says so, and a box after the summary lists every such difference.
#
# The lab is local and throwaway, so its codes, verifiers and tokens are shown.

# %%
import labkit
from labkit import manual, pkce

lab = labkit.start()
lab.reset()
http = manual.http()  # shows every redirect instead of following it; closed at the end
lab

# %% [markdown]
# Two helpers: one line per answer, and a table of everything broken so far, for the end.

# %%
broken = {}  # rule -> (status, error), filled as we go
spec_says = {}  # rule -> the error the RFC names, where mcp 2.3.0 answers another


def answer(rule, response):
    """Print an OAuth error answer in one line, and remember it for the summary."""
    body = response.json()
    broken[rule] = (response.status_code, body["error"])
    print(response.status_code, body["error"], "·", body.get("error_description"))


# %% [markdown]
# ## 1. PKCE: the code verifier must match the challenge (RFC 7636 §4.6)
#
# A client registers, the user signs in, a code comes back. Redeem it with a verifier that
# is not the one behind the challenge sent to `/authorize`:

# %%
app = manual.register(lab, http)
auth = manual.authorize(lab, http, app)
print("code:", auth.code)
answer("PKCE verifier mismatch", manual.exchange(lab, http, auth, verifier=pkce.make_verifier()))
assert broken["PKCE verifier mismatch"] == (400, "invalid_grant")

# %% [markdown]
# Why: a code can leak (a malicious app registered for the same redirect URI, a log, a
# browser history). Only the client that started the flow knows the verifier, so a stolen
# code alone is worth nothing. A wrong guess does not burn the code; the right verifier
# still works:

# %%
first = manual.exchange(lab, http, auth)
tokens = first.json()
print(first.status_code, "access_token:", tokens["access_token"])

# %% [markdown]
# ## 2. A code is single-use; a replay revokes what it gave (RFC 6749 §4.1.2)
#
# Redeem the same code a second time:

# %%
answer("code replay", manual.exchange(lab, http, auth))
assert broken["code replay"] == (400, "invalid_grant")

# %% [markdown]
# Why: a code used twice means two parties hold it, and the server cannot tell which one is
# legitimate. So it refuses the second and should revoke the tokens the first one got
# (RFC 6749 §4.1.2 says SHOULD). The tokens from the cell above are dead now:

# %%
print("first access token:", manual.introspect(lab, http, tokens["access_token"]))
assert manual.introspect(lab, http, tokens["access_token"]) == {"active": False}

# %% [markdown]
# ## 3. The redirect URI must match, exactly (OAuth 2.1, RFC 9700 §2.1; RFC 6749 §4.1.3)
#
# At `/token`, the redirect URI must be the one sent to `/authorize` (RFC 6749 §4.1.3). A
# client with two registered redirect URIs signs in with the first, then names the second
# at `/token`:

# %%
app = manual.register(lab, http, redirect_uris=[manual.REDIRECT_URI, manual.OTHER_REDIRECT_URI])
auth = manual.authorize(lab, http, app, redirect_uri=manual.REDIRECT_URI)
answer("redirect URI mismatch at /token", manual.exchange(lab, http, auth, redirect_uri=manual.OTHER_REDIRECT_URI))
spec_says["redirect URI mismatch at /token"] = "invalid_grant"  # RFC 6749 §5.2
assert broken["redirect URI mismatch at /token"] == (400, "invalid_request")

# %% [markdown]
# Refused, but with the wrong code: this is an mcp 2.3.0 deviation. RFC 6749 §5.2 names
# `invalid_grant` for a code that "does not match the redirection URI used in the
# authorization request"; the SDK's token handler answers `invalid_request`.
#
# At `/authorize`, the redirect URI must equal one registered, character for character
# (OAuth 2.1, RFC 9700 §2.1; RFC 6749 §3.1.2.3 still allowed partial matching). One that was
# never registered:

# %%
evil = "http://127.0.0.1/evil"
params = manual.authorize_params(lab, app, challenge=pkce.s256_challenge(pkce.make_verifier()), redirect_uri=evil)
response = manual.start_authorization(lab, http, params)
print("Location header:", response.headers.get("location"))
answer("unregistered redirect URI", response)
assert response.status_code == 400 and "location" not in response.headers

# %% [markdown]
# Why: the redirect URI is where the code goes. If an attacker could choose it, the server
# would deliver the user's code to them. That is also why an unknown redirect URI gets a
# plain 400 page instead of a redirect carrying the error: the server must never redirect
# to a URI it has not verified (RFC 6749 §4.1.2.1).
#
# ## 4. `state` must come back unchanged: the SDK client checks it
#
# This rule is the client's, not the server's: `state` ties the answer on the redirect URI
# to the request this client made, so an attacker cannot feed it a code from *their* own
# login (CSRF, RFC 6749 §10.12). A login strategy that signs in honestly, then reports a
# forged `state` to the SDK:

# %%
from labkit.autologin import ForgedState

labkit.render.show_source(ForgedState)

# %% [markdown]
# The SDK raises `OAuthFlowError`, wrapped in exception groups by the async machinery
# around it. Catch it and print the innermost exception only:

# %%
from mcp.client.auth import OAuthFlowError

login = ForgedState(labkit.AutoLogin("bob", "bob-writes"))
oauth = labkit.oauth_client(lab.mcp_url, login, clock=lab.clock)
error = None
try:
    async with labkit.connect(lab.mcp_url, oauth) as client:
        await client.call_tool("whoami", {})
except* OAuthFlowError as group:
    error = labkit.errors.innermost(group)

sent_state = manual.query_of(login.inner.steps[0].url)["state"]  # what the client sent to /authorize
assert str(error) == f"State parameter mismatch: forged-state != {sent_state}"
print(f"{type(error).__name__}: {str(error).replace(sent_state, '<the state it sent>')}")
broken["forged state (SDK client)"] = ("-", type(error).__name__)

# %% [markdown]
# The user did sign in, and a code was issued, but the client never redeemed it:

# %%
code = manual.query_of(login.inner.steps[-1].location)["code"]  # from the redirect after sign-in
print("logins:", login.inner.logins, "· code:", code, "· redeemed:", lab.provider.codes[code].used)
assert login.inner.logins == 1 and not lab.provider.codes[code].used

# %% [markdown]
# ## 5. An expired access token is refused (RFC 6750 §3.1)
#
# A fresh token works; 301 s later (the lifetime is 300 s) it does not:

# %%
app, tokens = manual.tokens_for(lab, http)
print("now:       ", manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code)
lab.clock.advance(lab.provider.settings.access_token_ttl + 1)
expired = manual.mcp_post(http, lab.mcp_url, tokens["access_token"])
print("301 s later:", expired.status_code, expired.headers["www-authenticate"])
broken["expired access token"] = (expired.status_code, "invalid_token")
assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]

# %% [markdown]
# Why: a bearer token works for whoever holds it, so its lifetime bounds the damage of a
# leak. The client renews it with its refresh token (notebook 05); the resource server only
# ever says 401.
#
# ## 6. A token for one server is refused by another (RFC 8707)
#
# A second MCP server with the same tools; bob's token was minted for the first:

# %%
second_url = lab.add_resource_server("second")
app, tokens = manual.tokens_for(lab, http)
print("at the server it was minted for:", manual.mcp_post(http, lab.mcp_url, tokens["access_token"]).status_code)
refused = manual.mcp_post(http, second_url, tokens["access_token"])
print("at the second server:           ", refused.status_code, refused.headers["www-authenticate"])
broken["token for another server"] = (refused.status_code, "invalid_token")
assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]

# %% [markdown]
# Why: every server you call receives your tokens. Without this check, any of them could
# replay your token to the others and act as you (the confused deputy of notebook 06).
#
# ## 7. A refresh token is single-use; a reuse revokes the grant (RFC 9700 §4.14.2)
#
# Refresh once (rotation gives a new pair), then present the old refresh token again:

# %%
rotated = manual.refresh(lab, http, app, tokens["refresh_token"]).json()
print("old refresh_token:", tokens["refresh_token"])
print("new refresh_token:", rotated["refresh_token"])
answer("refresh token reuse", manual.refresh(lab, http, app, tokens["refresh_token"]))
print("newest access token:", manual.introspect(lab, http, rotated["access_token"]))
assert broken["refresh token reuse"] == (400, "invalid_grant")

# %% [markdown]
# Why: a spent refresh token coming back means it was copied. The server cannot tell the
# thief from the owner, so it ends the whole grant, newest tokens included; the owner signs
# in again, the thief is out.
#
# ## 8. The login page escapes what it shows, runs no script, and cannot be framed (RFC 6749 §10.14, §10.13)
#
# Registration is open here (RFC 7591 allows that), and the login page shows the client's
# name: input from outsiders, which RFC 6749 §10.14 says to validate and sanitize (OWASP:
# cross-site scripting). Register a client whose name is a script, and open its login page:

# %%
script = "<script>alert(1)</script>"
app = manual.register(lab, http, client_name=script)
page_url, _verifier = manual.login_url(lab, http, app)
page = http.get(page_url)
print(page.status_code, page.headers["content-type"])
print([line for line in page.text.splitlines() if "alert" in line])
assert script not in page.text

# %% [markdown]
# The name is shown as text (`&lt;script&gt;`), never as markup. A second line of defence,
# in case some value one day escapes the escaping: the page tells the browser to run no
# script at all. And it forbids other sites to frame it: clickjacking, RFC 6749 §10.13,
# which names `X-Frame-Options`; CSP's `frame-ancestors` is the newer form of the same.

# %%
for header in ("content-security-policy", "x-frame-options"):
    print(f"{header}: {page.headers[header]}")
broken["script in the client name"] = (page.status_code, "escaped")
assert "default-src 'none'" in page.headers["content-security-policy"]

# %% [markdown]
# ## Summary
#
# Every rule broken above, with the server's answer; a note marks where the RFC names another.

# %%
http.close()  # no more requests by hand
for rule, (status, what) in broken.items():
    note = f"  ← mcp 2.3.0 deviation; the RFC says {spec_says[rule]}" if rule in spec_says else ""
    print(f"{rule:32} {status}  {what}{note}")

# %% [markdown]
# ## SDK vs RFC: where mcp 2.3.0 answers differently
#
# Checked against the installed SDK's server code (`mcp/server/`). Keep them in mind when
# you compare a server's answers with the specs.
#
# | situation | mcp 2.3.0 | the spec | this lab |
# |---|---|---|---|
# | 401 for a request with no token | `error="invalid_token"` | no error code when the request had no authentication information (RFC 6750 §3.1) | as the SDK |
# | `redirect_uri` at `/token` differs from `/authorize` | `invalid_request` | `invalid_grant` (RFC 6749 §5.2) | as the SDK (section 3) |
# | unknown `grant_type` at `/token` | `invalid_request` | `unsupported_grant_type` (RFC 6749 §5.2) | as the SDK |
# | `resource` in the token request | read, never passed to the provider | names the resource the token is for (RFC 8707 §2.2) | binds the token to the authorization request's `resource` |
# | the 401's `scope` | none | the scope the request needs (MCP authorization spec) | adds `scope="notes:read"` (`labkit/resource_server.py`) |
# | `scopes_supported` in the resource metadata | the required scopes only | the scopes a client may request (RFC 9728 §2) | lists both (`labkit/resource_server.py`) |
# | `/revoke` from a public client | requires a `client_secret` field (400 without) | `token` and the `client_id` suffice (RFC 7009 §2.1) | adds an empty one (`labkit/auth_server.py`) |

# %% [markdown]
# ## Recap
#
# - The code is bound to the PKCE verifier, the client, and the redirect URI; it is used
#   once, and a replay revokes what it gave. A broken binding is `invalid_grant` at `/token`
#   (RFC 6749 §5.2), except that mcp 2.3.0 answers a redirect URI mismatch `invalid_request`.
# - A redirect URI not registered exactly gets an error page, never a redirect.
# - `state` is the client's own check; the SDK refuses a mismatch before redeeming the code.
# - A resource server answers 401 `invalid_token` for an expired token and for a token
#   minted for another server.
# - Refresh tokens rotate; a reuse revokes the grant.
# - Whatever an outsider chose (a client name) is escaped on the login page, and the page
#   allows no script and no framing.
# - mcp 2.3.0 answers a few cases otherwise than the RFCs (the box above); the lab bridges
#   the ones a client acts on.
#
# ## Exercise: predict the server's answer
#
# Eight more rules, not broken above. For each, write the `error` code you expect from the
# lab's servers. For these eight the lab answers the code the RFCs name (none is in the box
# above). Choose among: `invalid_request`, `invalid_client`, `invalid_grant`,
# `invalid_scope`, `invalid_target`, `invalid_redirect_uri`, `unsupported_response_type`,
# `access_denied`, `invalid_token`, `insufficient_scope`.
# The check breaks each rule on the running lab and compares.

# %% [exercise] predictions
predictions = {
    "implicit_grant": None,  # GET /authorize with response_type=token (OAuth 2.1 dropped the implicit grant)
    "plain_pkce": None,  # GET /authorize with code_challenge_method=plain instead of S256
    "code_of_another_client": None,  # client B redeems a code issued to client A
    "unknown_resource": None,  # GET /authorize with resource= a server this issuer knows nothing of
    "unknown_scope": None,  # GET /authorize with scope=notes:admin
    "http_redirect_uri": None,  # POST /register with redirect_uris=["http://app.example/callback"]
    "introspection_without_credentials": None,  # POST /introspect with no HTTP Basic credentials
    "user_denies": None,  # the user presses Deny on the login page
}

# %%
from labkit.exercises import nb07

nb07.check_predictions(predictions, lab)
