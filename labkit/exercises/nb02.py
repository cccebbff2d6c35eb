"""Checks for notebook 02 (the OAuth server by hand)."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from labkit import manual, pkce
from labkit.exercises import NotAttempted, Verdict, call, not_attempted, right, wrong
from labkit.lab import Lab

# RFC 7636 Appendix B: the worked example of an S256 challenge.
RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def check_s256(fn: Callable[[str], str]) -> Verdict:
    """``s256(verifier)`` must be BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2)."""
    if inspect.iscoroutinefunction(fn):
        return wrong("make s256 a plain `def`: hashing needs no await")
    verifiers = [RFC7636_VERIFIER] + [pkce.make_verifier() for _ in range(3)]
    for number, verifier in enumerate(verifiers):
        expected = RFC7636_CHALLENGE if number == 0 else pkce.s256_challenge(verifier)
        where = "the RFC 7636 Appendix B example" if number == 0 else "a fresh random verifier"
        try:
            result = call(fn, verifier)
        except NotAttempted:
            return not_attempted("s256")
        except Exception as exc:  # the learner's code: report, never raise
            return wrong(f"with {where}, s256 raised {type(exc).__name__}: {exc}")
        if result == expected:
            continue
        if isinstance(result, bytes):
            return wrong("return a str: decode the base64url bytes with .decode('ascii')")
        if not isinstance(result, str):
            return wrong(f"return the challenge as a str, not {type(result).__name__}")
        if result == verifier:
            return wrong("that is the verifier itself (the 'plain' method, which MCP forbids); hash it")
        if result.rstrip("=") == expected:
            return wrong("drop the '=' padding: RFC 7636 §4.2 uses base64url without padding")
        if "+" in result or "/" in result:
            return wrong("use the URL-safe alphabet (base64.urlsafe_b64encode): the challenge goes in a URL")
        if len(result) == 64 and all(ch in "0123456789abcdef" for ch in result):
            return wrong("that is the hex digest; base64url-encode the 32 raw bytes of .digest() instead")
        return wrong(f"with {where}, expected {expected}, got {result}")
    return right(
        "BASE64URL(SHA256(verifier)) without padding, RFC 7636 Appendix B included. "
        "The token endpoint computes the same thing from the verifier and compares."
    )


def _with(location: str, **changes: str | None) -> str:
    """The same URL with some query parameters replaced (a value of None removes the parameter)."""
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def check_read_callback(fn: Callable[[str, str, str], str], lab: Lab) -> Verdict:
    """Accept the genuine answer; refuse a foreign or missing state, a wrong or missing iss, and errors."""
    if inspect.iscoroutinefunction(fn):
        return wrong("make read_callback a plain `def`")
    state = secrets.token_urlsafe(16)
    try:
        with manual.http() as c:
            auth = manual.authorize(lab, c, manual.register(lab, c, client_name="exercise client"), state=state)
    except Exception as exc:
        return wrong(f"could not get a fresh authorization from the lab ({exc!r}); run the notebook from the top")
    genuine, issuer = auth.location, lab.issuer_url
    try:
        result = call(fn, genuine, state, issuer)
    except NotAttempted:
        return not_attempted("read_callback")
    except Exception as exc:
        return wrong(f"the genuine answer was refused ({type(exc).__name__}: {exc}); it carries the sent state and iss")
    if result != auth.code:
        return wrong(f"for the genuine answer, return the code (a str starting with 'code_'), not {result!r}")

    refused = [
        ("an answer with another state", _with(genuine, state=secrets.token_urlsafe(16)), "it is not ours (CSRF)"),
        ("an answer without state", _with(genuine, state=None), "nothing ties it to our request"),
        ("an answer from another issuer", _with(genuine, iss="https://as.evil.example"), "a mix-up (RFC 9207)"),
        (
            "an iss with a trailing slash",
            _with(genuine, iss=issuer + "/"),
            "RFC 9207 §2.4 compares issuers as exact strings",
        ),
        ("an answer without iss", _with(genuine, iss=None), "the metadata promised iss, so it must be there"),
        (
            "an error answer",
            _with(genuine, code=None, error="access_denied", error_description="the user denied the request"),
            "there is no code: the user said no",
        ),
    ]
    for label, location, why in refused:
        try:
            result = call(fn, location, state, issuer)
        except ValueError:
            continue
        except Exception as exc:
            return wrong(f"for {label} you raised {type(exc).__name__}; raise ValueError, saying why")
        return wrong(f"{label} was accepted (returned {result!r}); refuse it: {why}")
    return right(
        "the genuine answer gives its code; a foreign or missing state, a wrong or missing iss, "
        "and an error answer are refused."
    )
