"""Watching flows, end to end: the bot from the Procfile's `web:` line, the e签宝 simulator
changing flows over time and sending signed callbacks, the playground recording what people see."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.slack.ids import ACTION_RECHECK, ACTION_UNWATCH, ACTION_WATCH
from stand_ins.esign_simulator import EsignSimulator, catalogue_outline
from stand_ins.esign_simulator.scripted import sign_callback
from stand_ins.slack_playground import Message, Playground
from tests.e2e.conftest import BotProcess, cards, start_bot
from tests.redis_server import RunningRedis

ING_TEMPLATE = "2987365134507291136"  # individual, carrier 3-factor check running
_ids = itertools.count(1)

#: Polls come fast here, and the cache lets a change show within a second.
FAST_POLLS = {"WATCH_FIRST_POLL_SECONDS": "0.5", "CACHE_TTL_SECONDS": "1"}
#: Polls so slow that only a callback can tell a change during a test.
SLOW_POLLS = {"WATCH_FIRST_POLL_SECONDS": "30", "CACHE_TTL_SECONDS": "30"}


def moving_flow(simulator: EsignSimulator) -> tuple[str, Callable[[str, str], None]]:
    """A fresh ING flow, and a function that moves it (flow status, sub-flow status)."""
    template = catalogue_outline(ING_TEMPLATE)
    assert template is not None
    flow_id = f"29881{next(_ids):014d}"

    def move(flow_status: str, sub_status: str) -> None:
        subs = [{**sub, "status": sub_status} for sub in template["subFlows"]]
        simulator.add_flow(
            {**template, "flowId": flow_id, "flowStatus": flow_status, "subFlows": subs}
        )

    move("ING", "ING")
    return flow_id, move


@contextmanager
def running_bot(
    simulator: EsignSimulator, playground: Playground, directory: Path, **env: str
) -> Iterator[Playground]:
    """A bot of its own for one test, with the playground pointed at it."""
    bot = _bot(simulator, playground, directory, **env)
    try:
        yield _use(playground, simulator, bot)
    finally:
        bot.stop()


def _bot(
    simulator: EsignSimulator, playground: Playground, directory: Path, **env: str
) -> BotProcess:
    return start_bot(
        simulator,
        playground,
        directory / "bot.log",
        STATE_DB_PATH=str(directory / "state.sqlite3"),
        **env,
    )


@pytest.fixture(scope="module")
def poll_bot(
    simulator: EsignSimulator, playground: Playground, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    process = _bot(simulator, playground, tmp_path_factory.mktemp("poll-bot"), **FAST_POLLS)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def callback_bot(
    simulator: EsignSimulator, playground: Playground, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    process = _bot(simulator, playground, tmp_path_factory.mktemp("callback-bot"), **SLOW_POLLS)
    yield process
    process.stop()


def _use(playground: Playground, simulator: EsignSimulator, bot: BotProcess) -> Playground:
    playground.workspace.reset()
    playground.bot_events_url = f"{bot.base_url}/slack/events"
    simulator.clear_faults()
    simulator.set_latency(0.0)
    simulator.callback_url = f"{bot.base_url}/esign/callback"
    return playground


@pytest.fixture
def polled(poll_bot: BotProcess, playground: Playground, simulator: EsignSimulator) -> Playground:
    return _use(playground, simulator, poll_bot)


@pytest.fixture
def called_back(
    callback_bot: BotProcess, playground: Playground, simulator: EsignSimulator
) -> Playground:
    return _use(playground, simulator, callback_bot)


def posted_card(slack: Playground, flow_id: str) -> Message:
    parent = slack.post_user_message(f"customer stuck on {flow_id}")
    slack.message_shortcut(parent.ts)
    [card] = slack.workspace.wait_for(cards(ephemeral=False))
    assert card.thread_ts == parent.ts
    return card


def watched_card(slack: Playground, flow_id: str) -> Message:
    """A posted card of `flow_id`, once Watch on it has taken effect."""
    card = posted_card(slack, flow_id)
    slack.click(card, ACTION_WATCH)
    slack.workspace.wait_for(lambda _: _watched(slack, card))
    return card


def private_card(slack: Playground, flow_id: str) -> Message:
    slack.slash_command(flow_id)
    [card] = slack.workspace.wait_for(cards(ephemeral=True))
    return card


def notices(
    channel: str, flow_id: str, count: int = 1
) -> Callable[[list[Message]], list[Message] | None]:
    def ready(messages: list[Message]) -> list[Message] | None:
        found = [
            m
            for m in messages
            if m.bot
            and m.channel_id == channel
            and "changed 流程状态变化" in m.visible_text()
            and flow_id in m.visible_text()
        ]
        return found if len(found) >= count else None

    return ready


def _current(slack: Playground, card: Message) -> Message:
    current = slack.workspace.get_message(card.channel_id, card.ts)
    assert current is not None
    return current


def _watched(slack: Playground, card: Message) -> Message | None:
    current = _current(slack, card)
    return current if ACTION_UNWATCH in current.action_ids() else None


def _web_api(slack: Playground, method: str) -> list[dict[str, object]]:
    return [c.payload for c in slack.workspace.calls() if c.method == method]


# --- a posted card: edited in place, one reply in its thread ---------------------------------


def test_watching_a_posted_card_tells_its_thread_after_a_poll(
    polled: Playground, simulator: EsignSimulator
) -> None:
    flow_id, move = moving_flow(simulator)
    card = posted_card(polled, flow_id)
    assert card.action_ids() == [ACTION_RECHECK, ACTION_WATCH]
    top_level_before = len(polled.workspace.messages("C0GENERAL", include_ephemeral=False))

    exchange = polled.click(card, ACTION_WATCH)
    assert exchange.status == 200 and exchange.elapsed < 3.0
    watched = polled.workspace.wait_for(lambda _: _watched(polled, card))
    assert "Watching 关注中" in watched.visible_text() and "<@U0PLAYER1>" in watched.visible_text()
    # Confirmed by editing the card: nothing new in the channel.
    assert len(polled.workspace.messages("C0GENERAL", include_ephemeral=False)) == top_level_before

    move("SUCCESS", "SUCCESS")
    [notice] = polled.workspace.wait_for(notices("C0GENERAL", flow_id), timeout=10)
    assert notice.thread_ts == card.thread_ts
    text = notice.visible_text()
    assert "<@U0PLAYER1>" in text
    assert "In progress 进行中" in text and "→" in text and "Succeeded" in text
    assert "watch is over" in text
    # The card itself shows the final state, and offers no Watch any more.
    final = _current(polled, card)
    assert "Succeeded" in final.visible_text() and final.action_ids() == [ACTION_RECHECK]
    # Never broadcast to the channel.
    for post in _web_api(polled, "chat.postMessage"):
        assert not post.get("reply_broadcast")
    time.sleep(2)  # a few more polls would find nothing new to tell
    assert len(notices("C0GENERAL", flow_id)(polled.workspace.messages()) or []) == 1


def test_several_changes_found_together_make_one_reply(
    polled: Playground, simulator: EsignSimulator
) -> None:
    flow_id, move = moving_flow(simulator)
    watched_card(polled, flow_id)
    move("FAIL", "FAIL")  # the flow and its sub-flow, in one step
    [notice] = polled.workspace.wait_for(notices("C0GENERAL", flow_id), timeout=10)
    text = notice.visible_text()
    assert "Status 状态" in text and "Sub-flow 子流程" in text and "Failed" in text


def test_a_rechecked_card_still_says_it_is_watched(
    polled: Playground, simulator: EsignSimulator
) -> None:
    flow_id, _ = moving_flow(simulator)
    card = watched_card(polled, flow_id)
    before = _current(polled, card)
    polled.click(before, ACTION_RECHECK)
    polled.workspace.wait_for(lambda _: _current(polled, card).edited != before.edited)
    rechecked = _current(polled, card)
    assert ACTION_UNWATCH in rechecked.action_ids() and ACTION_WATCH not in rechecked.action_ids()
    assert "Watching 关注中" in rechecked.visible_text()
    # The bot is shared with the tests below, which count this channel's watches.
    polled.click(rechecked, ACTION_UNWATCH)
    polled.workspace.wait_for(lambda _: ACTION_WATCH in _current(polled, card).action_ids())


def test_unwatch_from_the_card_stops_at_once(polled: Playground, simulator: EsignSimulator) -> None:
    flow_id, move = moving_flow(simulator)
    card = watched_card(polled, flow_id)
    polled.click(_current(polled, card), ACTION_UNWATCH)
    polled.workspace.wait_for(lambda _: ACTION_WATCH in _current(polled, card).action_ids())
    move("SUCCESS", "SUCCESS")
    time.sleep(3)  # several poll intervals
    assert notices("C0GENERAL", flow_id)(polled.workspace.messages()) is None


def test_unwatch_from_a_notice_stops_the_watch_and_restores_the_card(
    polled: Playground, simulator: EsignSimulator
) -> None:
    flow_id, move = moving_flow(simulator)
    card = watched_card(polled, flow_id)
    move("ING", "SUCCESS")  # the sub-flow moves; the flow is still running
    [notice] = polled.workspace.wait_for(notices("C0GENERAL", flow_id), timeout=10)
    assert notice.action_ids() == [ACTION_UNWATCH]
    polled.click(notice, ACTION_UNWATCH)
    polled.workspace.wait_for(lambda _: ACTION_WATCH in _current(polled, card).action_ids())
    [stopped] = polled.workspace.wait_for(
        lambda ms: [m for m in ms if m.is_ephemeral and "Stopped watching" in m.visible_text()]
    )
    assert flow_id in stopped.visible_text()
    move("SUCCESS", "SUCCESS")
    time.sleep(3)
    assert len(notices("C0GENERAL", flow_id)(polled.workspace.messages()) or []) == 1


# --- a private card: notices by DM ------------------------------------------------------------


def test_a_private_card_is_watched_by_dm(polled: Playground, simulator: EsignSimulator) -> None:
    flow_id, move = moving_flow(simulator)
    card = private_card(polled, flow_id)
    assert ACTION_WATCH in card.action_ids()
    polled.click(card, ACTION_WATCH)
    [watched] = polled.workspace.wait_for(
        lambda ms: [m for m in ms if m.is_ephemeral and ACTION_UNWATCH in m.action_ids()]
    )
    assert "DM" in watched.visible_text()
    assert not [m for m in polled.workspace.messages("C0GENERAL") if not m.is_ephemeral]

    move("SUCCESS", "SUCCESS")
    opened = polled.workspace.wait_for(lambda _: _web_api(polled, "conversations.open"), timeout=10)
    assert opened[0]["users"] == "U0PLAYER1"
    dm = polled.workspace.find_channel("D0BOTLAYER1")
    assert dm is not None
    [notice] = polled.workspace.wait_for(notices(dm.id, flow_id))
    assert f"Flow {flow_id}" in notice.visible_text()  # the fresh card comes with it
    assert "Succeeded" in notice.visible_text()


def test_watch_and_unwatch_by_command_and_the_list(
    polled: Playground, simulator: EsignSimulator
) -> None:
    flow_id, _ = moving_flow(simulator)
    polled.slash_command(f"watch {flow_id}")
    [card] = polled.workspace.wait_for(cards(ephemeral=True))
    assert ACTION_UNWATCH in card.action_ids()
    polled.slash_command("watching")
    [_, listing] = polled.workspace.wait_for(cards(ephemeral=True, count=2))
    assert flow_id in listing.visible_text() and "by DM" in listing.visible_text()
    polled.slash_command(f"unwatch {flow_id}")
    [*_, stopped] = polled.workspace.wait_for(cards(ephemeral=True, count=3))
    assert f"Stopped watching flow {flow_id}" in stopped.visible_text()
    polled.slash_command("watching")
    [*_, empty] = polled.workspace.wait_for(cards(ephemeral=True, count=4))
    assert "No flows are watched here" in empty.visible_text()


# --- e签宝 callbacks --------------------------------------------------------------------------


def test_a_signed_callback_is_answered_at_once_and_told_within_seconds_once(
    called_back: Playground, simulator: EsignSimulator
) -> None:
    flow_id, move = moving_flow(simulator)
    watched_card(called_back, flow_id)
    move("SUCCESS", "SUCCESS")
    started = time.monotonic()
    simulator.send_callback(flow_id)
    answered = time.monotonic() - started
    assert simulator.callbacks_sent[-1] == (flow_id, 200)
    assert answered < 5.0
    called_back.workspace.wait_for(notices("C0GENERAL", flow_id), timeout=5)
    told = time.monotonic() - started
    assert told < 5.0, f"told {told:.1f} s after the callback"
    # e签宝 delivers again (its retries): nothing more is told.
    simulator.send_callback(flow_id)
    simulator.send_callback(flow_id)
    time.sleep(1.5)
    assert len(notices("C0GENERAL", flow_id)(called_back.workspace.messages()) or []) == 1


def test_a_callback_for_an_unwatched_flow_does_nothing(
    called_back: Playground, simulator: EsignSimulator
) -> None:
    flow_id, _ = moving_flow(simulator)
    simulator.reset_stats()
    simulator.send_callback(flow_id)
    assert simulator.callbacks_sent[-1] == (flow_id, 200)
    time.sleep(0.5)
    assert simulator.outline_calls(flow_id) == 0
    assert called_back.workspace.messages() == []


def _post_callback(bot: BotProcess, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{bot.base_url}/esign/callback", content=body, headers=headers, timeout=5)


def _signed(
    simulator: EsignSimulator,
    body: bytes,
    *,
    at_ms: int | None = None,
    app_id: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    timestamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        "X-Tsign-Open-App-Id": app_id or simulator.app_id,
        "X-Tsign-Open-TIMESTAMP": timestamp,
        "X-Tsign-Open-SIGNATURE": sign_callback(
            secret or simulator.app_secret, timestamp, "", body
        ),
        "X-Tsign-Open-SIGNATURE-ALGORITHM": "hmac-sha256",
    }


def test_forged_stale_malformed_oversized_and_stray_callbacks_change_nothing(
    called_back: Playground, simulator: EsignSimulator, callback_bot: BotProcess
) -> None:
    flow_id, move = moving_flow(simulator)
    card = watched_card(called_back, flow_id)
    move("SUCCESS", "SUCCESS")
    simulator.reset_stats()
    body = json.dumps({"flowId": flow_id, "success": True}).encode()
    stale_ms = int((time.time() - 16 * 60) * 1000)
    refused = {
        "forged": (_signed(simulator, body, secret="not-the-app-secret"), body, 401),
        "stale": (_signed(simulator, body, at_ms=stale_ms), body, 401),
        "other app": (_signed(simulator, body, app_id="5111000000000009"), body, 403),
        "not JSON": (_signed(simulator, b"flowId=1"), b"flowId=1", 400),
        "oversized": (_signed(simulator, b"{}"), b"{" + b" " * (1024 * 1024 + 1) + b"}", 413),
    }
    for name, (headers, content, status) in refused.items():
        assert _post_callback(callback_bot, content, headers).status_code == status, name
    stray = httpx.get(f"{callback_bot.base_url}/esign/callback?flowId={flow_id}", timeout=5)
    assert stray.status_code == 200
    time.sleep(1.0)
    assert simulator.outline_calls(flow_id) == 0
    assert notices("C0GENERAL", flow_id)(called_back.workspace.messages()) is None
    assert ACTION_UNWATCH in _current(called_back, card).action_ids()  # still watched


# --- state: restarts, several processes, limits, expiry ---------------------------------------


def test_watches_survive_a_restart(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path
) -> None:
    first = _bot(simulator, playground, tmp_path, **FAST_POLLS)
    slack = _use(playground, simulator, first)
    flow_id, move = moving_flow(simulator)
    watched_card(slack, flow_id)
    first.stop()
    move("SUCCESS", "SUCCESS")
    second = _bot(simulator, playground, tmp_path, **FAST_POLLS)
    try:
        playground.bot_events_url = f"{second.base_url}/slack/events"
        slack.workspace.wait_for(notices("C0GENERAL", flow_id), timeout=15)
    finally:
        second.stop()


def test_two_processes_on_one_redis_tell_a_change_once(
    simulator: EsignSimulator,
    playground: Playground,
    redis_engine: RunningRedis,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On each kind of Redis: one server, Sentinel, Cluster (the watch's lease, its notice's
    claim and the outbox are all keys of one hash tag there)."""
    env = {**FAST_POLLS, **redis_engine.env}
    bots = [
        _bot(simulator, playground, tmp_path_factory.mktemp(f"redis-bot-{n}"), **env)
        for n in range(2)
    ]
    try:
        slack = _use(playground, simulator, bots[0])
        flow_id, move = moving_flow(simulator)
        watched_card(slack, flow_id)
        move("SUCCESS", "SUCCESS")
        # Both poll; a callback reaches the other one too.
        for bot in bots:
            simulator.callback_url = f"{bot.base_url}/esign/callback"
            simulator.send_callback(flow_id)
        slack.workspace.wait_for(notices("C0GENERAL", flow_id), timeout=10)
        time.sleep(2.5)
        assert len(notices("C0GENERAL", flow_id)(slack.workspace.messages()) or []) == 1
        for bot in bots:
            health = httpx.get(f"{bot.base_url}/healthz", timeout=5).json()
            assert health["redis"] == "ok", bot.log()
    finally:
        for bot in bots:
            bot.stop()


def test_limits_refuse_with_a_note_and_change_nothing(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path
) -> None:
    with running_bot(
        simulator, playground, tmp_path, WATCH_MAX_PER_CHANNEL="1", **SLOW_POLLS
    ) as slack:
        first, _ = moving_flow(simulator)
        second, _ = moving_flow(simulator)
        slack.slash_command(f"watch {first}")
        slack.workspace.wait_for(cards(ephemeral=True))
        slack.slash_command(f"watch {second}")
        [_, refused] = slack.workspace.wait_for(cards(ephemeral=True, count=2))
        assert f"Not watching flow {second}" in refused.visible_text()
        assert "already watches 1 flows" in refused.visible_text()
        slack.slash_command("watching")
        [*_, listing] = slack.workspace.wait_for(cards(ephemeral=True, count=3))
        assert first in listing.visible_text() and second not in listing.visible_text()


def test_a_watch_expires_with_a_short_note(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path
) -> None:
    with running_bot(
        simulator, playground, tmp_path, WATCH_MAX_HOURS="0.0005", **FAST_POLLS
    ) as slack:
        flow_id, _ = moving_flow(simulator)
        card = posted_card(slack, flow_id)
        slack.click(card, ACTION_WATCH)
        [note] = slack.workspace.wait_for(
            lambda ms: [m for m in ms if m.bot and "Stopped watching" in m.visible_text()],
            timeout=15,
        )
        assert note.thread_ts == card.thread_ts and flow_id in note.visible_text()
        slack.workspace.wait_for(lambda _: ACTION_WATCH in _current(slack, card).action_ids())
