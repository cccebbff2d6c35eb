"""Checks for notebook 07 (rules broken on purpose)."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from labkit import manual, pkce
from labkit.exercises import Verdict, not_attempted, right, wrong
from labkit.lab import Lab

UNKNOWN_RESOURCE = "http://127.0.0.1:9/mcp"  # port 9 (discard): no lab server is ever there


def _error_of(response: httpx2.Response) -> str:
    """The ``error`` of an answer: in the redirect's query (front channel) or in the JSON body."""
    if response.status_code in (302, 303) and "location" in response.headers:
        return manual.query_of(response.headers["location"]).get("error", "(no error: the request succeeded)")
    try:
        return str(response.json().get("error", "(no error field)"))
    except ValueError:
        return f"(HTTP {response.status_code}, not JSON)"


def _authorize_with(lab: Lab, c: httpx2.Client, **overrides: str | None) -> str:
    client = manual.register(lab, c)
    challenge = pkce.s256_challenge(pkce.make_verifier())
    params = manual.authorize_params(lab, client, challenge=challenge, **overrides)  # type: ignore[arg-type]
    return _error_of(manual.start_authorization(lab, c, params))


def _implicit_grant(lab: Lab, c: httpx2.Client) -> str:
    return _authorize_with(lab, c, response_type="token")


def _plain_pkce(lab: Lab, c: httpx2.Client) -> str:
    client = manual.register(lab, c)
    verifier = pkce.make_verifier()
    params = manual.authorize_params(lab, client, challenge=verifier, code_challenge_method="plain")
    return _error_of(manual.start_authorization(lab, c, params))


def _code_of_another_client(lab: Lab, c: httpx2.Client) -> str:
    victim = manual.register(lab, c, client_name="victim")
    attacker = manual.register(lab, c, client_name="attacker")
    auth = manual.authorize(lab, c, victim)
    return _error_of(manual.exchange(lab, c, auth, client_id=attacker.client_id))


def _unknown_resource(lab: Lab, c: httpx2.Client) -> str:
    return _authorize_with(lab, c, resource=UNKNOWN_RESOURCE)


def _unknown_scope(lab: Lab, c: httpx2.Client) -> str:
    return _authorize_with(lab, c, scope="notes:admin")


def _http_redirect_uri(lab: Lab, c: httpx2.Client) -> str:
    response = c.post(
        lab.urls.endpoint("/register"),
        json={
            "redirect_uris": ["http://app.example/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "plain-http client",
        },
    )
    return _error_of(response)


def _introspection_without_credentials(lab: Lab, c: httpx2.Client) -> str:
    return _error_of(c.post(lab.urls.endpoint("/introspect"), data={"token": "at_anything"}))


def _user_denies(lab: Lab, c: httpx2.Client) -> str:
    page_url, _verifier = manual.login_url(lab, c, manual.register(lab, c))
    return _error_of(c.post(page_url, data={"action": "deny"}))


# name -> (how to break the rule on the running lab, a hint that names the rule, not the answer)
CASES: dict[str, tuple[Callable[[Lab, httpx2.Client], str], str]] = {
    "implicit_grant": (_implicit_grant, "RFC 6749 §4.1.2.1 has a code for a response_type the server does not offer."),
    "plain_pkce": (_plain_pkce, "the request is malformed: a parameter has a value the server refuses (§4.1.2.1)."),
    "code_of_another_client": (_code_of_another_client, "RFC 6749 §5.2: the code was issued to another client."),
    "unknown_resource": (_unknown_resource, "RFC 8707 §2 defines its own code for a resource the server won't serve."),
    "unknown_scope": (_unknown_scope, "RFC 6749 §4.1.2.1: the requested scope is unknown or not allowed."),
    "http_redirect_uri": (_http_redirect_uri, "RFC 7591 §3.2.2 has a code for a redirect URI the server refuses."),
    "introspection_without_credentials": (
        _introspection_without_credentials,
        "RFC 7662 §2.1 and RFC 6749 §5.2: the caller did not authenticate.",
    ),
    "user_denies": (_user_denies, "RFC 6749 §4.1.2.1: the resource owner said no."),
}


def check_predictions(predictions: object, lab: Lab) -> Verdict:
    """Break each rule of ``CASES`` on the running lab and compare its ``error`` with the prediction."""
    if not isinstance(predictions, dict):
        return wrong("predictions must stay a dict: rule name -> error code (a string).")
    unknown = sorted(set(predictions) - set(CASES))
    if unknown:
        return wrong(f"unknown rule name(s) {', '.join(unknown)}; keep the names of the cell.")
    answered = {k: v for k, v in predictions.items() if v is not None}
    if not answered:
        return not_attempted("predictions")
    missing = [name for name in CASES if predictions.get(name) is None]
    if missing:
        return wrong(f"still None: {', '.join(missing)}. Fill in every rule, then run this cell again.")
    with manual.http() as c:
        actual = {name: how(lab, c) for name, (how, _hint) in CASES.items()}
    off = [name for name in CASES if str(predictions[name]).strip().lower() != actual[name]]
    if off:
        first = off[0]
        return wrong(
            f"{len(CASES) - len(off)} of {len(CASES)} right; not yet: {', '.join(off)}. "
            f"A hint for {first}: {CASES[first][1]}"
        )
    return right(f"all {len(CASES)} predicted as the server answers them: {', '.join(sorted(set(actual.values())))}.")
