"""One canonical spelling for every URL of the lab, so issuers and resources always match."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter

LOOPBACK = "127.0.0.1"

# Pydantic renders AnyHttpUrl("http://h:1") as "http://h:1/"; the SDK compares issuers as
# plain strings (RFC 8414 §3.3, RFC 9207), so we keep the empty path empty everywhere.
_URL = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


def http_url(text: str) -> AnyHttpUrl:
    """An AnyHttpUrl that renders exactly as ``text`` (no trailing slash added)."""
    url = _URL.validate_python(text)
    if str(url) != text:
        raise ValueError(f"{text!r} is not in canonical form (it renders as {str(url)!r})")
    return url


@dataclass(frozen=True)
class LabUrls:
    """Every URL the lab serves, built from two ports and one host spelling."""

    as_port: int
    rs_port: int
    host: str = LOOPBACK

    @property
    def authority_host(self) -> str:
        """The host as a URL spells it: an IPv6 literal goes in brackets (RFC 3986 §3.2.2)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def issuer(self) -> str:
        """The authorization server's issuer identifier (no trailing slash)."""
        return f"http://{self.authority_host}:{self.as_port}"

    @property
    def rs_origin(self) -> str:
        return f"http://{self.authority_host}:{self.rs_port}"

    @property
    def mcp(self) -> str:
        """The MCP endpoint, which is also the resource identifier (RFC 8707)."""
        return f"{self.rs_origin}/mcp"

    @property
    def resource_metadata(self) -> str:
        """Protected-resource metadata (RFC 9728 §3.1: well-known path + resource path)."""
        return f"{self.rs_origin}/.well-known/oauth-protected-resource/mcp"

    @property
    def as_metadata(self) -> str:
        return f"{self.issuer}/.well-known/oauth-authorization-server"

    def endpoint(self, path: str) -> str:
        """An endpoint of the authorization server, e.g. ``endpoint('/token')``."""
        return f"{self.issuer}{path}"
