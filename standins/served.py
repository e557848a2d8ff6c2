"""What the emulators share: a threaded HTTP server on a daemon thread, its lifecycle
(``start`` / ``stop`` / ``base_url`` / ``with``), handlers that never log and whose open
connections ``stop`` cuts, and the command line's wait for Ctrl-C.

    class MyEmulator(ServedEmulator):
        thread_name = "my-emulator"

        def __init__(self, ..., host="127.0.0.1", port=0):
            self.serve_on(host, port)

        def handler_class(self):
            return _Handler            # a TrackedHandler (or any BaseHTTPRequestHandler)
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

__all__ = ["QuietServer", "ServedEmulator", "TrackedHandler", "serve_until_interrupted"]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up (or a dropped connection) is not worth a traceback on stderr
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class TrackedHandler(BaseHTTPRequestHandler):
    """A handler whose open connections its emulator knows (``emulator._conns`` under
    ``emulator._lock``), so ``stop()`` can cut them; it never logs (paths and headers carry codes and
    keys)."""

    emulator: Any
    protocol_version = "HTTP/1.1"
    timeout = 60
    disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK stalls

    def setup(self) -> None:
        super().setup()
        with self.emulator._lock:
            self.emulator._conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.emulator._lock:
                self.emulator._conns.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # never log (paths may carry codes)
        pass


class ServedEmulator:
    """The lifecycle of an emulator served on ``host:port`` (port 0: a free one) from a daemon thread."""

    thread_name: ClassVar[str] = "emulator"
    host: str
    port: int
    _lock: Any  # a Lock or RLock the emulator's own state shares
    _server: QuietServer | None
    _thread: threading.Thread | None
    _conns: set[socket.socket]

    def serve_on(self, host: str, port: int) -> None:
        """Call from ``__init__``: where to serve (nothing starts yet)."""
        self.host, self.port = host, port
        if not hasattr(self, "_lock"):
            self._lock = threading.RLock()
        self._server, self._thread, self._conns = None, None, set()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> str:
        """Serve (once; a second call returns the same address). Returns the base URL."""
        if self._server is None:
            handler = type("Handler", (self.handler_class(),), {"emulator": self})
            self._server = QuietServer((self.host, self.port), handler)
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=self.thread_name, daemon=True)
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and cut open keep-alive connections (they would otherwise linger)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_interrupted(stop: Callable[[], None]) -> int:
    """An emulator's command line after it started: wait for Ctrl-C, then ``stop`` it."""
    print("Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0
