"""What a person in Slack sees, driving the real app (started from the Procfile) over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from bot.slack.ids import ACTION_RECHECK, ACTION_SHARE, ACTION_WATCH
from stand_ins.esign_simulator import EsignSimulator, Fault
from stand_ins.slack_playground import COLLEAGUE_USER_ID, Playground
from tests.e2e.conftest import CACHE_TTL, cards

DOC_FLOW = "803719636976683872"
SUCCESS_FLOW = "2987366201948372992"
FAIL_FLOW = "2987366388415348736"
NOT_FOUND_FLOW = "2987390000030500001"
NOT_FOUND_4_FLOW = "2987390000030500004"
BALANCE_FLOW = "2987390000030503107"
UNKNOWN_FLOW = "1234567890123456789"


def test_slash_command_acks_fast_and_shows_the_card(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    exchange = slack.slash_command(flow_id)
    assert exchange.status == 200
    assert exchange.elapsed < 1.0
    [card] = slack.workspace.wait_for(cards())
    assert card.is_ephemeral and card.ephemeral_to == "U0PLAYER1"
    text = card.visible_text()
    assert f"Flow {flow_id}" in text
    assert "In progress" in text and "进行中" in text
    assert "Company random-amount bank transfer" in text and "企业随机金额打款" in text
    assert "802965095964494307" in text  # the agent's related flow
    assert "<!date^1562656814^" in text  # created time in the reader's zone
    assert card.action_ids() == [ACTION_RECHECK, ACTION_WATCH, ACTION_SHARE]
    assert simulator.outline_calls(flow_id) == 1


def test_a_cached_flow_lands_with_the_ack_and_uses_no_response_url(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    slack.slash_command(flow_id)
    [first] = slack.workspace.wait_for(cards())
    posts_before = [c for c in slack.workspace.calls() if c.kind == "response_url"]

    exchange = slack.slash_command(flow_id)
    assert exchange.status == 200
    carried = exchange.json()
    assert carried["blocks"][0]["type"] == "header" and flow_id in carried["text"]
    found = slack.workspace.wait_for(cards(count=2))
    again = found[-1]
    assert again.is_ephemeral and again.ts != first.ts
    assert "cached" in again.visible_text()
    assert again.action_ids() == first.action_ids()
    time.sleep(0.3)  # nothing else follows through the response_url
    assert [c for c in slack.workspace.calls() if c.kind == "response_url"] == posts_before
    assert len(cards(count=2)(slack.workspace.messages()) or []) == 2
    assert simulator.outline_calls(flow_id) == 1

    # The carried card works like any other: Recheck refreshes it in place.
    slack.click(again, ACTION_RECHECK)
    slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == again.ts and m.edited >= 1), None)
    )


def test_help_is_instant_and_asks_nothing_of_esign(
    slack: Playground, simulator: EsignSimulator
) -> None:
    for text in ["", "help"]:
        exchange = slack.slash_command(text)
        assert exchange.status == 200
        assert "/esign-flow" in exchange.body and "flowId" in exchange.body
    assert simulator.outline_calls() == 0


def test_several_ids_give_one_card_each_and_bad_tokens_a_note(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    success, fail = fresh_flow(SUCCESS_FLOW), fresh_flow(FAIL_FLOW)
    exchange = slack.slash_command(f"{success}, {fail} ../etc/passwd")
    assert exchange.status == 200
    assert "Not flow ids" in exchange.body and "../etc/passwd" in exchange.body
    found = slack.workspace.wait_for(cards(count=3))
    texts = "\n".join(m.visible_text() for m in found)
    assert f"Flow {success}" in texts and f"Flow {fail}" in texts
    assert "银行卡四要素比对不一致" in texts  # the fail reason, in Chinese as e签宝 gave it
    assert simulator.outline_calls() == 2


def test_message_shortcut_answers_in_the_thread(
    slack: Playground, simulator: EsignSimulator
) -> None:
    parent = slack.post_user_message(f"客户说 {SUCCESS_FLOW} 一直卡住, phone 13812345678")
    exchange = slack.message_shortcut(parent.ts)
    assert exchange.status == 200
    [reply] = slack.workspace.wait_for(cards(ephemeral=False))
    assert reply.thread_ts == parent.ts
    assert f"Flow {SUCCESS_FLOW}" in reply.visible_text()
    assert "<@U0PLAYER1>" in reply.visible_text()  # who asked, for the thread to see
    assert reply.action_ids() == [ACTION_RECHECK]


def test_message_shortcut_inside_a_thread_stays_in_that_thread(slack: Playground) -> None:
    parent = slack.post_user_message("new ticket")
    inner = slack.post_user_message(f"flow is {DOC_FLOW}", thread_ts=parent.ts)
    slack.message_shortcut(inner.ts)
    [reply] = slack.workspace.wait_for(cards(ephemeral=False))
    assert reply.thread_ts == parent.ts


def test_message_shortcut_without_an_id_says_so(
    slack: Playground, simulator: EsignSimulator
) -> None:
    parent = slack.post_user_message(
        "sub-flow 5ffbafb2-c3be-45ba-bfeb-fda1f8eb083d, call 13812345678"
    )
    slack.message_shortcut(parent.ts)
    [note] = slack.workspace.wait_for(cards(ephemeral=True))
    assert "No e签宝 flow id" in note.visible_text()
    assert simulator.outline_calls() == 0


def test_recheck_within_ttl_is_cached_then_refreshed_in_place(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(SUCCESS_FLOW)
    slack.slash_command(flow_id)
    [card] = slack.workspace.wait_for(cards())
    slack.click(card, ACTION_RECHECK)
    cached = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == card.ts and m.edited >= 1), None)
    )
    assert "cached" in cached.visible_text()
    assert simulator.outline_calls(flow_id) == 1
    time.sleep(CACHE_TTL + 0.2)
    slack.click(cached, ACTION_RECHECK)
    fresh = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == card.ts and m.edited >= 2), None)
    )
    assert "cached" not in fresh.visible_text()
    assert fresh.is_ephemeral
    assert simulator.outline_calls(flow_id) == 2
    assert len(slack.workspace.messages()) == 1  # the same card, never a second one


def test_concurrent_rechecks_make_one_esign_call(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    simulator.set_latency(0.5)
    slack.slash_command(flow_id)
    [card] = slack.workspace.wait_for(cards())
    time.sleep(CACHE_TTL + 0.1)
    simulator.reset_stats()
    with ThreadPoolExecutor(10) as pool:
        acks = list(pool.map(lambda _: slack.click(card, ACTION_RECHECK), range(10)))
    assert all(a.status == 200 and a.elapsed < 1.0 for a in acks)
    slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == card.ts and m.edited >= 5), None)
    )
    assert simulator.outline_calls(flow_id) == 1


def test_share_posts_to_the_channel_and_removes_the_ephemeral(slack: Playground) -> None:
    slack.slash_command(FAIL_FLOW)
    [card] = slack.workspace.wait_for(cards())
    slack.click(card, ACTION_SHARE)
    [shared] = slack.workspace.wait_for(cards(ephemeral=False))
    assert f"Flow {FAIL_FLOW}" in shared.visible_text()
    assert shared.action_ids() == [ACTION_RECHECK]
    slack.workspace.wait_for(lambda ms: all(not m.is_ephemeral for m in ms))


def test_recheck_on_a_shared_card_updates_it_with_chat_update(
    slack: Playground, simulator: EsignSimulator
) -> None:
    parent = slack.post_user_message(f"{DOC_FLOW}")
    slack.message_shortcut(parent.ts)
    [reply] = slack.workspace.wait_for(cards(ephemeral=False))
    slack.click(reply, ACTION_RECHECK)
    updated = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == reply.ts and m.edited >= 1), None)
    )
    assert updated.thread_ts == parent.ts
    assert any(c.method == "chat.update" for c in slack.workspace.calls())
    # The thread still sees who asked.
    assert "requested by <@U0PLAYER1>" in reply.visible_text()
    assert "requested by <@U0PLAYER1>" in updated.visible_text()
    assert "cached" in updated.visible_text()


def test_recheck_by_someone_else_keeps_the_original_requester(slack: Playground) -> None:
    parent = slack.post_user_message(f"{SUCCESS_FLOW}")
    slack.message_shortcut(parent.ts)
    [reply] = slack.workspace.wait_for(cards(ephemeral=False))
    slack.click(reply, ACTION_RECHECK, user_id=COLLEAGUE_USER_ID)
    updated = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == reply.ts and m.edited >= 1), None)
    )
    assert "requested by <@U0PLAYER1>" in updated.visible_text()
    assert f"<@{COLLEAGUE_USER_ID}>" not in updated.visible_text()


@pytest.mark.parametrize(
    ("channel_id", "says", "never_says", "buttons"),
    [
        # Inviting the bot would fix a private channel, so the card still offers Share.
        ("C0PRIVATE", "/invite @esign-flow", "direct message", [ACTION_RECHECK, ACTION_SHARE]),
        # Nobody can invite a bot into a DM between people: no invite hint, no Share.
        ("D0PLAYER2", "direct message between people", "/invite", [ACTION_RECHECK]),
    ],
    ids=["private channel", "direct message"],
)
def test_message_shortcut_answers_privately_where_the_bot_cannot_post_and_says_why(
    slack: Playground, channel_id: str, says: str, never_says: str, buttons: list[str]
) -> None:
    parent = slack.post_user_message(f"can you check {FAIL_FLOW}?", channel_id=channel_id)
    slack.message_shortcut(parent.ts, channel_id=channel_id)
    [fallback] = slack.workspace.wait_for(cards(channel_id, ephemeral=True))
    text = fallback.visible_text()
    assert says in text and never_says not in text
    assert f"Flow {FAIL_FLOW}" in text
    assert fallback.action_ids() == buttons
    assert not [m for m in slack.workspace.messages(channel_id) if m.bot and not m.is_ephemeral]


def test_in_a_direct_message_cards_offer_no_share_the_bot_cannot_do(slack: Playground) -> None:
    slack.slash_command(DOC_FLOW, channel_id="D0PLAYER2")
    [card] = slack.workspace.wait_for(cards("D0PLAYER2"))
    assert f"Flow {DOC_FLOW}" in card.visible_text()
    assert card.action_ids() == [ACTION_RECHECK, ACTION_WATCH]
    slack.click(card, ACTION_RECHECK)
    rechecked = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == card.ts and m.edited >= 1), None)
    )
    assert "cached" in rechecked.visible_text()
    assert rechecked.action_ids() == [ACTION_RECHECK, ACTION_WATCH]


@pytest.mark.parametrize(
    ("flow_id", "expected"),
    [
        (NOT_FOUND_FLOW, ["Flow not found", "30500001"]),
        (NOT_FOUND_4_FLOW, ["Flow not found", "30500004"]),
        (UNKNOWN_FLOW, ["Flow not found", "30500001"]),
        (BALANCE_FLOW, ["e签宝 returned an error", "30503107"]),
        ("2987395000000000013", ["rejected", "ESIGN_APP_SECRET"]),
        ("2987395000000000014", ["rejected", "clock"]),
        ("2987395000000000015", ["rejected", "ESIGN_ENV"]),
        ("2987395000000000019", ["rejected", "allow-list"]),
        ("2987395000000000011", ["rate limiting"]),
        ("2987395000000000006", ["not answering", "503"]),
        ("2987395000000000004", ["not answering", "500"]),
        ("2987395000000000008", ["not answering"]),
        ("2987395000000000009", ["cannot read"]),
        ("2987395000000000002", ["not answering"]),
    ],
)
def test_errors_come_back_as_short_cards(
    slack: Playground, flow_id: str, expected: list[str]
) -> None:
    assert slack.slash_command(flow_id).status == 200
    [card] = slack.workspace.wait_for(cards())
    text = card.visible_text()
    for words in expected:
        assert words in text
    assert "Traceback" not in text and "Error(" not in text


def test_invalid_id_is_explained_without_calling_esign(
    slack: Playground, simulator: EsignSimulator
) -> None:
    exchange = slack.slash_command("%2e%2e%2f<!channel>")
    assert exchange.status == 200
    assert "Not flow ids" in exchange.body
    assert "<!channel>" not in exchange.body  # echoed, but escaped: it pings nobody
    assert simulator.outline_calls() == 0
    assert not any(r.path.startswith("/v2") for r in simulator.requests())


def _command_body(text: str) -> bytes:
    return urlencode(
        {
            "command": "/esign-flow",
            "text": text,
            "team_id": "T0PLAYGRND",
            "channel_id": "C0GENERAL",
            "user_id": "U0PLAYER1",
            "response_url": "https://hooks.slack.com/commands/T0/1/x",
            "trigger_id": "1.2.3",
        }
    ).encode()


def test_forged_and_stale_signatures_are_refused_without_an_esign_call(
    slack: Playground, simulator: EsignSimulator
) -> None:
    body = _command_body(DOC_FLOW)
    forged = {**slack.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    stale = slack.sign(body, timestamp=int(time.time()) - 6 * 60)
    for headers in (forged, stale):
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        assert slack.send_raw(body, headers).status == 401
    form = "application/x-www-form-urlencoded"
    signed_for_another_body = {**slack.sign(_command_body("help")), "Content-Type": form}
    assert slack.send_raw(body, signed_for_another_body).status == 401
    for content_type in ("text/plain", "application/json"):
        wrong_type = {**slack.sign(body), "Content-Type": content_type}
        assert slack.send_raw(body, wrong_type).status == 400
    time.sleep(0.3)
    assert simulator.outline_calls() == 0
    assert slack.workspace.calls() == []


def test_slow_esign_never_delays_acks(slack: Playground, simulator: EsignSimulator) -> None:
    simulator.set_latency(1.8)  # below the e2e bot's 2 s read timeout
    flows = [f"29873660{n:011d}" for n in range(12)]
    for flow_id in flows:
        simulator.add_flow({"flowId": flow_id, "flowStatus": "ING", "subFlows": []})
    with ThreadPoolExecutor(12) as pool:
        acks = list(pool.map(slack.slash_command, flows))
    assert all(a.status == 200 for a in acks)
    assert max(a.elapsed for a in acks) < 1.0
    found = slack.workspace.wait_for(cards(count=12), timeout=15)
    assert {f for f in flows if any(f"Flow {f}" in m.visible_text() for m in found)} == set(flows)


def test_card_shows_what_esign_sent(slack: Playground, simulator: EsignSimulator) -> None:
    """A flow added to the simulator shows up with its own values, and none of ours."""
    flow_id = "2987366300000000077"
    simulator.add_flow(
        {
            "flowId": flow_id,
            "flowStatus": "FAIL",
            "objectType": "ORGANIZATION",
            "contextId": "ctx-card-source-77",
            "failReason": "营业执照已注销",
            "subFlows": [{"subFlowId": "sf-77", "subFlowType": "AUTHCODE", "status": "FAIL"}],
        }
    )
    slack.slash_command(flow_id)
    [card] = slack.workspace.wait_for(cards())
    text = card.visible_text()
    for sent in ("ctx-card-source-77", "营业执照已注销", "sf-77", "SMS code check", "Failed"):
        assert sent in text
    assert "Organization" in text


def test_fault_injection_recovers_after_transient_errors(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(SUCCESS_FLOW)
    simulator.inject(Fault.HTTP_502, flow_id=flow_id, times=1)
    slack.slash_command(flow_id)
    [card] = slack.workspace.wait_for(cards())
    assert "Succeeded" in card.visible_text()  # the retry got through
    assert simulator.outline_calls(flow_id) == 2
