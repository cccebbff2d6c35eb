"""The demo users who can sign in on the lab's login page, and the scopes they may hold."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

READ_SCOPE = "notes:read"
WRITE_SCOPE = "notes:write"
ALL_SCOPES = (READ_SCOPE, WRITE_SCOPE)


@dataclass(frozen=True)
class DemoUser:
    """A resource owner. Passwords are in plain sight: this is a throwaway lab."""

    username: str
    password: str
    scopes: tuple[str, ...]
    description: str

    def grantable(self, requested: list[str]) -> list[str]:
        """The requested scopes this user may grant, in the order requested."""
        return [s for s in requested if s in self.scopes]


DEMO_USERS: dict[str, DemoUser] = {
    u.username: u
    for u in (
        DemoUser("alice", "alice-reads", (READ_SCOPE,), "may only read notes"),
        DemoUser("bob", "bob-writes", (READ_SCOPE, WRITE_SCOPE), "may read and write notes"),
    )
}


def check_password(username: str, password: str) -> DemoUser | None:
    """The user if the password is right, else None (compared in constant time)."""
    user = DEMO_USERS.get(username)
    if user is None:
        # Compare anyway so a wrong username costs the same as a wrong password.
        hmac.compare_digest(password.encode(), b"-" * len(password.encode()))
        return None
    return user if hmac.compare_digest(password.encode(), user.password.encode()) else None
