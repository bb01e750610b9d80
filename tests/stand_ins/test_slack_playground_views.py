"""The playground's views side plays Slack's rules: 3-second triggers, view hashes, and steps
finished only with their own just-in-time token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stand_ins.slack_playground import VIEWER_USER_ID, Playground
from stand_ins.slack_playground import surfaces as surfaces_module

BOT_TOKEN = "xoxb-views-test"
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Check"}, "blocks": []}


@pytest.fixture
def playground() -> Iterator[Playground]:
    with Playground(signing_secret="s", bot_token=BOT_TOKEN) as pg:
        yield pg


def _call(pg: Playground, method: str, token: str = BOT_TOKEN, **params: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{pg.api_url}{method}", json=params, headers={"Authorization": f"Bearer {token}"}
    )
    answer: dict[str, Any] = response.json()
    return answer


def test_a_trigger_opens_one_modal_within_three_seconds(
    playground: Playground, monkeypatch: pytest.MonkeyPatch
) -> None:
    surfaces = playground.workspace.surfaces
    fresh = surfaces.new_trigger(VIEWER_USER_ID)
    opened = _call(playground, "views.open", trigger_id=fresh, view=MODAL)
    assert opened["ok"] is True and opened["view"]["id"].startswith("V")
    assert _call(playground, "views.open", trigger_id=fresh, view=MODAL)["error"] == (
        "invalid_trigger_id"
    )
    stale = surfaces.new_trigger(VIEWER_USER_ID)
    later = surfaces_module.time.monotonic() + 3.5
    monkeypatch.setattr(surfaces_module.time, "monotonic", lambda: later)
    assert _call(playground, "views.open", trigger_id=stale, view=MODAL)["error"] == (
        "expired_trigger_id"
    )


def test_an_update_with_a_stale_hash_is_refused(playground: Playground) -> None:
    trigger = playground.workspace.surfaces.new_trigger(VIEWER_USER_ID)
    view = _call(playground, "views.open", trigger_id=trigger, view=MODAL)["view"]
    updated = _call(playground, "views.update", view_id=view["id"], hash=view["hash"], view=MODAL)
    assert updated["ok"] is True and updated["view"]["hash"] != view["hash"]
    stale = _call(playground, "views.update", view_id=view["id"], hash=view["hash"], view=MODAL)
    assert stale["error"] == "hash_conflict"
    too_long = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    assert _call(playground, "views.update", view_id=view["id"], view=too_long)["ok"] is False


def test_home_tabs_are_per_person(playground: Playground) -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    assert _call(playground, "views.publish", user_id=VIEWER_USER_ID, view=home)["ok"]
    assert _call(playground, "views.publish", user_id="U0NOBODY", view=home)["error"] == (
        "user_not_found"
    )
    assert _call(playground, "views.publish", user_id=VIEWER_USER_ID, view=MODAL)["ok"] is False
    shown = playground.workspace.surfaces.home_of(VIEWER_USER_ID)
    assert shown is not None and shown.body["blocks"][0]["type"] == "divider"


def test_a_step_is_finished_only_with_its_own_token_and_only_once(playground: Playground) -> None:
    surfaces = playground.workspace.surfaces
    execution = surfaces.start_execution("check_esign_flow", {"flow_id": "1"})
    with_bot = _call(
        playground, "functions.completeSuccess", function_execution_id=execution.id, outputs={}
    )
    assert with_bot["error"] == "invalid_auth"
    done = _call(
        playground,
        "functions.completeSuccess",
        token=execution.token,
        function_execution_id=execution.id,
        outputs={"is_final": True},
    )
    assert done["ok"] is True
    finished = surfaces.execution(execution.id)
    assert finished is not None and finished.outputs == {"is_final": True}
    assert finished.tokens_used == [BOT_TOKEN, execution.token]
    # The step is over: its token no longer opens the Web API.
    again = _call(
        playground,
        "functions.completeError",
        token=execution.token,
        function_execution_id=execution.id,
        error="late",
    )
    assert again["error"] == "invalid_auth"


def test_an_update_that_overtakes_the_submissions_ack_is_kept(playground: Playground) -> None:
    surfaces = playground.workspace.surfaces
    view = surfaces.open_modal(surfaces.new_trigger(VIEWER_USER_ID), MODAL)
    cards = {**MODAL, "blocks": [{"type": "divider", "block_id": "cards"}]}
    surfaces.update(view.id, cards, hash=None)  # the bot's views.update came in first
    waiting = {**MODAL, "blocks": [{"type": "divider", "block_id": "waiting"}]}
    surfaces.submitted(view.id, {"response_action": "update", "view": waiting}, updates_before=0)
    shown = surfaces.view(view.id)
    assert shown is not None and shown.body["blocks"][0]["block_id"] == "cards"
