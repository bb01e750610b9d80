"""The stand-ins' one HTTP server: loopback, an OS-chosen port, quiet, and stopped cleanly."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

import httpx
import pytest

from stand_ins.http_server import LoopbackHTTPServer, QuietRequestHandler, WsgiServerThread

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment


class Hello(QuietRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def hello_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from " + environ["PATH_INFO"].encode()]


def test_serves_on_loopback_on_a_port_of_its_own_until_stopped(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    before = set(threading.enumerate())
    caplog.set_level(logging.DEBUG, logger="stand_ins.http_server")
    with LoopbackHTTPServer(Hello, name="hello") as server:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        answer = httpx.get(f"{server.url}/path?secret=s3cr3t")
        assert (answer.status_code, answer.text) == (200, "hello")
        with pytest.raises(RuntimeError):
            server.start()
    assert capfd.readouterr().err == ""  # no access log on stderr
    logged = [r.getMessage() for r in caplog.records]
    assert "GET /path -> 200" in logged and not any("s3cr3t" in line for line in logged)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
        pass
    assert not {t for t in set(threading.enumerate()) - before if t.is_alive()}
    server.stop()  # again: nothing left to do


def test_a_wsgi_app_on_it() -> None:
    with WsgiServerThread(hello_app) as server:
        assert httpx.get(f"{server.url}/x").text == "hello from /x"


def test_stop_without_start_releases_the_port() -> None:
    server = LoopbackHTTPServer(Hello)
    port = server.port
    server.stop()
    with LoopbackHTTPServer(Hello, port=port) as again:
        assert again.port == port
