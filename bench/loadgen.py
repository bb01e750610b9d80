"""The load generator: signed Slack requests, closed loop on acks (or paced), over keep-alive.

Every request is signed here (Slack's v0 HMAC-SHA256 over `v0:{timestamp}:{body}`) at the moment
it is sent. `concurrency` requests are in flight at any time: a worker sends its next request as
soon as the previous one was acknowledged, as Slack would for that many people typing at once.
With `rate`, requests start on a fixed schedule instead (open loop), still at most `concurrency`
in flight.

Two HTTP clients: `raw` (the default), a minimal HTTP/1.1 keep-alive client on asyncio streams,
and `httpx` (httpx.AsyncClient). On this project's 2-core machine httpx.AsyncClient costs ~3 ms
of CPU per request, twice what the bare Bolt server spends answering it, which made the load
generator the bottleneck (bench/RESULTS.md has the measurement); the raw client costs ~0.15 ms.

Optionally an answer window also holds back sending while too many answers are outstanding (the
memory run uses it, so that the bot's queue of acked-but-unanswered lookups stays small and the
RSS measured is the cache's, not a backlog's).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from stand_ins.slack_playground.slack_requests import (
    block_actions_payload,
    interaction_body,
    slash_command_body,
)
from stand_ins.slack_playground.workspace import BOT_USER_ID, Channel, Message, User
from stand_ins.slack_sink import Answer, classify

COMMAND = "/esign-flow"
TEAM_ID = "T0BENCH"
TEAM_DOMAIN = "bench"
CHANNEL = Channel("C0GENERAL", "general")
USER = User("U0PLAYER1", "you", "You (bench)")
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Job:
    """One request to send, and what should come of it."""

    #: Where its answers are recorded in the sink (the response_url token, or `update:<ts>`).
    key: str
    body: bytes
    #: How many answers it should produce (one card per flow id).
    expected: int
    flows: tuple[str, ...] = ()
    #: Slash commands and interactions are forms; Events API deliveries are JSON.
    content_type: str = FORM


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    #: time.monotonic() when the request was handed to the client, and when its answer was read.
    sent: float
    acked: float
    #: HTTP status of the ack; 0 when the request failed at the transport.
    status: int
    error: str | None = None
    #: The ack's body: a message Slack shows the moment the ack lands (empty: nothing shown).
    body: bytes = b""

    @property
    def ack_seconds(self) -> float:
        return self.acked - self.sent

    def carried_card(self) -> Answer | None:
        """The flow card the ack itself carried, as an answer that landed with the ack (Slack
        shows a slash command's ack body at once); None when it carried none."""
        if not self.body.startswith(b"{"):
            return None
        try:
            payload = json.loads(self.body)
        except ValueError:
            return None
        kind, flow_id = classify(payload if isinstance(payload, dict) else None)
        if kind != "card":
            return None
        return Answer(self.job.key, self.acked, kind, flow_id, replace_original=False)


class Signer:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    def headers(self, body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        digest = hmac.new(
            self._secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
        ).hexdigest()
        return {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
        }


class Requests:
    """Builds the bodies Slack sends, pointing response URLs at the sink."""

    def __init__(self, sink_url: str) -> None:
        self._sink_url = sink_url.rstrip("/")

    def response_url(self, key: str) -> str:
        return f"{self._sink_url}/response/{key}"

    def command(
        self,
        key: str,
        flow_ids: Sequence[str],
        *,
        verb: str | None = None,
        channel: Channel = CHANNEL,
        user: User = USER,
    ) -> Job:
        """`/esign-flow <ids>`, or `/esign-flow <verb> <ids>` (e.g. `watch`)."""
        text = ", ".join(flow_ids)
        body = slash_command_body(
            command=COMMAND,
            text=f"{verb} {text}" if verb else text,
            team_id=TEAM_ID,
            team_domain=TEAM_DOMAIN,
            channel=channel,
            user=user,
            response_url=self.response_url(key),
        )
        return Job(key, body, expected=len(flow_ids), flows=tuple(flow_ids))

    def recheck(
        self, key: str, card: dict[str, Any], action_id: str, *, ts: str, ephemeral: bool
    ) -> Job:
        """A click on the card's button `action_id`. An ephemeral card is answered through the
        click's response_url (key: the response_url token); a posted card by chat.update
        (key: `update:<ts>`)."""
        blocks = card.get("blocks")
        message = Message(
            ts=ts,
            channel_id=CHANNEL.id,
            thread_ts=None,
            user_id=BOT_USER_ID,
            bot=True,
            text=str(card.get("text") or ""),
            blocks=blocks if isinstance(blocks, list) else [],
            ephemeral_to=USER.id if ephemeral else None,
        )
        payload = block_actions_payload(
            team_id=TEAM_ID,
            team_domain=TEAM_DOMAIN,
            channel=CHANNEL,
            user=USER,
            message=message,
            action_id=action_id,
            response_url=self.response_url(key),
        )
        value = str(payload["actions"][0].get("value") or "")
        flows = (value.partition("|")[0],) if value else ()
        answer_key = key if ephemeral else f"update:{ts}"
        return Job(answer_key, interaction_body(payload), expected=1, flows=flows)


Client = Literal["raw", "httpx"]
#: Reconnect rather than reuse a keep-alive connection idle for longer than this.
IDLE_REUSE_SECONDS = 1.0


class _Connection:
    """One keep-alive HTTP/1.1 connection: POST a body, read the status and the whole answer."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._idle_since = 0.0

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        # A server closes keep-alive connections left idle (as servers do after a few seconds); a
        # request written into one that is being closed gets no answer. Like any pooling
        # client, don't reuse a connection that sat idle for a while or saw the server's EOF.
        stale = time.monotonic() - self._idle_since > IDLE_REUSE_SECONDS
        if self._reader is not None and (stale or self._reader.at_eof()):
            self.close()
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        head = f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode("latin-1") + body)
        status_line = await reader.readline()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ConnectionError(f"no HTTP answer: {status_line[:60]!r}")
        status = int(parts[1])
        length: int | None = None
        chunked = close = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        answer = b""
        if chunked:
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                answer += (await reader.readexactly(size + 2))[:size]
                if size == 0:
                    break
        elif length is not None:
            answer = await reader.readexactly(length)
        else:
            answer = await reader.read()
            close = True
        if close:
            self.close()
        self._idle_since = time.monotonic()
        return status, answer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def drive(
    url: str,
    jobs: Sequence[Job],
    *,
    concurrency: int,
    signer: Signer,
    rate: float | None = None,
    answered: Callable[[], int] | None = None,
    answer_window: int | None = None,
    timeout: float = 15.0,
    client: Client = "raw",
) -> list[Outcome]:
    """Send `jobs` with at most `concurrency` in flight; one Outcome per job, in job order.

    `rate`: start request i at i/rate seconds (open loop) instead of as soon as a slot is free.
    With `answered` (how many answers the sink has seen since the run began) and
    `answer_window`, a worker also waits while more than `answer_window` answers are due.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    outcomes: list[Outcome | None] = [None] * len(jobs)
    next_index = 0
    expected_so_far = 0
    seen = 0
    done = False
    http: httpx.AsyncClient | None = None
    if client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        http = httpx.AsyncClient(limits=limits, timeout=timeout)

    async def poll_answers() -> None:
        nonlocal seen
        assert answered is not None
        while not done:
            seen = await asyncio.to_thread(answered)
            await asyncio.sleep(0.01)

    async def worker() -> None:
        nonlocal next_index, expected_so_far
        connection = _Connection(host, port)
        try:
            while next_index < len(jobs):
                index = next_index
                next_index += 1
                job = jobs[index]
                if rate is not None:
                    delay = started + index / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if answer_window is not None:
                    while expected_so_far - seen > answer_window:
                        await asyncio.sleep(0.005)
                expected_so_far += job.expected
                headers = {**signer.headers(job.body), "Content-Type": job.content_type}
                sent = time.monotonic()
                try:
                    if http is not None:
                        response = await http.post(url, content=job.body, headers=headers)
                        status, answer = response.status_code, response.content
                    else:
                        # Not asyncio.wait_for: on 3.11 it can swallow a cancellation (Ctrl-C)
                        # that arrives as the answer does.
                        async with asyncio.timeout(timeout):
                            status, answer = await connection.post(path, job.body, headers)
                    outcome = Outcome(job, sent, time.monotonic(), status, body=answer)
                    outcomes[index] = outcome
                    if answer_window is not None and outcome.carried_card() is not None:
                        expected_so_far -= 1  # answered already: the sink will not see it
                except (TimeoutError, OSError, ValueError, httpx.HTTPError) as exc:
                    connection.close()
                    what = f"{type(exc).__name__}: {exc}"[:120]
                    outcomes[index] = Outcome(job, sent, time.monotonic(), 0, what)
        finally:
            connection.close()

    started = time.monotonic()
    poller = asyncio.create_task(poll_answers()) if answered is not None else None
    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(jobs)))))
    finally:
        done = True
        if poller is not None:
            await poller
        if http is not None:
            await http.aclose()
    return [outcome for outcome in outcomes if outcome is not None]
