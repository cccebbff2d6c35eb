"""Checks for notebook 06 (token verifier)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.exercises import NotAttempted, Verdict, call, not_attempted, right, wrong

MINE = "http://127.0.0.1:8000/mcp"
OTHER = "http://127.0.0.1:8001/mcp"

# (what the case is, the introspection answer, the right decision)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("an active token for this server", {"active": True, "sub": "bob", "aud": MINE}, True),
    ("an inactive token (expired or revoked) naming this server", {"active": False, "aud": MINE}, False),
    ("the shortest answer RFC 7662 allows for a dead token", {"active": False}, False),
    ("an active token for another server", {"active": True, "sub": "bob", "aud": OTHER}, False),
    ("an active token with no aud at all", {"active": True, "sub": "bob"}, False),
    ("an active token whose aud lists this server among others", {"active": True, "aud": [OTHER, MINE]}, True),
    ("an active token whose aud lists only other servers", {"active": True, "aud": [OTHER]}, False),
    ("an active token whose aud is an empty list", {"active": True, "aud": []}, False),
    ("an active token for a server whose URL starts like this one", {"active": True, "aud": MINE + "-admin"}, False),
    ("an answer without the active field", {"sub": "bob", "aud": MINE}, False),
]


def check_accepts(accepts: Callable[[dict[str, Any], str], Any]) -> Verdict:
    """Grade ``accepts(introspection, my_resource)`` on introspection answers a verifier may get."""
    if accepts is None:
        return not_attempted("accepts")
    for what, answer, expected in CASES:
        try:
            decided = call(accepts, dict(answer), MINE)
        except NotAttempted:
            return not_attempted("accepts")
        except Exception as exc:
            return wrong(
                f"for {what} ({answer}) it raised {type(exc).__name__}: {exc}. "
                "A field that is missing means refuse, not crash."
            )
        if not isinstance(decided, bool):
            return wrong(f"for {what} it returned {decided!r}; return True or False.")
        if decided != expected:
            verb = "accepted" if decided else "refused"
            return wrong(f"it {verb} {what}: {answer} with my_resource={MINE!r}.{_hint(answer)}")
    return right(
        f"all {len(CASES)} answers decided as a careful resource server would: active, and this "
        "server's URL equal to aud or to one item of the aud list."
    )


def _hint(answer: dict[str, Any]) -> str:
    aud = answer.get("aud")
    if isinstance(aud, str) and aud != MINE and aud.startswith(MINE):
        return " `in` on a string looks for a substring; compare the whole string."
    if "active" not in answer:
        return " RFC 7662 §2.2: active is required; without it, nothing says the token is good."
    return ""
