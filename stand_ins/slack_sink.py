"""A lean Slack sink for the benchmark: response URLs and the few Web API methods the bot calls,
recorded by key.

The Slack playground (`stand_ins.slack_playground`) is a faithful Slack, with a workspace that
keeps every message and copies it for readers; for tens of thousands of answers the benchmark
needs less: when each answer landed (`time.monotonic()`, which on Linux is one clock for every
process on the machine, so the load generator can compare it with its own send times), and
what it was (a flow card, an error card or note, the baseline's fixed text).

Keys: a response_url `<base>/response/<token>` records under `<token>`; `chat.update` under
`update:<ts>`; `chat.postMessage` under `post:<channel>:<thread_ts>`. Full payloads are kept
only for keys starting with `keep-` (the benchmark reads a card's buttons from one of them).
`conversations.open` answers the DM channel `D<user id>`, so a DM lands under
`post:D<user id>:None`. Every Web API call is also logged as (method, arrival time), for calls
per minute (`api_calls`).

Outages (`slack_down`): for a while, chat.postMessage and chat.update answer 503, or 429 with
Retry-After, or hang: a hung call is recorded (Slack acted on it) but answered only after
`hang_seconds`, later than a client waits, the ambiguous timeout after the send. The calls are
logged either way (`api_calls`).

Socket Mode: `apps.connections.open` answers with the URLs handed to `add_socket_urls` for the
app-level token in its Authorization header, one per call, in order (each holds a single-use
ticket of a Socket Mode server the caller runs, e.g. stand_ins.slack_playground's); a token it
was given none for is refused (`invalid_auth`), as is one whose URLs are used up.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl

from stand_ins.http_server import LOOPBACK, LoopbackHTTPServer, QuietRequestHandler

#: What the bare Bolt baseline answers every command with.
BASELINE_TEXT = "baseline: acked and answered"
KEEP_PREFIX = "keep-"
BOT_USER_ID = "U0BOTUSER"
BOT_ID = "B0BENCH"
TEAM_ID = "T0BENCH"
_FLOW_IN_HEADER = re.compile(r"\bFlow (\S+) ·")
_ANSWERED = b"ok"
OUTAGE_METHODS = frozenset({"chat.postMessage", "chat.update"})
OutageMode = Literal["503", "429", "hang"]


class Outage(NamedTuple):
    mode: OutageMode
    #: time.monotonic() when Slack is back.
    until: float
    retry_after: int
    hang_seconds: float


class Answer(NamedTuple):
    key: str
    #: time.monotonic() when the request had fully arrived.
    at: float
    #: "card" (a flow card: it has a header block), "error" (any other message from the bot:
    #: an error card or a note), "text" (the baseline's fixed text), "delete", "invalid".
    kind: str
    flow_id: str | None
    replace_original: bool


def classify(payload: dict[str, Any] | None) -> tuple[str, str | None]:
    """The answer's kind and, for a flow card, the flow id in its header."""
    if payload is None:
        return "invalid", None
    if payload.get("delete_original") in (True, "true"):
        return "delete", None
    blocks = payload.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            blocks = None
    if isinstance(blocks, list):
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "header":
                text = block.get("text")
                header = text.get("text", "") if isinstance(text, dict) else ""
                found = _FLOW_IN_HEADER.search(str(header))
                return "card", found.group(1) if found else None
    text = payload.get("text")
    if text == BASELINE_TEXT:
        return "text", None
    if blocks or text:
        return "error", None
    return "invalid", None


class SlackSink:
    """Start with start(); every method is safe to call through a multiprocessing proxy."""

    def __init__(self, host: str = LOOPBACK) -> None:
        self._host = host
        self._lock = threading.Lock()
        self._answers: list[Answer] = []
        self._kept: dict[str, dict[str, Any]] = {}
        self._other_texts: Counter[str] = Counter()
        self._api_calls: list[tuple[str, float]] = []
        self._socket_urls: dict[str, deque[str]] = {}
        self._outage: Outage | None = None
        self._server: _Server | None = None

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on an OS-chosen port; returns the base URL."""
        if self._server is None:
            self._server = _Server(self, host=self._host).start()
        return self.base_url()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sink is not running")
        return self._server.url

    def api_url(self) -> str:
        return f"{self.base_url()}/api/"

    # --- reading ----------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return len(self._answers)

    def answers(self, since: int = 0) -> list[Answer]:
        with self._lock:
            return self._answers[since:]

    def kept(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._kept.get(key)

    def other_texts(self) -> dict[str, int]:
        """Top-level texts of answers that were not flow cards, with counts (diagnostics)."""
        with self._lock:
            return dict(self._other_texts)

    def api_calls(self, since: float = 0.0) -> list[tuple[str, float]]:
        """(Web API method, time.monotonic() of arrival) of each call that arrived after `since`."""
        with self._lock:
            return [call for call in self._api_calls if call[1] >= since]

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self._kept.clear()
            self._other_texts.clear()
            self._api_calls.clear()
            self._outage = None

    # --- outages ---------------------------------------------------------------------------

    def slack_down(
        self,
        mode: OutageMode,
        seconds: float,
        *,
        retry_after: int = 1,
        hang_seconds: float = 15.0,
    ) -> None:
        """For `seconds` from now, answer chat.postMessage and chat.update as `mode` says."""
        with self._lock:
            self._outage = Outage(mode, time.monotonic() + seconds, retry_after, hang_seconds)

    def slack_up(self) -> None:
        with self._lock:
            self._outage = None

    def outage_for(self, method: str) -> Outage | None:
        with self._lock:
            outage = self._outage
        if outage is None or method not in OUTAGE_METHODS or time.monotonic() >= outage.until:
            return None
        return outage

    # --- Socket Mode ------------------------------------------------------------------------

    def add_socket_urls(self, app_token: str, urls: Sequence[str]) -> None:
        """Hand out `urls`, in order, to apps.connections.open calls with `app_token`."""
        with self._lock:
            self._socket_urls.setdefault(app_token, deque()).extend(urls)

    def next_socket_url(self, app_token: str) -> str | None:
        """The next URL for `app_token` (used up by this call); None when it has none left."""
        with self._lock:
            urls = self._socket_urls.get(app_token)
            return urls.popleft() if urls else None

    # --- writing (the server's threads) ---------------------------------------------------------

    def record_call(self, method: str, at: float) -> None:
        with self._lock:
            self._api_calls.append((method, at))

    def record(self, key: str, at: float, payload: dict[str, Any] | None) -> None:
        kind, flow_id = classify(payload)
        replace = payload is not None and payload.get("replace_original") in (True, "true")
        with self._lock:
            self._answers.append(Answer(key, at, kind, flow_id, replace))
            if key.startswith(KEEP_PREFIX) and payload is not None:
                self._kept[key] = payload
            if kind in ("error", "invalid") and payload is not None:
                self._other_texts[str(payload.get("text"))[:120]] += 1


class _Server(LoopbackHTTPServer):
    # The benchmark's bursts of answers arrive on many new connections at once.
    request_queue_size = 1024

    def __init__(self, sink: SlackSink, *, host: str) -> None:
        self.sink = sink
        super().__init__(_Handler, host=host, name="slack-sink")


class _Handler(QuietRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._send(404, b"not_found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        arrived = time.monotonic()
        path = self.path.split("?", 1)[0]
        sink = self.server.sink
        if path.startswith("/response/"):
            sink.record(path.removeprefix("/response/"), arrived, _json_object(body))
            self._send(200, _ANSWERED, "text/plain")
            return
        if path.startswith("/api/"):
            method = path.removeprefix("/api/")
            params = _params(body, self.headers.get("Content-Type", ""))
            if method == "apps.connections.open":
                self._open_connection(arrived)
            else:
                self._api(method, params, arrived)
            return
        self._send(404, b"not_found", "text/plain")

    def _api(self, method: str, params: dict[str, Any], arrived: float) -> None:
        sink = self.server.sink
        sink.record_call(method, arrived)
        outage = sink.outage_for(method)
        if outage is not None and outage.mode != "hang":
            self._refuse(outage)
            return
        answer: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            answer.update(
                url="https://bench.slack.com/",
                team="Bench",
                user="esign-flow",
                team_id=TEAM_ID,
                user_id=BOT_USER_ID,
                bot_id=BOT_ID,
                is_enterprise_install=False,
            )
        elif method == "chat.update":
            ts = str(params.get("ts"))
            sink.record(f"update:{ts}", arrived, params)
            answer.update(channel=params.get("channel"), ts=ts, text=params.get("text"))
        elif method == "chat.postMessage":
            sink.record(f"post:{params.get('channel')}:{params.get('thread_ts')}", arrived, params)
            answer.update(channel=params.get("channel"), ts=f"{time.time():.6f}")
        elif method == "conversations.open":
            user = str(params.get("users") or "").split(",")[0]
            answer.update(channel={"id": dm_channel(user)})
        if outage is not None:
            time.sleep(outage.hang_seconds)  # acted on, answered after the client gave up
        try:
            self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")
        except OSError:
            self.close_connection = True  # the client hung up meanwhile

    def _refuse(self, outage: Outage) -> None:
        if outage.mode == "429":
            body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            self.send_response(429)
            self.send_header("Retry-After", str(outage.retry_after))
        else:
            body = json.dumps({"ok": False, "error": "service_unavailable"}).encode()
            self.send_response(503)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _open_connection(self, arrived: float) -> None:
        """Socket Mode's apps.connections.open: the app-level token only in the header."""
        sink = self.server.sink
        sink.record_call("apps.connections.open", arrived)
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        answer: dict[str, Any]
        if scheme.lower() != "bearer" or not token:
            answer = {"ok": False, "error": "not_authed"}
        elif (url := sink.next_socket_url(token.strip())) is None:
            answer = {"ok": False, "error": "invalid_auth"}
        else:
            answer = {"ok": True, "url": url}
        self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def dm_channel(user_id: str) -> str:
    """The DM channel id conversations.open answers for `user_id`."""
    return f"D{user_id}"


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.split(";")[0].strip().lower() == "application/json":
        return _json_object(body) or {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
