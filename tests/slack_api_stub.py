"""A stub Slack Web API over real HTTP, answering each method one fixed way: ok, a 429, a
refusal. For tests of the Web API client and what counts its calls."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: What the stub answers, by method: (status, body).
ANSWERS = {
    "chat.postMessage": (200, {"ok": True, "ts": "1.2"}),
    "users.info": (429, {"ok": False, "error": "ratelimited"}),
    "views.publish": (200, {"ok": False, "error": "not_found"}),
    "chat.update": (200, {"ok": False, "error": "ratelimited"}),
    "functions.completeSuccess": (200, {"ok": True}),
}


class _Answers(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        method = self.path.rsplit("/", 1)[-1]
        status, body = ANSWERS.get(method, (404, {"ok": False, "error": "unknown_method"}))
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        pass


class SlackApiStub:
    """`with SlackApiStub() as base_url`: a stub Slack Web API answering ANSWERS on a free port."""

    def __enter__(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
