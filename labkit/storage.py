"""Token storages for the SDK's ``OAuthClientProvider``: where a client keeps its tokens.

The SDK asks a ``TokenStorage`` for four things (tokens and client registration, get and
set). Two more facts make a stored session usable after a restart, and mcp 2.3.0 keeps
neither (python-sdk issue #3250): *when* the access token expires (``OAuthToken`` only
says ``expires_in``, relative to a moment that is gone) and *where* the token endpoint is
(the authorization-server metadata). Our storages keep both; ``labkit.oauth_client`` hands
them back to the SDK's client before its first request.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from mcp.shared.auth import OAuthClientInformationFull, OAuthMetadata, OAuthToken
from pydantic import ValidationError

from labkit.clock import LabClock

FILE_FORMAT = "labkit-token-storage/1"


class TokenStorageError(RuntimeError):
    """A token file that cannot be used; the message names the file and what to do."""


class InMemoryTokenStorage:
    """The ``TokenStorage`` protocol in four methods, plus the session facts; lost with the process."""

    def __init__(self, clock: LabClock | None = None) -> None:
        self.clock = clock
        self.tokens: OAuthToken | None = None
        self.tokens_expire_at: float | None = None
        self.client_info: OAuthClientInformationFull | None = None
        self.oauth_metadata: OAuthMetadata | None = None
        self.server_url: str | None = None  # the MCP server these facts belong to

    def _now(self) -> float:
        return self.clock.now() if self.clock else time.time()

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.tokens_expire_at = self._now() + tokens.expires_in if tokens.expires_in is not None else None
        self._save()

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info
        self._save()

    def set_oauth_metadata(self, metadata: OAuthMetadata | None, *, server_url: str | None = None) -> None:
        """Remember where the authorization server's endpoints are (the SDK does not store this)."""
        if metadata is not None and (metadata != self.oauth_metadata or server_url != self.server_url):
            self.oauth_metadata = metadata
            self.server_url = server_url
            self._save()

    def _save(self) -> None:
        """Nothing to do in memory; ``FileTokenStorage`` writes the file here."""


class FileTokenStorage(InMemoryTokenStorage):
    """Tokens in a JSON file (mode 0600, replaced atomically) that survives a kernel restart.

    The file holds live credentials: it is readable by its owner only, and it is written to
    a temporary file first and then renamed, so a crash never leaves half a file behind.
    """

    def __init__(self, path: str | os.PathLike[str], clock: LabClock | None = None) -> None:
        super().__init__(clock)
        self.path = Path(path)
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return  # a first run: nothing stored yet
        except OSError as exc:
            raise TokenStorageError(f"cannot read the token file {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TokenStorageError(
                f"the token file {self.path} is not valid JSON ({exc}); delete it to sign in again"
            ) from None
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise TokenStorageError(
                f"{self.path} is not a labkit token file (expected format {FILE_FORMAT!r}); "
                "choose another path or move that file away"
            )
        try:
            self.tokens = OAuthToken.model_validate(data["tokens"]) if data.get("tokens") else None
            self.client_info = (
                OAuthClientInformationFull.model_validate(data["client_info"]) if data.get("client_info") else None
            )
            self.oauth_metadata = (
                OAuthMetadata.model_validate(data["oauth_metadata"]) if data.get("oauth_metadata") else None
            )
            self.server_url = data.get("server_url")
            expire = data.get("tokens_expire_at")
            self.tokens_expire_at = float(expire) if expire is not None else None
        except (ValidationError, TypeError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            raise TokenStorageError(
                f"the token file {self.path} has a damaged entry ({first}); delete it to sign in again"
            ) from None

    def _save(self) -> None:
        data: dict[str, Any] = {
            "format": FILE_FORMAT,
            "note": "Live credentials of a throwaway MCP OAuth lab. Keep private (mode 0600).",
            "tokens": self.tokens.model_dump(mode="json") if self.tokens else None,
            "tokens_expire_at": self.tokens_expire_at,
            "client_info": self.client_info.model_dump(mode="json", exclude_none=True) if self.client_info else None,
            "server_url": self.server_url,
            "oauth_metadata": self.oauth_metadata.model_dump(mode="json", exclude_none=True)
            if self.oauth_metadata
            else None,
        }
        with self._lock:
            write_private_json(self.path, data)


def write_private_json(path: Path, data: Any) -> None:
    """Write JSON readable by the owner only, atomically (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created with mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
