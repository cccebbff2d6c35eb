"""The authorization server as one Starlette app: the SDK's routes plus login and introspection."""

from __future__ import annotations

from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.routes import build_metadata, cors_middleware, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from starlette.applications import Starlette
from starlette.routing import Route

from labkit.introspection import INTROSPECTION_PATH, ResourceServerCredentials, introspection_routes
from labkit.login_page import login_routes
from labkit.provider import LabProvider
from labkit.urls import http_url
from labkit.users import ALL_SCOPES, READ_SCOPE

METADATA_PATH = "/.well-known/oauth-authorization-server"


def build_auth_app(provider: LabProvider, resource_servers: list[ResourceServerCredentials]) -> Starlette:
    """``create_auth_routes`` does metadata, /authorize, /token, /register and /revoke.

    We add what a provider author must add: the login page and introspection, and we
    extend the metadata (RFC 8414) to advertise them.
    """
    issuer = http_url(provider.issuer)
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=list(ALL_SCOPES), default_scopes=[READ_SCOPE])
    revocation = RevocationOptions(enabled=True)
    routes = create_auth_routes(
        provider, issuer, client_registration_options=registration, revocation_options=revocation
    )

    metadata = build_metadata(issuer, None, registration, revocation)
    metadata.introspection_endpoint = http_url(provider.issuer + INTROSPECTION_PATH)
    metadata.introspection_endpoint_auth_methods_supported = ["client_secret_basic"]
    metadata.authorization_response_iss_parameter_supported = True  # RFC 9207: we send iss
    metadata_route = Route(
        METADATA_PATH,
        endpoint=cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"]),
        methods=["GET", "OPTIONS"],
    )
    routes = [metadata_route if getattr(r, "path", None) == METADATA_PATH else r for r in routes]
    routes += login_routes(provider) + introspection_routes(provider, resource_servers)
    return Starlette(routes=routes)
