"""A channel that answers itself, driven over real HTTP: `/esign-flow auto on|off`, then
people's messages (signed message events) answered in their thread, and every case where the
bot must say nothing at all."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from bot.slack.ids import ACTION_RECHECK, ACTION_UNWATCH, ACTION_WATCH
from stand_ins.esign_simulator import EsignSimulator, Fault
from stand_ins.slack_playground import Playground
from tests.e2e.channel_talk import (
    GENERAL,
    bot_posts,
    calls_to,
    replies_in,
    say,
    set_auto,
)
from tests.e2e.conftest import BotProcess, channel_slack, start_bot

DOC_FLOW = "803719636976683872"
SUCCESS_FLOW = "2987366201948372992"
FAIL_FLOW = "2987366388415348736"
NOT_FOUND_FLOW = "2987390000030500001"
NOT_FOUND_4_FLOW = "2987390000030500004"
UNKNOWN_FLOW = "1234567890123456789"


@pytest.fixture
def slack(channel_bot: BotProcess, simulator: EsignSimulator, playground: Playground) -> Playground:
    return channel_slack(channel_bot, simulator, playground)


@pytest.fixture
def auto_on(slack: Playground) -> Playground:
    set_auto(slack, "on")
    slack.workspace.reset()
    return slack


def test_auto_says_whether_it_is_on_and_who_turned_it_on(slack: Playground) -> None:
    set_auto(slack, "off")
    status = set_auto(slack, "").visible_text()
    assert "Automatic answers are off" in status and "本频道未开启自动回复" in status
    turned = set_auto(slack, "on").visible_text()
    assert "now on" in turned and "已开启" in turned
    assert "already on" in set_auto(slack, "on").visible_text()
    status = set_auto(slack, "").visible_text()
    assert "Turned on by <@U0PLAYER1>" in status and "<!date^" in status
    assert "now off" in set_auto(slack, "off").visible_text()
    # Every answer was private: nothing in the channel.
    assert bot_posts(slack, settle=0) == []


def test_a_message_naming_a_flow_is_answered_once_in_its_thread(
    auto_on: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    flow_id = fresh_flow(DOC_FLOW)
    message = say(slack, f"客户 {flow_id} 一直卡着")
    [reply] = slack.workspace.wait_for(replies_in(message.ts))
    assert f"Flow {flow_id}" in reply.visible_text() and "进行中" in reply.visible_text()
    assert reply.action_ids() == [ACTION_RECHECK, ACTION_WATCH]
    [post] = calls_to(slack, "chat.postMessage")
    assert post["thread_ts"] == message.ts and not post.get("reply_broadcast")
    # Named again in the same thread within 30 minutes: nothing more.
    say(slack, f"still {flow_id}?", thread_ts=message.ts)
    assert len(bot_posts(slack)) == 1
    assert simulator.outline_calls(flow_id) == 1


def test_a_cached_flow_lands_within_a_second(
    auto_on: Playground, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    flow_id = fresh_flow(SUCCESS_FLOW)
    slack.slash_command(flow_id)  # now cached
    slack.workspace.wait_for(lambda ms: any(m.bot and m.is_ephemeral for m in ms))
    started = time.monotonic()
    message = say(slack, f"done? {flow_id}")
    slack.workspace.wait_for(replies_in(message.ts), timeout=1.0)
    assert time.monotonic() - started < 1.0


def test_a_reply_in_a_thread_is_answered_in_that_thread(
    auto_on: Playground, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    parent = say(slack, "new ticket, no id yet")
    flow_id = fresh_flow(FAIL_FLOW)
    say(slack, f"the flow is {flow_id}", thread_ts=parent.ts)
    [reply] = slack.workspace.wait_for(replies_in(parent.ts))
    assert "银行卡四要素比对不一致" in reply.visible_text()
    # The same flow in another thread is another conversation: answered there too.
    other = say(slack, f"also {flow_id}")
    slack.workspace.wait_for(replies_in(other.ts))


def test_several_flows_make_one_compact_message_and_recheck_keeps_them_all(
    auto_on: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    doc, fail = fresh_flow(DOC_FLOW), fresh_flow(FAIL_FLOW)
    message = say(slack, f"{doc} and {fail} and {NOT_FOUND_FLOW} again")
    [reply] = slack.workspace.wait_for(replies_in(message.ts))
    text = reply.visible_text()
    assert doc in text and fail in text and NOT_FOUND_FLOW not in text
    assert "In progress" in text and "进行中" in text and "Failure reason 失败原因" in text
    assert reply.action_ids() == [ACTION_RECHECK, ACTION_WATCH, ACTION_RECHECK]
    assert len(bot_posts(slack)) == 1

    slack.click(reply, ACTION_RECHECK)
    redrawn = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == reply.ts and m.edited >= 1), None)
    )
    assert doc in redrawn.visible_text() and fail in redrawn.visible_text()

    # Watch on one flow: its own card goes into the thread and is watched there.
    slack.click(redrawn, ACTION_WATCH)
    [_, card] = slack.workspace.wait_for(replies_in(message.ts, count=2))
    slack.workspace.wait_for(
        lambda _: (
            ACTION_UNWATCH in (slack.workspace.get_message(GENERAL, card.ts) or card).action_ids()
        )
    )
    assert doc in slack.workspace.get_message(GENERAL, reply.ts).visible_text()  # type: ignore[union-attr]
    slack.click(slack.workspace.get_message(GENERAL, card.ts), ACTION_UNWATCH)  # type: ignore[arg-type]


def test_more_than_five_ids_show_five_and_say_how_many_more(
    auto_on: Playground, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    flows = [fresh_flow(SUCCESS_FLOW) for _ in range(7)]
    message = say(slack, "batch: " + ", ".join(flows))
    [reply] = slack.workspace.wait_for(replies_in(message.ts), timeout=8)
    text = reply.visible_text()
    assert all(f in text for f in flows[:5]) and not any(f in text for f in flows[5:])
    assert "…and 2 more flow ids" in text and "还有 2 个流程 ID" in text


@pytest.mark.parametrize(
    "event_extra",
    [
        {"bot_id": "B0OTHERBOT"},
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"subtype": "bot_message", "bot_id": "B0ESIGNFLOW"},
    ],
    ids=["another-bot", "edited", "join", "itself"],
)
def test_bots_and_subtypes_get_nothing(
    auto_on: Playground, simulator: EsignSimulator, event_extra: dict[str, str]
) -> None:
    slack = auto_on
    event = {
        "type": "message",
        "channel": GENERAL,
        "user": "U0PLAYER2",
        "text": f"flow {SUCCESS_FLOW}",
        "ts": f"{time.time():.6f}",
        **event_extra,
    }
    [exchange] = slack.doors.deliver_event(event)
    assert exchange.status == 200 and exchange.elapsed < 1.0
    assert bot_posts(slack) == [] and slack.workspace.calls() == []
    assert simulator.outline_calls() == 0


def test_no_id_costs_no_call_of_any_kind(auto_on: Playground, simulator: EsignSimulator) -> None:
    slack = auto_on
    for text in ["good morning", "call 13812345678", "price 1234567890.12345678901"]:
        say(slack, text)
    assert bot_posts(slack) == [] and slack.workspace.calls() == []
    assert simulator.outline_calls() == 0


def test_ids_e_sign_does_not_know_get_nothing(
    auto_on: Playground, simulator: EsignSimulator
) -> None:
    slack = auto_on
    say(slack, f"is {UNKNOWN_FLOW} or {NOT_FOUND_FLOW} or {NOT_FOUND_4_FLOW} ours?")
    time.sleep(0.5)
    assert bot_posts(slack, settle=0.8) == [] and calls_to(slack, "chat.postMessage") == []
    assert simulator.outline_calls() == 3


def test_e_sign_failing_for_every_flow_posts_nothing(
    auto_on: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    flow_id = fresh_flow(DOC_FLOW)
    simulator.inject(Fault.HTTP_503)
    say(slack, f"look at {flow_id}")
    assert bot_posts(slack, settle=1.5) == []


def test_a_channel_that_has_not_turned_it_on_gets_nothing(
    slack: Playground, simulator: EsignSimulator
) -> None:
    set_auto(slack, "off")
    slack.workspace.reset()
    say(slack, f"flow {SUCCESS_FLOW}")
    assert bot_posts(slack) == [] and simulator.outline_calls() == 0


def test_an_event_slack_sends_again_is_answered_once(
    auto_on: Playground, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    flow_id = fresh_flow(SUCCESS_FLOW)
    message = say(slack, f"retry {flow_id}", retries=2)
    slack.workspace.wait_for(replies_in(message.ts))
    assert len(bot_posts(slack)) == 1


def test_hostile_text_changes_nothing(
    auto_on: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    slack = auto_on
    flow_id = fresh_flow(SUCCESS_FLOW)
    # Look-alike digits (full-width, Arabic-Indic) are no flow id: no lookup, no answer.
    say(slack, "８０３７１９６３６９７６６８３８７２ and ٨٠٣٧١٩٦٣٦٩٧٦٦٨٣٨٧٢")
    assert bot_posts(slack) == [] and simulator.outline_calls() == 0
    pinged = say(slack, f"<!channel> <@U0PLAYER1> {flow_id} ../../etc/passwd")
    [reply] = slack.workspace.wait_for(replies_in(pinged.ts))
    assert "<!channel>" not in reply.visible_text() and "<@U0PLAYER1>" not in reply.visible_text()
    huge = say(slack, ("x" * 39_000) + f" {fresh_flow(DOC_FLOW)} " + ("9" * 900))
    slack.workspace.wait_for(replies_in(huge.ts))
    assert len(bot_posts(slack)) == 2
    assert simulator.outline_calls() == 2  # never a path made of what was typed


@pytest.fixture(scope="module")
def guarded_bot(
    simulator: EsignSimulator,
    playground: Playground,
    channel_bot: BotProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    """A second process on the channel bot's SQLite file, letting only C0PUBLIC2 in."""
    logs = tmp_path_factory.mktemp("guarded-bot")
    shared_file = str(channel_bot.log_path.with_suffix(".state.sqlite3"))
    bot = start_bot(
        simulator,
        playground,
        logs / "bot.log",
        STATE_DB_PATH=shared_file,
        ALLOWED_CHANNEL_IDS="C0PUBLIC2",
    )
    yield bot
    assert bot.stop() == 0, bot.log()


def test_outside_the_allow_lists_no_setting_and_no_answer(
    slack: Playground,
    channel_bot: BotProcess,
    guarded_bot: BotProcess,
    simulator: EsignSimulator,
    fresh_flow: Callable[[str], str],
) -> None:
    set_auto(slack, "on")  # through the first process, which lets everyone in
    slack.bot_events_url = f"{guarded_bot.base_url}/slack/events"
    exchange = slack.slash_command("auto off", channel_id=GENERAL)
    assert "not enabled in this channel" in exchange.body
    flow_id = fresh_flow(SUCCESS_FLOW)
    slack.workspace.reset()
    say(slack, f"outside {flow_id}")
    assert bot_posts(slack) == [] and simulator.outline_calls(flow_id) == 0
    # The setting is still on, and the first process (same file) still answers.
    slack.bot_events_url = f"{channel_bot.base_url}/slack/events"
    message = say(slack, f"inside {flow_id}")
    slack.workspace.wait_for(replies_in(message.ts))
