"""labkit: an OAuth 2.1 authorization server and a protected MCP server in your notebook kernel."""

from labkit.autologin import AutoLogin, LoginError
from labkit.client import connect, oauth_client
from labkit.lab import Lab, current, start, stop
from labkit.storage import InMemoryTokenStorage
from labkit.trace import Exchange, Trace
from labkit.users import ALL_SCOPES, DEMO_USERS, READ_SCOPE, WRITE_SCOPE

__all__ = [
    "ALL_SCOPES",
    "DEMO_USERS",
    "READ_SCOPE",
    "WRITE_SCOPE",
    "AutoLogin",
    "Exchange",
    "InMemoryTokenStorage",
    "Lab",
    "LoginError",
    "Trace",
    "connect",
    "current",
    "oauth_client",
    "start",
    "stop",
]
