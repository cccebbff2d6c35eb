# Solutions for notebook 05. Each cell replaces the exercise cell of the same name.

# %% [solution] token-storage
class MyTokenStorage:
    """The SDK's TokenStorage protocol: tokens and client registration, get and set."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info
