# Solutions for notebook 01. Each cell replaces the exercise cell of the same name.

# %% [solution] discover-issuer
import re

import httpx2


def discover_issuer(www_authenticate: str) -> str:
    match = re.search(r'resource_metadata="([^"]+)"', www_authenticate)
    if match is None:
        raise ValueError("no resource_metadata parameter in the challenge")
    metadata = httpx2.get(match.group(1)).json()
    return metadata["authorization_servers"][0]
