"""labkit: an OAuth 2.1 authorization server and a protected MCP server in your notebook kernel."""

from labkit import errors, pkce, render
from labkit.autologin import AutoLogin, LoginError
from labkit.client import BearerAuth, connect, oauth_client
from labkit.lab import Lab, current, start, stop
from labkit.storage import FileTokenStorage, InMemoryTokenStorage, TokenStorageError
from labkit.trace import Exchange, Trace
from labkit.users import ALL_SCOPES, DEMO_USERS, READ_SCOPE, WRITE_SCOPE

__all__ = [
    "ALL_SCOPES",
    "DEMO_USERS",
    "READ_SCOPE",
    "WRITE_SCOPE",
    "AutoLogin",
    "BearerAuth",
    "Exchange",
    "FileTokenStorage",
    "InMemoryTokenStorage",
    "Lab",
    "LoginError",
    "TokenStorageError",
    "Trace",
    "connect",
    "current",
    "errors",
    "oauth_client",
    "pkce",
    "render",
    "start",
    "stop",
]
