"""Two bot processes on one Redis, both told of the same channel (one Slack workspace, one
e签宝): a message event reaching both is answered once, the thread memory and the setting are
theirs together."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import COLLEAGUE_USER_ID, Playground, SlackExchange
from stand_ins.slack_playground.doors import event_body
from stand_ins.slack_playground.slack_requests import BotLink, RequestSigner
from tests.e2e.channel_talk import GENERAL, bot_posts, replies_in, set_auto
from tests.e2e.conftest import SIGNING_SECRET, BotProcess, start_bot
from tests.redis_server import RedisServer, require_redis_server

SUCCESS_FLOW = "2987366201948372992"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-channels")))
    yield server.start()
    server.kill()


@pytest.fixture(scope="module")
def pair(
    simulator: EsignSimulator,
    playground: Playground,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[BotProcess]]:
    logs = tmp_path_factory.mktemp("channel-pair")
    started = [
        start_bot(simulator, playground, logs / f"bot-{n}.log", REDIS_URL=redis_server.url)
        for n in range(2)
    ]
    yield started
    for bot in started:
        assert bot.stop() == 0, bot.log()
    playground.workspace.reset()  # the next module finds the workspace as it expects


@pytest.fixture
def slack(pair: list[BotProcess], playground: Playground, simulator: EsignSimulator) -> Playground:
    playground.bot_events_url = f"{pair[0].base_url}/slack/events"
    set_auto(playground, "on")
    playground.workspace.reset()
    simulator.clear_faults()
    return playground


def send_to(
    slack: Playground, bot: BotProcess, payload: dict[str, object], retry: int
) -> SlackExchange:
    slack.bot_events_url = f"{bot.base_url}/slack/events"
    return slack.send_event(payload, retry_num=retry)


def test_one_event_reaching_both_processes_is_answered_once(
    slack: Playground, pair: list[BotProcess], fresh_flow: Callable[[str], str]
) -> None:
    message = slack.post_user_message(f"flow {fresh_flow(SUCCESS_FLOW)}", user_id=COLLEAGUE_USER_ID)
    payload = slack.doors.event_payload(slack.doors.message_event(message))
    # Slack's retry reaching the other process, then both at once.
    assert send_to(slack, pair[0], payload, 0).status == 200
    assert send_to(slack, pair[1], payload, 1).status == 200
    slack.workspace.wait_for(replies_in(message.ts))
    assert len(bot_posts(slack)) == 1

    other = slack.post_user_message(f"flow {fresh_flow(SUCCESS_FLOW)}", user_id=COLLEAGUE_USER_ID)
    payload = slack.doors.event_payload(slack.doors.message_event(other))
    body = event_body(payload)
    headers = {"Content-Type": "application/json", **slack.sign(body)}
    links = [BotLink(RequestSigner(SIGNING_SECRET)) for _ in pair]
    with ThreadPoolExecutor(2) as pool:
        exchanges = list(
            pool.map(
                lambda n: links[n].send_raw(f"{pair[n].base_url}/slack/events", body, headers),
                range(2),
            )
        )
    for link in links:
        link.close()
    assert [e.status for e in exchanges] == [200, 200]
    slack.workspace.wait_for(replies_in(other.ts))
    assert len(bot_posts(slack)) == 2


def test_the_thread_memory_and_the_setting_are_shared(
    slack: Playground, pair: list[BotProcess], fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(SUCCESS_FLOW)
    first = slack.post_user_message(f"flow {flow_id}", user_id=COLLEAGUE_USER_ID)
    send_to(slack, pair[0], slack.doors.event_payload(slack.doors.message_event(first)), 0)
    slack.workspace.wait_for(replies_in(first.ts))
    # Another message in that thread naming the flow, to the other process: already answered.
    again = slack.post_user_message(f"and {flow_id}", thread_ts=first.ts, user_id=COLLEAGUE_USER_ID)
    send_to(slack, pair[1], slack.doors.event_payload(slack.doors.message_event(again)), 0)
    assert len(bot_posts(slack)) == 1

    slack.bot_events_url = f"{pair[1].base_url}/slack/events"
    set_auto(slack, "off")  # through the other process
    later = slack.post_user_message(f"now {fresh_flow(SUCCESS_FLOW)}", user_id=COLLEAGUE_USER_ID)
    send_to(slack, pair[0], slack.doors.event_payload(slack.doors.message_event(later)), 0)
    assert len(bot_posts(slack)) == 1
    assert later.channel_id == GENERAL
