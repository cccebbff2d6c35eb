"""PKCE (RFC 7636) by hand: make a verifier, derive its S256 challenge, check a pair."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def make_verifier(nbytes: int = 48) -> str:
    """A code verifier: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(nbytes)


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def check_pair(verifier: str, challenge: str) -> bool:
    """What the token endpoint does (RFC 7636 §4.6): recompute the challenge and compare."""
    return hmac.compare_digest(s256_challenge(verifier), challenge)
