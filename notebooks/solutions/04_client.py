# Solutions for notebook 04. Each cell replaces the exercise cell of the same name.

# %% [solution] my-login
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.shared.auth import AuthorizationCodeResult


class MyLogin:
    redirect_uri = "http://127.0.0.1/callback"

    async def redirect_handler(self, authorization_url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False) as http:
            login_page = (await http.get(authorization_url)).headers["location"]
            answer = await http.post(login_page, data={"username": "bob", "password": "bob-writes"})
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        self.result = AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query["iss"][0])

    async def callback_handler(self) -> AuthorizationCodeResult:
        return self.result
