"""The network between the app and the Socket Mode stand-in, which can break on demand.

A TCP relay on loopback: each link the app opens goes app ⇄ relay ⇄ server. On demand it
- cuts every link without a WebSocket close frame: a reset (RST, as a NAT or load balancer
  that forgot the connection) or a plain FIN;
- goes half-open: the sockets stay open, but nothing comes through any more in either
  direction (no envelope, no pong), as when the path silently died.
One thread per link forwards both ways; a cut is done by that thread, so no socket is closed
under a thread blocked on it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from typing import Literal

Order = Literal["forward", "half_open", "reset", "fin", "close"]
_TICK = 0.02  # how soon a pipe sees a new order


class _Pipe(threading.Thread):
    def __init__(self, app_side: socket.socket, server_side: socket.socket) -> None:
        super().__init__(name="socket-network-pipe", daemon=True)
        self.app_side, self.server_side = app_side, server_side
        self.order: Order = "forward"
        self.done = threading.Event()

    def run(self) -> None:
        app, server = self.app_side, self.server_side
        ending: Order = "close"
        try:
            while self.order not in ("reset", "fin", "close"):
                readable, _, _ = select.select([app, server], [], [], _TICK)
                for side in readable:
                    data = side.recv(65536)
                    if not data:
                        return
                    if self.order == "forward":
                        (server if side is app else app).sendall(data)
                    # half_open: swallowed, as by a path that died
            ending = self.order
        except OSError:
            pass
        finally:
            self._end(ending)
            self.done.set()

    def _end(self, how: Order) -> None:
        if how == "reset":
            # Linger 0: close() sends RST, not FIN.
            for side in (self.app_side, self.server_side):
                with contextlib.suppress(OSError):
                    side.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.app_side.close()
        self.server_side.close()


class FaultyNetwork:
    """A relay on `host` to the server at `target`; links opened through it can be broken."""

    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self._target = target
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(_TICK * 5)
        self._lock = threading.Lock()
        self._pipes: list[_Pipe] = []
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="socket-network", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def cut(self, *, reset: bool = True) -> int:
        """End every link now, without a close frame; return how many were cut."""
        return self._order("reset" if reset else "fin", wait=True)

    def go_half_open(self) -> int:
        """Let nothing through on every current link, sockets kept open; return how many."""
        return self._order("half_open", wait=False)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._order("close", wait=True)
        self._thread.join(timeout=2)
        self._listener.close()

    def _order(self, order: Order, *, wait: bool) -> int:
        with self._lock:
            pipes = [p for p in self._pipes if not p.done.is_set()]
        for pipe in pipes:
            pipe.order = order
        if wait:
            for pipe in pipes:
                pipe.done.wait(2)
        return len(pipes)

    def _accept(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
            try:
                app_side, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server_side = socket.create_connection(self._target, timeout=5)
            except OSError:
                app_side.close()
                continue
            for side in (app_side, server_side):
                side.settimeout(None)
                side.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pipe = _Pipe(app_side, server_side)
            with self._lock:
                self._pipes = [p for p in self._pipes if not p.done.is_set()] + [pipe]
            pipe.start()
