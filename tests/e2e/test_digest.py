"""The daily digest over real HTTP: set with the slash command, fired by the bot's own scheduler
(its clock set just before a minute turns, with DIGEST_CLOCK_OFFSET_SECONDS), posted once as a
top-level message listing what the channel was shown; two processes on one Redis post it once;
a restart less than an hour late still posts it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Message, Playground
from tests.e2e.conftest import BotProcess, start_bot
from tests.redis_server import RedisServer, require_redis_server

OPEN_TEMPLATE = "2987365134507291136"  # in progress
FAILED_TEMPLATE = "2987366388415348736"  # failed, with a reason
#: The viewer's zone in the playground (users.info → tz).
VIEWER_ZONE = ZoneInfo("Asia/Shanghai")
#: How long before the minute turns the bot's digest clock stands when it starts.
LEAD_SECONDS = 20.0


def clock_just_before_a_minute() -> tuple[float, datetime]:
    """An offset for the bot's digest clock, and the minute (in the viewer's zone) it reaches
    LEAD_SECONDS after now."""
    now = time.time()
    minute = math.ceil((now + 3600) / 60) * 60  # an hour on: never the machine's own minute
    offset = minute - LEAD_SECONDS - now
    return offset, datetime.fromtimestamp(minute, VIEWER_ZONE)


def digest_env(offset: float, **extra: str) -> dict[str, str]:
    return {
        "DIGEST_CLOCK_OFFSET_SECONDS": f"{offset:.3f}",
        "DIGEST_TICK_SECONDS": "0.5",
        **extra,
    }


def digests(channel: str = "C0GENERAL") -> Callable[[list[Message]], list[Message] | None]:
    def found(messages: list[Message]) -> list[Message] | None:
        posted = [
            m
            for m in messages
            if m.bot and m.channel_id == channel and "Daily e签宝 digest" in m.text
        ]
        return posted or None

    return found


def show_in_channel(slack: Playground, flow_ids: list[str]) -> Message:
    """Someone mentions the flows; the message shortcut answers in its thread, for everyone."""
    mention = slack.post_user_message(f"are these stuck? {' '.join(flow_ids)}")
    slack.message_shortcut(mention.ts)
    slack.workspace.wait_for(
        lambda ms: len([m for m in ms if m.bot and m.thread_ts == mention.ts]) >= len(flow_ids),
        timeout=10,
    )
    return mention


def test_a_digest_set_by_command_is_posted_once_with_what_the_channel_was_shown(
    simulator: EsignSimulator,
    playground: Playground,
    fresh_flow: Callable[[str], str],
    tmp_path: Path,
) -> None:
    playground.workspace.reset()
    offset, minute = clock_just_before_a_minute()
    bot = start_bot(simulator, playground, tmp_path / "bot.log", **digest_env(offset))
    try:
        slack = playground
        still_open, failed, private = (
            fresh_flow(OPEN_TEMPLATE),
            fresh_flow(FAILED_TEMPLATE),
            fresh_flow(OPEN_TEMPLATE),
        )
        mention = show_in_channel(slack, [still_open, failed])
        # Looked up alone (an ephemeral answer): never in the digest.
        slack.slash_command(private)
        slack.workspace.wait_for(lambda ms: any(private in m.visible_text() for m in ms))

        exchange = slack.slash_command(f"digest {minute:%H:%M}")
        assert exchange.status == 200
        answer = slack.workspace.wait_for(
            lambda ms: [m for m in ms if "Daily digest set for" in m.visible_text()]
        )[0]
        assert f"{minute:%H:%M} Asia/Shanghai" in answer.visible_text()
        assert answer.is_ephemeral

        [digest] = slack.workspace.wait_for(digests(), timeout=LEAD_SECONDS + 15)
        assert digest.thread_ts is None  # top level, not in a thread
        words = digest.visible_text()
        assert still_open in words and failed in words and private not in words
        assert "Still open · 仍未完成" in words and "Finished since the last digest" in words
        assert "1 still open, 1 finished" in digest.text
        assert f"/archives/C0GENERAL/p{mention.ts.replace('.', '')}" in str(digest.blocks)
        assert "esign_flow_digest_recheck" in digest.action_ids()

        # Recheck answers the presser privately with the fresh card; the digest stays.
        slack.click(digest, "esign_flow_digest_recheck")
        slack.workspace.wait_for(
            lambda ms: [
                m for m in ms if m.is_ephemeral and f"Flow {still_open}" in m.visible_text()
            ],
            timeout=10,
        )
        time.sleep(2)  # several ticks of the scheduler
        assert len(digests()(slack.workspace.messages()) or []) == 1

        status = slack.slash_command("digest")
        assert status.status == 200
        slack.workspace.wait_for(
            lambda ms: [m for m in ms if "Set by" in m.visible_text() and m.is_ephemeral]
        )
        refused = slack.slash_command("digest 25:00")
        assert "not a 24-hour time" in str(refused.body)
    finally:
        assert bot.stop() == 0, bot.log()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("digest-redis")))
    yield server.start()
    server.kill()


def test_two_processes_on_one_redis_post_the_digest_once_and_a_restart_posts_it_late(
    simulator: EsignSimulator,
    playground: Playground,
    fresh_flow: Callable[[str], str],
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    playground.workspace.reset()
    redis_server.flush()
    offset, minute = clock_just_before_a_minute()
    env = digest_env(offset, REDIS_URL=redis_server.url)
    bots: list[BotProcess] = [
        start_bot(simulator, playground, tmp_path / f"bot-{n}.log", **env) for n in range(2)
    ]
    support = "C0PUBLIC2"
    try:
        show_in_channel(playground, [fresh_flow(OPEN_TEMPLATE)])
        playground.slash_command(f"digest {minute:%H:%M}")
        # Another channel's digest, a minute later: both processes are gone by then.
        mention = playground.post_user_message(
            f"stuck? {fresh_flow(OPEN_TEMPLATE)}", channel_id=support
        )
        playground.message_shortcut(mention.ts, channel_id=support)
        playground.workspace.wait_for(
            lambda ms: [m for m in ms if m.bot and m.thread_ts == mention.ts], timeout=10
        )
        next_minute = minute.replace(second=0) + timedelta(minutes=1)
        playground.slash_command(f"digest {next_minute:%H:%M}", channel_id=support)
        playground.workspace.wait_for(
            lambda ms: len([m for m in ms if "Daily digest set for" in m.visible_text()]) == 2
        )
        playground.workspace.wait_for(digests(), timeout=LEAD_SECONDS + 15)
        time.sleep(2)
        assert len(digests()(playground.workspace.messages()) or []) == 1
    finally:
        for bot in bots:
            assert bot.stop() == 0, bot.log()
    assert digests(support)(playground.workspace.messages()) is None

    # One process comes back 40 minutes after the support channel's time: it posts that digest,
    # late; the general channel's is not posted again.
    late_offset = offset + LEAD_SECONDS + 60 + 40 * 60
    later = start_bot(
        simulator,
        playground,
        tmp_path / "bot-late.log",
        **digest_env(late_offset, REDIS_URL=redis_server.url),
    )
    try:
        [late] = playground.workspace.wait_for(digests(support), timeout=15)
        assert late.thread_ts is None and "1 still open" in late.text
        time.sleep(2)
        assert len(digests()(playground.workspace.messages()) or []) == 1
    finally:
        assert later.stop() == 0, later.log()
