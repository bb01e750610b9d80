"""Bad input, bad days and bad actors, each driven through the real app over loopback HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.slack.ids import ACTION_RECHECK, SHORTCUT_LOOKUP_IN_MESSAGE
from stand_ins.esign_simulator import EsignSimulator, Fault
from stand_ins.slack_playground import Message, Playground
from tests.e2e.conftest import BotProcess, start_bot

DOC_FLOW = "803719636976683872"
OUTLINE_PATH = re.compile(r"^/v2/identity/auth/api/common/[0-9A-Za-z]{6,64}/outline$")
#: What must never reach Slack unescaped from user text: pings, mentions and links. The one
#: mention allowed is the bot's own "requested by" of the person who asked (U0PLAYER1).
LIVE_MARKUP = re.compile(r"<(!channel|!here|!everyone|@(?!U0PLAYER1>)|https?://)")

HOSTILE_TEXTS = [
    "",
    " ",
    "\t\n  \r\n",
    "x" * 10_240,
    "8" * 10_240,
    "803719636976683872\x00",
    "\x00\x01\x02\x1b[31m",
    "803719636976683872\r\nX-Injected: 1",
    "８０３７１９６３６９７６６８３８７２",
    "٨٠٣٧١٩٦٣٦٩٧٦٦٨٣٨٧٢",
    "۸۰۳۷۱۹۶۳۶۹۷۶۶۸۳۸۷۲",
    "😀😀😀",
    "803719636976683872😀",
    "\u202e803719636976683872",
    "803719636976683872\u200f",
    "\u200b803719636976683872",
    "../../v1/oauth2/access_token",
    "..%2f..%2fv1%2foauth2",
    "%2e%2e%2f803719636976683872",
    "803719636976683872?appId=1",
    "803719636976683872#frag",
    "803719636976683872;rm -rf",
    "//evil.example/803719636976683872",
    "http://evil.example/x",
    "<!channel>",
    "<!here> please look",
    "<!everyone>",
    "<@U0PLAYER2> 803719636976683872x",
    "<https://evil.example|click me>",
    "<https://evil.example>",
    "*bold* _it_ ~strike~ `code` ```pre```",
    "&lt;!channel&gt;",
    "' OR 1=1 --",
    "{{7*7}} ${jndi:ldap://x}",
    "null",
    "[]",
    "1e308",
    "-803719636976683872",
    "803719636976683872.5",
    " ".join(f"29873660{n:011d}" for n in range(100)),
    ",".join(["803719636976683872"] * 100),
    "帮助 803719636976683872",
    "\ufeff\ufffd803719636976683872",
]


def bot_messages(slack: Playground) -> list[Message]:
    return [m for m in slack.workspace.messages() if m.bot]


def assert_clean(text: str) -> None:
    assert not LIVE_MARKUP.search(text), text[:300]
    assert "Traceback" not in text and "Exception" not in text


def assert_only_safe_esign_paths(simulator: EsignSimulator) -> None:
    for request in simulator.requests():
        assert OUTLINE_PATH.match(request.path.split("?")[0]), request.path
        assert "?" not in request.path


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_hostile_command_text_gets_a_clear_answer(
    slack: Playground, simulator: EsignSimulator, bot: BotProcess, text: str
) -> None:
    exchange = slack.slash_command(text)
    assert exchange.status == 200 and exchange.elapsed < 2.0
    assert_clean(exchange.body)
    answer = exchange.body
    if not answer:  # the cards follow through the response_url
        answer = "\n".join(
            m.visible_text() for m in slack.workspace.wait_for(lambda ms: ms or None)
        )
    assert answer.strip()
    time.sleep(0.05)
    for message in bot_messages(slack):
        assert_clean(message.visible_text())
    assert_only_safe_esign_paths(simulator)
    assert httpx.get(f"{bot.base_url}/healthz").status_code == 200


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_hostile_message_text_for_the_shortcut(
    slack: Playground, simulator: EsignSimulator, text: str
) -> None:
    message = slack.post_user_message(text or " ")
    exchange = slack.message_shortcut(message.ts)
    assert exchange.status == 200 and exchange.elapsed < 2.0
    answers = slack.workspace.wait_for(lambda ms: [m for m in ms if m.bot] or None)
    for answer in answers:
        assert_clean(answer.visible_text())
    assert_only_safe_esign_paths(simulator)


def _signed_form(slack: Playground, fields: dict[str, str]) -> httpx.Response:
    body = urlencode(fields).encode()
    headers = {**slack.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
    assert slack.bot_events_url is not None
    return httpx.post(slack.bot_events_url, content=body, headers=headers, timeout=5)


MALFORMED_PAYLOADS: list[dict[str, Any] | str] = [
    "not json",
    "[]",
    {},
    {"type": "block_actions"},
    {"type": "block_actions", "actions": "nope", "response_url": 7},
    {"type": "block_actions", "actions": [{"action_id": ACTION_RECHECK}]},
    {"type": "block_actions", "actions": [{"action_id": ACTION_RECHECK, "value": None}]},
    {"type": "block_actions", "actions": [{"action_id": ACTION_RECHECK, "value": "9" * 5000}]},
    {"type": "block_actions", "actions": [{"action_id": ACTION_RECHECK, "value": "../x|1.2"}]},
    {"type": "block_actions", "actions": [{"action_id": "something_else", "value": "1"}]},
    {"type": "block_actions", "actions": [{"action_id": ACTION_RECHECK, "value": DOC_FLOW}],
     "container": {"is_ephemeral": True}, "response_url": "https://evil.example/steal"},
    {"type": "message_action", "callback_id": SHORTCUT_LOOKUP_IN_MESSAGE},
    {"type": "message_action", "callback_id": SHORTCUT_LOOKUP_IN_MESSAGE,
     "message": {"text": ["list"]}, "channel": "C0GENERAL"},
    {"type": "message_action", "callback_id": SHORTCUT_LOOKUP_IN_MESSAGE,
     "message": {"text": DOC_FLOW, "ts": "x"}, "channel": {"id": 5}},
    {"type": "view_submission"},
    {"type": 42},
]  # fmt: skip


@pytest.mark.parametrize("payload", MALFORMED_PAYLOADS, ids=range(len(MALFORMED_PAYLOADS)))
def test_malformed_payloads_never_crash_the_bot(
    slack: Playground, simulator: EsignSimulator, bot: BotProcess, payload: dict[str, Any] | str
) -> None:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    response = _signed_form(slack, {"payload": raw})
    assert response.status_code in (200, 400, 404)
    assert "Traceback" not in response.text
    time.sleep(0.2)
    assert_only_safe_esign_paths(simulator)
    assert not any("evil.example" in c.endpoint for c in slack.workspace.calls())
    assert httpx.get(f"{bot.base_url}/healthz").status_code == 200
    assert slack.slash_command("help").status == 200  # still serving


def test_malformed_command_fields(slack: Playground, simulator: EsignSimulator) -> None:
    for fields in (
        {"command": "/esign-flow"},
        {"command": "/esign-flow", "text": DOC_FLOW},  # no response_url
        {"command": "/esign-flow", "text": DOC_FLOW, "response_url": "https://evil.example/x"},
        {"command": "/not-ours", "text": DOC_FLOW},
    ):
        response = _signed_form(slack, fields)
        assert response.status_code in (200, 404)
    time.sleep(0.3)
    assert not any("evil.example" in c.endpoint for c in slack.workspace.calls())


def test_oversized_request_body_is_refused(slack: Playground) -> None:
    body = b"text=" + b"8" * 300_000
    headers = {**slack.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
    assert slack.send_raw(body, headers).status == 413


def test_response_url_faults_are_retried_where_slack_allows(slack: Playground) -> None:
    slack.workspace.inject_fault("response_url", 429, retry_after=1)
    slack.slash_command(DOC_FLOW)
    [card] = slack.workspace.wait_for(lambda ms: [m for m in ms if m.bot] or None, timeout=8)
    assert DOC_FLOW in card.visible_text()
    slack.workspace.reset()
    slack.workspace.inject_fault("response_url", 500)
    slack.slash_command(DOC_FLOW)
    [card] = slack.workspace.wait_for(lambda ms: [m for m in ms if m.bot] or None, timeout=8)
    assert DOC_FLOW in card.visible_text()


def test_response_url_404_is_logged_and_the_bot_keeps_serving(
    slack: Playground, bot: BotProcess
) -> None:
    # A flow not looked up yet in this bot: its card goes through the response_url (a cached
    # one would ride on the ack).
    slack.workspace.inject_fault("response_url", 404, times=1)
    slack.slash_command("2987368120394857472")
    slack.workspace.wait_for(
        lambda ms: [c for c in slack.workspace.calls() if c.status == 404] or None
    )
    time.sleep(0.3)
    assert slack.slash_command(DOC_FLOW).status == 200
    slack.workspace.wait_for(lambda ms: [m for m in ms if m.bot] or None)
    assert "response_url post refused" in bot.log()


def test_web_api_429_on_thread_reply_is_retried(slack: Playground) -> None:
    slack.workspace.inject_fault("chat.postMessage", 429, retry_after=1)
    parent = slack.post_user_message(DOC_FLOW)
    slack.message_shortcut(parent.ts)
    [reply] = slack.workspace.wait_for(
        lambda ms: [m for m in ms if m.bot and not m.is_ephemeral] or None, timeout=8
    )
    assert reply.thread_ts == parent.ts


def test_every_lookup_writes_one_audit_line(slack: Playground, bot: BotProcess) -> None:
    flow_id = "2987366201948372992"
    slack.slash_command(flow_id, user_id="U0PLAYER2")
    slack.workspace.wait_for(lambda ms: [m for m in ms if m.bot] or None)
    time.sleep(0.2)
    lines = [
        json.loads(line[line.index("{") :])
        for line in bot.log().splitlines()
        if "esign_flow.audit" in line and '"user": "U0PLAYER2"' in line
    ]
    [entry] = [e for e in lines if e["flow_id"] == flow_id and e["trigger"] == "command"]
    assert entry["event"] == "flow_lookup"
    assert entry["channel"] == "C0GENERAL" and entry["team"] == "T0PLAYGRND"
    assert entry["outcome"] == "ok"
    assert isinstance(entry["cached"], bool) and entry["duration_ms"] >= 0


# --- bots of their own: settings that would disturb the shared bot ---------------------------


@pytest.fixture
def own_bot(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path, bot: BotProcess
) -> Iterator[Callable[..., BotProcess]]:
    started: list[BotProcess] = []

    def start(**env: str) -> BotProcess:
        process = start_bot(simulator, playground, tmp_path / f"bot-{len(started)}.log", **env)
        started.append(process)
        return process

    playground.workspace.reset()
    simulator.clear_faults()
    simulator.set_latency(0.0)
    simulator.reset_stats()
    yield start
    for process in started:
        process.stop()
    playground.bot_events_url = f"{bot.base_url}/slack/events"


def test_dead_esign_costs_a_fast_honest_answer(
    own_bot: Callable[..., BotProcess], playground: Playground, simulator: EsignSimulator
) -> None:
    own_bot(
        ESIGN_BREAKER_FAILURES="2",
        ESIGN_BREAKER_COOLDOWN="2",
        ESIGN_READ_TIMEOUT="0.5",
        ESIGN_MAX_RETRIES="0",
    )
    simulator.inject(Fault.TIMEOUT, times=2)  # two different flows time out: two failures
    for flow_id in ("2987366201948372992", "2987366388415348736"):
        playground.slash_command(flow_id)
    playground.workspace.wait_for(lambda ms: len([m for m in ms if m.bot]) >= 2 or None)
    calls_while_closed = simulator.outline_calls()
    started = time.monotonic()
    playground.slash_command(DOC_FLOW)
    [*_, fast] = playground.workspace.wait_for(
        lambda ms: [m for m in ms if m.bot] if len([m for m in ms if m.bot]) >= 3 else None
    )
    assert time.monotonic() - started < 0.5
    assert "not answering" in fast.visible_text() and "Try again in about" in fast.visible_text()
    assert simulator.outline_calls() == calls_while_closed
    time.sleep(2.1)  # after the cooldown a trial goes through, and nothing was cached
    playground.slash_command(DOC_FLOW)
    playground.workspace.wait_for(
        lambda ms: any("In progress" in m.visible_text() for m in ms if m.bot) or None
    )


def test_flood_of_distinct_ids_stays_under_the_qps_quota(
    own_bot: Callable[..., BotProcess], playground: Playground, simulator: EsignSimulator
) -> None:
    own_bot(ESIGN_MAX_QPS="10", ESIGN_DEADLINE="8")
    flows = [f"29873661{n:011d}" for n in range(30)]
    for flow_id in flows:
        simulator.add_flow({"flowId": flow_id, "flowStatus": "SUCCESS", "subFlows": []})
    commands = [" ".join(flows[i : i + 5]) for i in range(0, 30, 5)]
    with ThreadPoolExecutor(6) as pool:
        acks = list(pool.map(playground.slash_command, commands))
    assert all(a.status == 200 for a in acks)
    playground.workspace.wait_for(lambda ms: len([m for m in ms if m.bot]) >= 30 or None, 15)
    stamps = sorted(r.time for r in simulator.requests() if r.path.startswith("/v2"))
    assert len(stamps) == 30
    busiest = max(sum(1 for s in stamps if first <= s < first + 1.0) for first in stamps)
    assert busiest <= 12  # 10 per second plus the small burst


def test_allow_lists_refuse_politely_without_a_lookup(
    own_bot: Callable[..., BotProcess], playground: Playground, simulator: EsignSimulator
) -> None:
    own_bot(ALLOWED_CHANNEL_IDS="C0GENERAL,C0PRIVATE", ALLOWED_USERGROUP_IDS="S0SUPPORT")
    refused = playground.slash_command(DOC_FLOW, user_id="U0PLAYER2")
    assert refused.status == 200 and "not on the list" in refused.body
    wrong_channel = playground.slash_command(DOC_FLOW, channel_id="C0PUBLIC2")
    assert "not enabled in this channel" in wrong_channel.body
    playground.workspace.reset()
    parent = playground.post_user_message(DOC_FLOW)
    playground.message_shortcut(parent.ts, user_id="U0PLAYER2")
    [note] = playground.workspace.wait_for(lambda ms: [m for m in ms if m.bot] or None)
    assert note.is_ephemeral and "not on the list" in note.visible_text()
    time.sleep(0.3)
    assert simulator.outline_calls() == 0
    allowed = playground.slash_command(DOC_FLOW, user_id="U0PLAYER1")  # in S0SUPPORT
    assert allowed.status == 200
    playground.workspace.wait_for(
        lambda ms: any(DOC_FLOW in m.visible_text() for m in ms if m.bot) or None
    )
    assert simulator.outline_calls() == 1


def test_sigterm_delivers_every_acked_lookup_then_exits(
    own_bot: Callable[..., BotProcess], playground: Playground, simulator: EsignSimulator
) -> None:
    process = own_bot()
    simulator.set_latency(1.5)
    flows = [f"29873662{n:011d}" for n in range(8)]
    for flow_id in flows:
        simulator.add_flow({"flowId": flow_id, "flowStatus": "ING", "subFlows": []})
    with ThreadPoolExecutor(8) as pool:
        acks = list(pool.map(playground.slash_command, flows))
    assert all(a.status == 200 for a in acks)
    started = time.monotonic()
    code = process.stop(signal.SIGTERM, timeout=30)
    assert code == 0
    assert time.monotonic() - started < 25
    delivered = {f for f in flows for m in playground.workspace.messages() if f in m.visible_text()}
    assert delivered == set(flows)
    assert "Shutting down granian" in process.log()


def test_a_web_worker_that_dies_is_replaced_and_the_bot_answers_again(
    own_bot: Callable[..., BotProcess], playground: Playground, simulator: EsignSimulator
) -> None:
    process = own_bot()
    [worker] = _children(process.process.pid)
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 20
    replaced: list[int] = []
    while time.monotonic() < deadline:
        replaced = [pid for pid in _children(process.process.pid) if pid != worker]
        if replaced:
            try:
                if httpx.get(f"{process.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    assert len(replaced) == 1, process.log()
    simulator.add_flow({"flowId": "29873662000000000099", "flowStatus": "ING", "subFlows": []})
    ack = playground.slash_command("29873662000000000099")
    assert ack.status == 200
    playground.workspace.wait_for(
        lambda ms: any("29873662000000000099" in m.visible_text() for m in ms if m.bot) or None
    )


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the server's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found
