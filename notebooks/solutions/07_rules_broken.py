# Solutions for notebook 07. Each cell replaces the exercise cell of the same name.

# %% [solution] predictions
predictions = {
    "implicit_grant": "unsupported_response_type",  # RFC 6749 §4.1.2.1
    "plain_pkce": "invalid_request",  # a malformed request: only S256 is accepted
    "code_of_another_client": "invalid_grant",  # RFC 6749 §5.2: issued to another client
    "unknown_resource": "invalid_target",  # RFC 8707 §2
    "unknown_scope": "invalid_scope",  # RFC 6749 §4.1.2.1
    "http_redirect_uri": "invalid_redirect_uri",  # RFC 7591 §3.2.2
    "introspection_without_credentials": "invalid_client",  # RFC 6749 §5.2, answered with 401
    "user_denies": "access_denied",  # RFC 6749 §4.1.2.1
}
