"""One way to make the lab's HTTP clients: httpx2 (the SDK's client), with one SSL context per process."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx2


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs about 20 ms, and every new client would pay it.

    The lab talks plain HTTP on loopback, but a client still builds its context up front.
    """
    return httpx2.create_ssl_context()


def async_client(**kwargs: Any) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` sharing the process's SSL context (certificates still verified)."""
    kwargs.setdefault("verify", ssl_context())
    return httpx2.AsyncClient(**kwargs)
