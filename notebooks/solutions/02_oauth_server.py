# Solutions for notebook 02. Each cell replaces the exercise cell of the same name.

# %% [solution] s256
import base64
import hashlib


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# %% [solution] read-callback
from urllib.parse import parse_qs, urlsplit


def read_callback(location: str, sent_state: str, issuer: str) -> str:
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    if query.get("state") != sent_state:
        raise ValueError("state is not the one we sent: this answer is not ours")
    if query.get("iss") != issuer:
        raise ValueError("iss is not the issuer we sent the user to")
    if "error" in query:
        raise ValueError(f"authorization failed: {query['error']}")
    return query["code"]
