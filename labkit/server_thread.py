"""Run an ASGI app with uvicorn in a daemon thread of the notebook kernel, with its own event loop."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT = 10.0


class ServerStartError(RuntimeError):
    """A server of the lab could not start; the message says why."""


class ServerThread:
    """One uvicorn server on a loopback socket we bind ourselves.

    Binding first (port 0 picks a free port) means the port is known before the server
    runs and a taken port fails at once with a readable error, not after a timeout.
    """

    def __init__(self, name: str, host: str, port: int = 0) -> None:
        self.name = name
        self.host = host
        self._sock = _bind(host, port, name)
        self.port: int = self._sock.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._on_shutdown: Callable[[], Awaitable[None]] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"labkit-{name}", daemon=True)

    def launch(self, app: ASGIApp, on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        """Start serving ``app`` in the background; ``wait_ready`` waits for it."""
        config = uvicorn.Config(app, log_level="warning", access_log=False, log_config=None, lifespan="on")
        self._server = uvicorn.Server(config)
        self._on_shutdown = on_shutdown
        self._thread.start()

    def _run(self) -> None:
        # A loop of our own, made explicitly: this works even if a notebook applied
        # nest_asyncio (which patches asyncio.run) before starting the lab.
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # uvicorn calls sys.exit on a failed start
            self._error = exc
        finally:
            _close_loop(loop)

    async def _serve(self) -> None:
        assert self._server is not None
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            if self._on_shutdown is not None:
                await self._on_shutdown()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Return once the server accepts requests; raise at once if it died starting."""
        assert self._server is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise ServerStartError(f"the {self.name} server stopped while starting: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"the {self.name} server was not ready after {timeout} s")
            time.sleep(0.002)

    def request_stop(self) -> None:
        """Ask uvicorn to exit (returns at once; ``stop`` waits)."""
        if self._server is not None:
            self._server.should_exit = True

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit, wait for the thread, free the port."""
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    @property
    def running(self) -> bool:
        server = self._server
        return self._thread.is_alive() and server is not None and server.started and not server.should_exit


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending (an open event stream, say) and close the loop quietly."""
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def _bind(host: str, port: int, name: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP. With proto 0, Nagle's algorithm and delayed ACKs add about 40 ms to every
    # keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServerStartError(f"cannot start the {name} server: port {port} on {host} is already in use") from None
        raise ServerStartError(f"cannot start the {name} server on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
