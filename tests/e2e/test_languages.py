"""One voice, both languages: a person who never chose a language gets their Slack's.

The real app (from the Procfile) over HTTP against the playground, whose users.info answers
each person's locale: zh-CN reads 中文 only, en-US reads both (the bot speaks no English-only
unless asked for it on the Home tab). Its own bot process, so no locale or language is already
remembered from another test.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import COLLEAGUE_USER_ID, VIEWER_USER_ID, Message, Playground
from tests.e2e.conftest import BotProcess, start_bot

NOT_FOUND_FLOW = "2987390000030500001"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def languages_bot(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path, bot: BotProcess
) -> Iterator[Playground]:
    playground.workspace.reset()
    simulator.clear_faults()
    simulator.set_latency(0.0)
    playground.workspace.set_locale(COLLEAGUE_USER_ID, "zh-CN")
    playground.workspace.set_locale(VIEWER_USER_ID, "en-US")
    own = start_bot(simulator, playground, tmp_path / "bot.log", ALLOWED_CHANNEL_IDS="C0GENERAL")
    try:
        yield playground
    finally:
        own.stop()
        # Back to the session's bot, and every locale as it was.
        playground.workspace.reset()
        playground.bot_events_url = f"{bot.base_url}/slack/events"


def _private_answer(slack: Playground, user_id: str, marker: str) -> Message:
    def found(messages: list[Message]) -> Message | None:
        mine = [m for m in messages if m.bot and m.ephemeral_to == user_id]
        return next((m for m in mine if marker in m.visible_text()), None)

    answer: Message = slack.workspace.wait_for(found, 10)
    return answer


def test_a_refusal_speaks_the_slack_locale_of_who_asked(languages_bot: Playground) -> None:
    slack = languages_bot
    parent = slack.post_user_message(f"flow {NOT_FOUND_FLOW}", channel_id="C0PUBLIC2")

    slack.message_shortcut(parent.ts, channel_id="C0PUBLIC2", user_id=COLLEAGUE_USER_ID)
    zh = _private_answer(slack, COLLEAGUE_USER_ID, "本频道未启用").visible_text()
    assert "not enabled in this channel" not in zh and "Not allowed" not in zh

    slack.message_shortcut(parent.ts, channel_id="C0PUBLIC2", user_id=VIEWER_USER_ID)
    both = _private_answer(slack, VIEWER_USER_ID, "not enabled in this channel").visible_text()
    assert "本频道未启用" in both

    asked = [c.payload for c in slack.workspace.calls() if c.method == "users.info"]
    assert {str(p["user"]) for p in asked} == {COLLEAGUE_USER_ID, VIEWER_USER_ID}


def test_an_error_answer_speaks_the_slack_locale_of_who_asked(
    languages_bot: Playground, simulator: EsignSimulator
) -> None:
    slack = languages_bot
    zh_ack = slack.slash_command(NOT_FOUND_FLOW, user_id=COLLEAGUE_USER_ID)
    assert zh_ack.acked_in_time
    zh = _private_answer(slack, COLLEAGUE_USER_ID, "找不到该流程").visible_text()
    assert "Flow not found" not in zh and NOT_FOUND_FLOW in zh

    slack.slash_command(NOT_FOUND_FLOW, user_id=VIEWER_USER_ID)
    both = _private_answer(slack, VIEWER_USER_ID, "Flow not found").visible_text()
    assert "找不到该流程" in both

    # A second answer to the same person asks Slack nothing more: the locale is remembered.
    slack.slash_command("help", user_id=COLLEAGUE_USER_ID)
    asked = [c.payload for c in slack.workspace.calls() if c.method == "users.info"]
    assert [str(p["user"]) for p in asked].count(COLLEAGUE_USER_ID) == 1


def test_help_on_the_ack_uses_the_language_once_known(languages_bot: Playground) -> None:
    """The ack never waits on users.info: a first help comes in both languages, and once the
    person's locale is known (looked up after that ack), help comes in 中文 alone."""
    slack = languages_bot
    first_ack = slack.slash_command("help", user_id=COLLEAGUE_USER_ID)
    first = json.dumps(first_ack.json(), ensure_ascii=False)
    assert "How to use" in first and "用法" in first
    deadline = time.monotonic() + 5
    later = first
    while "How to use" in later and time.monotonic() < deadline:
        time.sleep(0.1)
        exchange = slack.slash_command("help", user_id=COLLEAGUE_USER_ID)
        later = json.dumps(exchange.json(), ensure_ascii=False)
    assert "How to use" not in later and "用法" in later
