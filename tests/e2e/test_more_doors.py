"""The global shortcut and its modal, App Home and the Workflow Builder step, driving the real
app (started from the Procfile) over HTTP with signed requests, as Slack would."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from bot.slack.ids import (
    ACTION_HOME_RECHECK,
    ACTION_RECHECK,
    ACTION_UNWATCH,
    ACTION_WATCH,
    BLOCK_ALSO_POST,
    BLOCK_FLOW_IDS,
)
from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import COLLEAGUE_USER_ID, VIEWER_USER_ID, Playground
from stand_ins.slack_playground.surfaces import Execution, Surfaces, View
from tests.e2e.conftest import cards

DOC_FLOW = "803719636976683872"
SUCCESS_FLOW = "2987366201948372992"
FAIL_FLOW = "2987366388415348736"
NOT_FOUND_FLOW = "2987390000030500001"


def _open_modal(slack: Playground) -> View:
    exchange = slack.doors.global_shortcut()
    assert exchange.acked_in_time, exchange
    [modal] = slack.workspace.surfaces.wait(lambda s: s.open_modals(VIEWER_USER_ID))
    return modal


def _calls(slack: Playground, method: str) -> list[dict[str, object]]:
    return [c.payload for c in slack.workspace.calls() if c.method == method]


def _text(view: View) -> str:
    return json.dumps(view.body, ensure_ascii=False)


def test_the_global_shortcut_opens_the_modal_on_its_trigger(slack: Playground) -> None:
    modal = _open_modal(slack)
    assert modal.callback_id == "esign_flow_check_modal"
    [opened] = [c for c in slack.workspace.calls() if c.method == "views.open"]
    assert opened.response["ok"] is True
    blocks = {b["block_id"]: b for b in modal.body["blocks"]}
    assert set(blocks) == {BLOCK_FLOW_IDS, BLOCK_ALSO_POST}
    assert blocks[BLOCK_ALSO_POST]["element"]["response_url_enabled"] is True


def test_a_bad_id_is_refused_next_to_the_field_without_asking_esign(
    slack: Playground, simulator: EsignSimulator
) -> None:
    modal = _open_modal(slack)
    exchange = slack.doors.submit(modal.id, {BLOCK_FLOW_IDS: f"{DOC_FLOW} ../etc/passwd"})
    assert exchange.acked_in_time
    assert json.loads(exchange.body)["response_action"] == "errors"
    still = slack.workspace.surfaces.view(modal.id)
    assert still is not None and still.open
    assert "../etc/passwd" in still.errors[BLOCK_FLOW_IDS]
    assert "Not flow ids" in still.errors[BLOCK_FLOW_IDS]
    assert simulator.outline_calls() == 0


def test_the_cards_arrive_in_the_modal_rechecks_update_it_and_the_pick_gets_them(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(SUCCESS_FLOW)
    simulator.set_latency(0.5)  # the ack must not wait for it
    modal = _open_modal(slack)
    exchange = slack.doors.submit(modal.id, {BLOCK_FLOW_IDS: flow_id, BLOCK_ALSO_POST: "C0GENERAL"})
    assert exchange.acked_in_time and exchange.elapsed < 0.5
    assert json.loads(exchange.body)["response_action"] == "update"

    def carded(surfaces: Surfaces) -> View | None:
        view = surfaces.view(modal.id)
        return view if view is not None and f"Flow {flow_id}" in _text(view) else None

    shown = slack.workspace.surfaces.wait(carded, timeout=8)
    assert "Succeeded" in _text(shown) and "Also posted to <#C0GENERAL>" in _text(shown)
    [posted] = slack.workspace.wait_for(cards("C0GENERAL", ephemeral=False), timeout=8)
    assert f"Flow {flow_id}" in posted.visible_text()
    assert "<@U0PLAYER1>" in posted.visible_text()

    simulator.set_latency(0.0)
    before = shown.hash
    slack.doors.click(modal.id, ACTION_RECHECK)
    slack.workspace.surfaces.wait(lambda s: (v := s.view(modal.id)) and v.hash != before)
    [update] = [p for p in _calls(slack, "views.update") if p.get("hash") == before]
    assert update["view_id"] == modal.id


def test_app_home_lists_a_persons_own_recent_lookups(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    mine, theirs = fresh_flow(DOC_FLOW), fresh_flow(FAIL_FLOW)
    slack.slash_command(mine)
    slack.slash_command(theirs, user_id=COLLEAGUE_USER_ID)
    slack.workspace.wait_for(cards(count=2))
    [exchange] = slack.doors.open_home()
    assert exchange.acked_in_time and exchange.elapsed < 1.0
    home = slack.workspace.surfaces.wait(lambda s: s.home_of(VIEWER_USER_ID), timeout=3)
    text = _text(home)
    assert mine in text and "In progress" in text
    assert theirs not in text
    # Recheck from the Home tab redraws it.
    before = home.hash
    slack.doors.click(home.id, ACTION_HOME_RECHECK, value=mine)
    slack.workspace.surfaces.wait(lambda s: (h := s.home_of(VIEWER_USER_ID)) and h.hash != before)


def test_a_retried_event_is_handled_once(slack: Playground) -> None:
    exchanges = slack.doors.open_home(retries=2)
    assert [e.status for e in exchanges] == [200, 200, 200]
    slack.workspace.surfaces.wait(lambda s: s.home_of(VIEWER_USER_ID))
    time.sleep(0.5)  # the time a second publish would need to show up
    assert len(_calls(slack, "views.publish")) == 1


def _finished(slack: Playground, execution: Execution) -> Execution:
    def done(surfaces: Surfaces) -> Execution | None:
        found = surfaces.execution(execution.id)
        return found if found is not None and found.state != "running" else None

    finished: Execution = slack.workspace.surfaces.wait(done, timeout=8)
    return finished


def test_the_step_completes_with_outputs_using_the_workflows_token(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(FAIL_FLOW)
    execution, [exchange] = slack.doors.run_step({"flow_id": flow_id})
    assert exchange.acked_in_time
    done = _finished(slack, execution)
    assert done.state == "completed", done
    assert done.tokens_used == [execution.token] and execution.token.startswith("xwfp-")
    outputs = done.outputs or {}
    assert outputs["flow_status"] == "FAIL" and outputs["is_final"] is True
    assert outputs["status_label"] == "Failed · 已失败"
    assert "succeeded" in str(outputs["sub_flows_summary"])
    assert isinstance(outputs["checked_at"], int)


def test_the_step_fails_with_a_plain_message_for_a_missing_flow(slack: Playground) -> None:
    execution, _ = slack.doors.run_step({"flow_id": NOT_FOUND_FLOW})
    done = _finished(slack, execution)
    assert done.state == "failed"
    assert f"e签宝 does not know flow {NOT_FOUND_FLOW}" in (done.error or "")
    assert done.tokens_used == [execution.token]


def test_the_home_tab_lists_the_persons_watches_with_unwatch(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)  # in progress: it can still move, so it can be watched
    slack.slash_command(f"watch {flow_id}")
    slack.workspace.wait_for(cards(ephemeral=True))
    slack.doors.open_home()
    home = slack.workspace.surfaces.wait(lambda s: s.home_of(VIEWER_USER_ID), timeout=3)
    assert "Your active watches" in _text(home) and flow_id in _text(home)
    slack.doors.click(home.id, ACTION_UNWATCH)
    # The watch feature stops it; the Home tab shows it gone the next time it opens.
    deadline = time.monotonic() + 5
    while True:
        slack.doors.open_home()
        home = slack.workspace.surfaces.wait(lambda s: s.home_of(VIEWER_USER_ID))
        if "not watching any flow" in _text(home) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "not watching any flow" in _text(home)


def test_unwatch_on_the_home_tab_stops_a_watch_on_a_posted_card_too(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    parent = slack.post_user_message(f"stuck: {flow_id}")
    slack.message_shortcut(parent.ts)
    [card] = slack.workspace.wait_for(cards(ephemeral=False))
    slack.click(card, ACTION_WATCH)

    def card_offers(action: str) -> bool:
        current = slack.workspace.get_message(card.channel_id, card.ts)
        return current is not None and action in current.action_ids()

    slack.workspace.wait_for(lambda _: card_offers(ACTION_UNWATCH))
    slack.doors.open_home()
    home = slack.workspace.surfaces.wait(
        lambda s: (h := s.home_of(VIEWER_USER_ID)) and flow_id in _text(h) and h, timeout=3
    )
    assert "Your active watches" in _text(home)
    slack.doors.click(home.id, ACTION_UNWATCH)
    # The card in the channel offers Watch again, and the Home tab is redrawn without it.
    slack.workspace.wait_for(lambda _: card_offers(ACTION_WATCH))
    redrawn = slack.workspace.surfaces.wait(
        lambda s: (h := s.home_of(VIEWER_USER_ID)) and "not watching any flow" in _text(h) and h,
        timeout=5,
    )
    assert flow_id not in _text(redrawn).split("Your active watches")[-1]


def test_an_unsigned_or_forged_event_is_refused_and_runs_nothing(slack: Playground) -> None:
    execution = slack.workspace.surfaces.start_execution("check_esign_flow", {"flow_id": DOC_FLOW})
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": slack.workspace.team_id,
            "event_id": "Ev0FORGED",
            "event": {
                "type": "function_executed",
                "function": {"callback_id": "check_esign_flow"},
                "inputs": {"flow_id": DOC_FLOW},
                "function_execution_id": execution.id,
                "bot_access_token": execution.token,
            },
        }
    ).encode()
    forged = {**slack.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    stale = slack.sign(body, timestamp=int(time.time()) - 600)
    for headers in ({}, forged, stale):
        exchange = slack.send_raw(body, {"Content-Type": "application/json", **headers})
        assert exchange.status == 401
    time.sleep(0.3)
    still = slack.workspace.surfaces.execution(execution.id)
    assert still is not None and still.state == "running" and still.tokens_used == []
