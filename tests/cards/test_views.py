"""The modal, the Home tab and the language choice: what the person sees, within Slack's limits."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.cards import render_outline
from bot.cards.home import render_home
from bot.cards.labels import flow_status_label
from bot.cards.modal import (
    modal_input_error,
    render_check_modal,
    render_modal_cards,
    render_modal_waiting,
)
from bot.slack.button_value import ButtonValue
from bot.slack.ids import (
    ACTION_ALSO_POST,
    ACTION_FLOW_IDS,
    ACTION_HOME_RECHECK,
    ACTION_UNWATCH,
    BLOCK_ALSO_POST,
    BLOCK_FLOW_IDS,
    VIEW_CHECK_FLOW,
)
from bot.state.records import RecentLookup, Watch
from tests.cards.test_outline import doc_example, render, snapshot

FLOW = "803719636976683872"


def _block_ids_unique(view: dict[str, Any]) -> None:
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(ids) == len(set(ids)), ids
    assert len(view["blocks"]) <= 100
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(view["title"]["text"]) <= 24 if "title" in view else True


def test_the_form_has_the_ids_field_and_an_optional_conversation_picker() -> None:
    view = render_check_modal()
    _block_ids_unique(view)
    assert view["type"] == "modal" and view["callback_id"] == VIEW_CHECK_FLOW
    ids, picker = view["blocks"]
    assert ids["block_id"] == BLOCK_FLOW_IDS and ids["element"]["action_id"] == ACTION_FLOW_IDS
    assert picker["block_id"] == BLOCK_ALSO_POST and picker["optional"] is True
    element = picker["element"]
    assert element["type"] == "conversations_select" and element["action_id"] == ACTION_ALSO_POST
    assert element["response_url_enabled"] is True
    assert view["title"]["text"] == "Check e签宝 flows 查询流程"


@pytest.mark.parametrize(
    ("language", "present", "absent"),
    [("en", "Flow ids", "流程 ID"), ("zh", "流程 ID", "Flow ids")],
)
def test_the_form_speaks_one_language_when_chosen(language: Any, present: str, absent: str) -> None:
    text = json.dumps(render_check_modal(language), ensure_ascii=False)
    assert present in text and absent not in text


def test_inline_errors_say_what_is_wrong_in_plain_words() -> None:
    assert modal_input_error([], over_cap=0, cap=5) is None
    bad = modal_input_error(["../x"], over_cap=0, cap=5, language="en")
    assert bad == f"Not flow ids: ../x. A flow id is a long number such as {FLOW}."
    assert "最多 5 个" in (modal_input_error([], over_cap=2, cap=5, language="zh") or "")


def test_the_cards_in_the_modal_keep_unique_block_ids_and_their_flows() -> None:
    card = render_outline(snapshot(), now=snapshot().fetched_at, ephemeral=False, offer_share=False)
    view = render_modal_cards([FLOW, "802965095964494307"], [card, card], posted_to="C0PICKED")
    _block_ids_unique(view)
    assert view["private_metadata"] == f"{FLOW},802965095964494307"
    assert "submit" not in view  # nothing left to submit: Close only
    assert "<#C0PICKED>" in json.dumps(view)
    waiting = render_modal_waiting([FLOW], "zh")
    assert "正在向 e签宝 查询" in json.dumps(waiting, ensure_ascii=False)


def test_the_home_tab_lists_recent_lookups_and_watches_with_their_buttons() -> None:
    now = time.time()
    recent = [RecentLookup(FLOW, "ING", now), RecentLookup("802965095964494307", "", now - 60)]
    watch = Watch(
        flow_id=FLOW,
        user_id="U0ASKER",
        team_id="T0TEAM",
        channel_id="C0SUPPORT",
        card_channel="C0SUPPORT",
        card_ts="1764354200.000300",
        thread_ts="1764354000.000100",
        started_at=now,
        expires_at=now + 3600,
        next_poll_at=now,
    )
    view = render_home(recent, [watch])
    assert view["type"] == "home"
    _block_ids_unique(view)
    text = json.dumps(view, ensure_ascii=False)
    assert "In progress 进行中" in text and "lookup failed" in text
    buttons = [
        b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("type") == "button"
    ]
    assert [b["action_id"] for b in buttons] == [ACTION_HOME_RECHECK] * 2 + [ACTION_UNWATCH]
    assert buttons[0]["value"] == ButtonValue(FLOW).encode()
    assert ButtonValue.decode(buttons[2]["value"]) == ButtonValue(
        FLOW, "1764354000.000100", "U0ASKER"
    )
    assert "<#C0SUPPORT>" in text


def test_the_home_tab_says_when_there_is_nothing_to_show() -> None:
    text = json.dumps(render_home([], [], language="en"))
    assert "Nothing yet" in text and "not watching any flow" in text
    assert "esign_flow_home_clear" not in text
    assert "Could not read your watches" in json.dumps(render_home([], None, language="en"))


def test_a_full_home_tab_stays_within_100_blocks() -> None:
    now = time.time()
    recent = [RecentLookup(f"8037196369766838{n:02d}", "SUCCESS", now - n) for n in range(10)]
    watches = [
        Watch(f"8037196369766839{n:02d}", "U0ASKER", None, None, None, None, None, now, now, now)
        for n in range(80)
    ]
    view = render_home(recent, watches)
    _block_ids_unique(view)
    assert "…and 40 more" in json.dumps(view, ensure_ascii=False)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_private_card_in_one_language(language: Any) -> None:
    message = render(snapshot(doc_example()), language=language)
    text = json.dumps(message, ensure_ascii=False)
    status = flow_status_label("ING")
    if language == "en":
        assert "In progress" in text and "进行中" not in text and "*Subject*" in text
        assert "主体" not in text
    else:
        assert "进行中" in text and "In progress" not in text and "*主体*" in text
        assert "Subject" not in text and "流程 803719636976683872" in text
    assert status.emoji in text


def test_the_default_card_is_unchanged_bilingual() -> None:
    assert render(snapshot(doc_example())) == render(snapshot(doc_example()), language="both")
    assert flow_status_label("ING").words_in("both") == "In progress · 进行中"
    assert flow_status_label("ING").words_in("en") == "In progress"
    assert flow_status_label("ING").words_in("zh") == "进行中"
