# Solutions for notebook 03. Each cell replaces the exercise cell of the same name.

# %% [solution] redirect-uri-policy
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # urlsplit drops the brackets of [::1]


def redirect_uri_allowed(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


# %% [solution] single-use-codes
from mcp.server.auth.provider import TokenError

from labkit.exercises import nb03


class MyProvider(nb03.TinyProvider):
    async def load_authorization_code(self, client, authorization_code):
        code = self.codes.get(authorization_code)
        if code is None or code.client_id != client.client_id:
            return None  # another client's code "does not exist" for this one
        return code

    async def exchange_authorization_code(self, client, authorization_code):
        # Marked here, not in load_authorization_code: the SDK calls this only once every check passed.
        if authorization_code.code in self.used:
            self.revoke_tokens_of(authorization_code.code)  # a used code came back: someone copied it
            raise TokenError("invalid_grant", "authorization code was already used")
        self.used.add(authorization_code.code)
        return self.mint_tokens(authorization_code)
