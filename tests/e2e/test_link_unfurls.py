"""Links to flows unfurl (signed link_shared events, over real HTTP): from a posted message and
from the composer, only for links matching UNFURL_URL_PATTERNS, whatever the channel's
automatic-answer setting, and from a 30-minute memory per channel and flow."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.channel_talk import (
    GENERAL,
    LINK_TEMPLATE,
    bot_posts,
    calls_to,
    replies_in,
    say,
    set_auto,
)
from tests.e2e.conftest import CACHE_TTL, BotProcess, channel_slack

DOC_FLOW = "803719636976683872"
FAIL_FLOW = "2987366388415348736"
NOT_FOUND_FLOW = "2987390000030500001"


def link(flow_id: str) -> str:
    return LINK_TEMPLATE.format(flow_id=flow_id)


@pytest.fixture
def slack(channel_bot: BotProcess, simulator: EsignSimulator, playground: Playground) -> Playground:
    channel_slack(channel_bot, simulator, playground)
    set_auto(playground, "off")  # unfurls do not depend on it
    playground.workspace.reset()
    return playground


def test_a_posted_link_unfurls_under_its_message(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(FAIL_FLOW)
    url = link(flow_id)
    message = say(slack, f"see <{url}> and <https://example.org/{flow_id}>")
    unfurled = slack.workspace.wait_for(
        lambda _: (m := slack.workspace.get_message(GENERAL, message.ts)) and m.unfurls and m
    )
    assert list(unfurled.unfurls) == [url]  # keyed by the exact URL; the other link gets none
    [call] = calls_to(slack, "chat.unfurl")
    assert (call["channel"], call["ts"]) == (GENERAL, message.ts)
    blocks_text = str(unfurled.unfurls[url]["blocks"])
    assert flow_id in blocks_text and "Failed" in blocks_text and "已失败" in blocks_text
    assert "Failure reason 失败原因" in blocks_text
    assert bot_posts(slack, settle=0.3) == []  # an unfurl, never a message


def test_a_link_in_the_composer_unfurls_by_its_unfurl_id(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    [exchange] = slack.doors.link_shared(None, [link(flow_id)], composer=True)
    assert exchange.status == 200 and exchange.elapsed < 1.0
    slack.workspace.wait_for(lambda _: slack.workspace.composer_unfurls)
    [call] = calls_to(slack, "chat.unfurl")
    assert call["source"] == "composer" and call["unfurl_id"] and "channel" not in call
    [previews] = slack.workspace.composer_unfurls.values()
    assert flow_id in str(previews[link(flow_id)])


def test_links_matching_no_template_and_unknown_flows_get_nothing(
    slack: Playground, simulator: EsignSimulator
) -> None:
    say(slack, "<https://console.example.com/other/803719636976683872> <https://example.org/>")
    say(slack, f"<{link('..%2F..%2Fetc')}> <{link(NOT_FOUND_FLOW)}>")
    time.sleep(0.8)
    assert calls_to(slack, "chat.unfurl") == [] and bot_posts(slack, settle=0) == []
    assert simulator.outline_calls() == 1  # only the flow e签宝 does not know was asked


def test_the_same_flow_in_the_same_channel_unfurls_from_memory(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    first = say(slack, f"<{link(flow_id)}>")
    slack.workspace.wait_for(lambda _: len(calls_to(slack, "chat.unfurl")) == 1)
    time.sleep(CACHE_TTL + 0.5)  # past the lookup cache: only the unfurl memory could answer
    second = say(slack, f"again <{link(flow_id)}?tab=subflows>")
    slack.workspace.wait_for(lambda _: len(calls_to(slack, "chat.unfurl")) == 2)
    assert simulator.outline_calls(flow_id) == 1
    again = slack.workspace.get_message(GENERAL, second.ts)
    assert again is not None and list(again.unfurls) == [f"{link(flow_id)}?tab=subflows"]
    assert first.ts != second.ts


def test_a_link_shared_sent_again_unfurls_once(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    message = slack.post_user_message(f"<{link(flow_id)}>")
    event = {
        "type": "link_shared",
        "channel": GENERAL,
        "user": "U0PLAYER2",
        "message_ts": message.ts,
        "unfurl_id": slack.workspace.new_unfurl_id(message),
        "source": "conversations_history",
        "links": [{"url": link(flow_id), "domain": "console.example.com"}],
    }
    exchanges = slack.doors.deliver_event(event, retries=2)
    assert [e.status for e in exchanges] == [200, 200, 200]
    time.sleep(0.8)
    assert len(calls_to(slack, "chat.unfurl")) == 1


def test_a_flow_named_only_by_its_link_is_unfurled_not_answered_too(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    set_auto(slack, "on")
    slack.workspace.reset()
    linked, spoken = fresh_flow(DOC_FLOW), fresh_flow(FAIL_FLOW)
    message = say(slack, f"<{link(linked)}> and {spoken}")
    slack.workspace.wait_for(lambda _: len(calls_to(slack, "chat.unfurl")) == 1)
    [reply] = slack.workspace.wait_for(replies_in(message.ts))
    assert spoken in reply.visible_text() and linked not in reply.visible_text()
    set_auto(slack, "off")
