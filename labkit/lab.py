"""The lab: start the authorization server and the MCP server in the kernel, and stop them."""

from __future__ import annotations

import atexit
import html
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from labkit.auth_server import build_auth_app
from labkit.clock import LabClock
from labkit.explain import TokenExplanation, explain_token
from labkit.introspection import INTROSPECTION_PATH, ResourceServerCredentials
from labkit.logs import LabLogBuffer, capture_logs
from labkit.provider import LabProvider, ProviderSettings
from labkit.resource_server import NoteBook, build_open_app, build_protected_app
from labkit.server_thread import ServerThread
from labkit.storage import write_private_json
from labkit.urls import LOOPBACK, LabUrls
from labkit.users import DEMO_USERS, DemoUser
from labkit.verifier import DEFAULT_CACHE_SECONDS, IntrospectionTokenVerifier


@dataclass
class ResourceServer:
    """A running protected MCP server: its URL, its verifier and its thread."""

    name: str
    url: str
    verifier: IntrospectionTokenVerifier
    thread: ServerThread
    cache_seconds: float = DEFAULT_CACHE_SECONDS  # as started; reset() restores them
    check_audience: bool = True


@dataclass
class Lab:
    """Both servers of the lab, running in background threads of this process."""

    urls: LabUrls
    clock: LabClock
    provider: LabProvider
    notebook: NoteBook
    resource_servers: dict[str, ResourceServer]
    _as_thread: ServerThread
    _introspection_clients: list[ResourceServerCredentials]
    _log: LabLogBuffer
    _open: ServerThread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def users(self) -> Mapping[str, DemoUser]:
        """The demo users who can sign in (read-only: they live in ``labkit/users.py``)."""
        return MappingProxyType(DEMO_USERS)

    @property
    def issuer_url(self) -> str:
        return self.urls.issuer

    @property
    def mcp_url(self) -> str:
        """The protected MCP endpoint, which is also its resource identifier."""
        return self.urls.mcp

    @property
    def verifier(self) -> IntrospectionTokenVerifier:
        return self.resource_servers["notes"].verifier

    @property
    def running(self) -> bool:
        return self._as_thread.running and all(rs.thread.running for rs in self.resource_servers.values())

    def add_resource_server(
        self, name: str, *, check_audience: bool = True, cache_seconds: float = DEFAULT_CACHE_SECONDS
    ) -> str:
        """Start another protected MCP server (same tools, its own resource URL); returns its URL.

        Used to show audience checks: a token minted for one server must fail at another.
        """
        with self._lock:
            if name in self.resource_servers:
                return self.resource_servers[name].url
            rs = _start_resource_server(self, name, check_audience=check_audience, cache_seconds=cache_seconds)
            self.resource_servers[name] = rs
            return rs.url

    def open_server_url(self) -> str:
        """An MCP server with the same tools and no auth at all (started on first use)."""
        with self._lock:
            if self._open is None:
                thread = ServerThread("open MCP", self.urls.host)
                # Notes of its own: the protected notes must not be readable without a token.
                thread.launch(build_open_app(self.urls, NoteBook()))
                thread.wait_ready()
                self._open = thread
            return f"http://{self.urls.authority_host}:{self._open.port}/mcp"

    def explain(self, token: str) -> TokenExplanation:
        """What the authorization server says about ``token`` (introspection), in sentences."""
        return explain_token(self, token)

    def logs(self, last: int = 50) -> str:
        """The last log lines of the servers and the SDK (kept out of cell outputs)."""
        return self._log.text(last)

    def reset(self) -> None:
        """Forget clients, logins, codes, tokens and notes; set the clock back to wall time."""
        self.clock.reset()  # first: the provider's reset saves the state file with the clock
        self.provider.reset()
        self.notebook.reset()
        for rs in self.resource_servers.values():  # a notebook may have changed these
            rs.verifier.cache_seconds = rs.cache_seconds
            rs.verifier.check_audience = rs.check_audience
            rs.verifier.trace = None
            rs.verifier.forget(None)
            if rs.verifier.forget not in self.provider.revocation_listeners:
                self.provider.revocation_listeners.append(rs.verifier.forget)

    def stop(self) -> None:
        """Stop every server of the lab and free its ports."""
        global _current
        threads = [rs.thread for rs in self.resource_servers.values()] + [self._as_thread]
        if self._open is not None:
            threads.append(self._open)
        for thread in threads:  # all at once: each takes ~150 ms to wind down
            thread.request_stop()
        for thread in threads:
            thread.stop()
        with _current_lock:
            if _current is self:
                _current = None

    def _repr_markdown_(self) -> str:
        e = html.escape
        rows = "\n".join(
            f"| `{e(u.username)}` | `{e(u.password)}` | `{e(' '.join(u.scopes))}` |" for u in self.users.values()
        )
        state = "running" if self.running else "stopped"
        return (
            f"**MCP OAuth lab** ({state})\n\n"
            f"- authorization server (issuer): `{self.issuer_url}`\n"
            f"- MCP server (protected resource): `{self.mcp_url}`\n\n"
            f"| user | password | scopes |\n|---|---|---|\n{rows}\n"
        )

    def __repr__(self) -> str:
        return f"<Lab issuer={self.issuer_url} mcp={self.mcp_url} {'running' if self.running else 'stopped'}>"


_current: Lab | None = None
_current_lock = threading.Lock()
_start_lock = threading.Lock()
_current_args: tuple[object, ...] | None = None


def start(
    *,
    as_port: int = 0,
    mcp_port: int = 0,
    access_token_ttl: int = 300,
    host: str = LOOPBACK,
    state_file: str | os.PathLike[str] | None = None,
) -> Lab:
    """Start the lab, or return the one already running with the same settings.

    Ports 0 pick free ports. Running this cell twice gives one lab, not two; a call with
    other settings stops the old lab first.

    ``state_file`` keeps the authorization server's clients, grants and tokens (and its
    ports, so its issuer URL stays the same) in a file, standing in for a server that
    outlives this process: a client's stored tokens then still work after a restart.
    """
    global _current, _current_args
    args = (as_port, mcp_port, access_token_ttl, host, str(state_file) if state_file else None)
    with _start_lock:  # two threads calling start() at once still get one lab
        current = _current
        if current is not None:
            if current.running and args == _current_args:
                return current
            current.stop()
        lab = launch(
            as_port=as_port, mcp_port=mcp_port, access_token_ttl=access_token_ttl, host=host, state_file=state_file
        )
        with _current_lock:
            _current, _current_args = lab, args
        return lab


def launch(
    *,
    as_port: int = 0,
    mcp_port: int = 0,
    access_token_ttl: int = 300,
    host: str = LOOPBACK,
    state_file: str | os.PathLike[str] | None = None,
) -> Lab:
    """A new lab, independent of the one ``start()`` manages (tests and benchmarks use it)."""
    saved = _read_state(Path(state_file)) if state_file else None
    if saved is not None:
        as_port = as_port or int(saved["as_port"])
        mcp_port = mcp_port or int(saved["mcp_port"])
    lab = _start(as_port=as_port, mcp_port=mcp_port, access_token_ttl=access_token_ttl, host=host)
    if state_file:
        _keep_state(lab, Path(state_file), saved)
    return lab


STATE_FORMAT = "labkit-lab-state/1"


class LabStateError(RuntimeError):
    """A lab state file that cannot be used; the message names the file."""


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabStateError(f"cannot read the lab state file {path}: {exc}; delete it to start afresh") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise LabStateError(f"{path} is not a labkit lab state file (expected format {STATE_FORMAT!r})")
    return data


def _keep_state(lab: Lab, path: Path, saved: dict[str, Any] | None) -> None:
    if saved is not None:
        try:
            lab.provider.import_state(saved["provider"])
        except (KeyError, TypeError, ValueError) as exc:
            lab.stop()
            raise LabStateError(f"the lab state file {path} is damaged ({exc!r}); delete it to start afresh") from None

    def save() -> None:
        state = {
            "format": STATE_FORMAT,
            "note": "Server-side state of a throwaway MCP OAuth lab: live tokens. Keep private.",
            "as_port": lab.urls.as_port,
            "mcp_port": lab.urls.rs_port,
            "provider": lab.provider.export_state(),
        }
        write_private_json(path, state)

    lab.provider.on_change = save
    save()


def current() -> Lab | None:
    """The running lab, if any."""
    return _current


def stop() -> None:
    """Stop the running lab, if any."""
    lab = _current
    if lab is not None:
        lab.stop()


atexit.register(stop)


def _start(*, as_port: int, mcp_port: int, access_token_ttl: int, host: str) -> Lab:
    log = capture_logs()
    as_thread = ServerThread("authorization", host, as_port)
    try:
        rs_thread = ServerThread("MCP", host, mcp_port)
    except Exception:
        as_thread.stop()
        raise
    urls = LabUrls(as_port=as_thread.port, rs_port=rs_thread.port, host=host)
    clock = LabClock()
    provider = LabProvider(
        issuer=urls.issuer, clock=clock, settings=ProviderSettings(access_token_ttl=access_token_ttl)
    )
    introspection_clients: list[ResourceServerCredentials] = []
    lab = Lab(
        urls=urls,
        clock=clock,
        provider=provider,
        notebook=NoteBook(),
        resource_servers={},
        _as_thread=as_thread,
        _introspection_clients=introspection_clients,
        _log=log,
    )
    try:
        as_thread.launch(build_auth_app(provider, introspection_clients))
        lab.resource_servers["notes"] = _start_resource_server(lab, "notes", thread=rs_thread, wait=False)
        as_thread.wait_ready()
        rs_thread.wait_ready()
    except BaseException:
        lab.stop()
        rs_thread.stop()
        raise
    return lab


def _start_resource_server(
    lab: Lab,
    name: str,
    *,
    thread: ServerThread | None = None,
    wait: bool = True,
    check_audience: bool = True,
    cache_seconds: float = DEFAULT_CACHE_SECONDS,
) -> ResourceServer:
    thread = thread or ServerThread(f"{name} MCP", lab.urls.host)
    url = f"http://{lab.urls.authority_host}:{thread.port}/mcp"
    credentials = ResourceServerCredentials.generate(f"rs-{name}")
    lab._introspection_clients.append(credentials)
    lab.provider.resources.add(url)
    verifier = IntrospectionTokenVerifier(
        introspection_url=lab.urls.endpoint(INTROSPECTION_PATH),
        credentials=credentials,
        resource=url,
        clock=lab.clock,
        check_audience=check_audience,
        cache_seconds=cache_seconds,
    )
    lab.provider.revocation_listeners.append(verifier.forget)
    thread.launch(build_protected_app(lab.urls, verifier, lab.notebook), on_shutdown=verifier.aclose)
    if wait:
        thread.wait_ready()
    return ResourceServer(name, url, verifier, thread, cache_seconds=cache_seconds, check_audience=check_audience)
