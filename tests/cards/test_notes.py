"""Error, help and note cards: what the user reads when there is no flow to show."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import DividerBlock

# Sibling test module: pytest puts this directory on sys.path (no __init__.py in tests).
from test_outline import (
    assert_no_foreign_markup,
    assert_within_slack_limits,
    render_outline_card,
)

from bot.cards import ACTIONS_BLOCK_ID, Card, render_error, render_help, render_note
from bot.cards.esign_errors import error_detail, error_title
from bot.esign.errors import (
    CircuitOpen,
    EsignBusinessError,
    EsignError,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    InvalidFlowId,
    InvalidFlowIdReason,
    RateLimited,
    UnavailableReason,
    UnexpectedReason,
    UnexpectedResponse,
)
from bot.slack.ids import ACTION_RECHECK, COMMAND

FLOW_ID = "803719636976683872"


def check(card: Card) -> dict[str, Any]:
    message = card.to_message()
    assert_within_slack_limits(message)
    assert_no_foreign_markup(message)
    return message


def body(message: dict[str, Any]) -> str:
    text: str = message["blocks"][0]["text"]["text"]
    return text


def context(message: dict[str, Any]) -> str:
    contexts = [b for b in message["blocks"] if b["type"] == "context"]
    return " ".join(element["text"] for c in contexts for element in c["elements"])


def action_ids(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


ERRORS: list[tuple[EsignError, str, int | None]] = [
    (FlowNotFound(FLOW_ID, code=30500001, message="认证流程不存在"), ":mag:", 30500001),
    (FlowNotFound(FLOW_ID, code=30500004, message="认证流程不存在"), ":mag:", 30500004),
    (InvalidFlowId(InvalidFlowIdReason.BAD_CHARACTERS), ":pencil2:", None),
    (GatewayRejected(401, "INVALID_SIGNATURE"), ":lock:", None),
    (GatewayRejected(403, "IP白名单不匹配"), ":lock:", None),
    (RateLimited(), ":snail:", None),
    (EsignUnavailable(UnavailableReason.TIMEOUT), ":electric_plug:", None),
    (CircuitOpen(30), ":electric_plug:", None),
    (UnexpectedResponse(UnexpectedReason.NO_DATA), ":warning:", None),
    (EsignBusinessError(code=30503107, message="余额不足"), ":warning:", 30503107),
    (EsignError("Something else went wrong."), ":warning:", None),
]


@pytest.mark.parametrize(("error", "emoji", "code"), ERRORS)
def test_each_error_kind_has_its_emoji_title_detail_and_code(
    error: EsignError, emoji: str, code: int | None
) -> None:
    message = check(render_error(error, flow_id=FLOW_ID))
    text = body(message)
    # Both languages by default: the English title, then its 中文; the same for the detail.
    (title_en, title_zh), (detail_en, detail_zh) = error_title(error), error_detail(error)
    assert text.startswith(f"{emoji} *{title_en} · {title_zh}*")
    assert f"{detail_en}\n{detail_zh}".replace("'", "&#x27;") in text.replace("'", "&#x27;")
    assert f"flow `{FLOW_ID}`" in context(message)
    if code is None:
        assert "code" not in context(message)
    else:
        assert f"e签宝 code {code}" in context(message)
        assert f"e签宝 code {code}" in message["text"]
    assert message["text"].startswith(title_en)
    serialized = json.dumps(message, ensure_ascii=False)
    assert "Traceback" not in serialized
    assert type(error).__name__ + "(" not in serialized


@pytest.mark.parametrize(("error", "emoji", "code"), ERRORS)
def test_recheck_only_for_transient_errors_with_a_flow_id(
    error: EsignError, emoji: str, code: int | None
) -> None:
    with_id = check(render_error(error, flow_id=FLOW_ID))
    expected = [ACTION_RECHECK] if error.transient else []
    assert action_ids(with_id) == expected
    if error.transient:
        actions = next(b for b in with_id["blocks"] if b["type"] == "actions")
        assert actions["block_id"] == ACTIONS_BLOCK_ID
        assert actions["elements"][0]["value"] == FLOW_ID
    assert action_ids(check(render_error(error))) == []


def test_transient_error_recheck_keeps_the_thread() -> None:
    message = check(render_error(RateLimited(), flow_id=FLOW_ID, thread_ts="17.5"))
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [element["value"] for element in actions["elements"]] == [f"{FLOW_ID}|17.5"]


def test_a_posted_error_card_names_who_asked_and_keeps_it_for_recheck() -> None:
    message = check(render_error(RateLimited(), flow_id=FLOW_ID, requested_by="U0PLAYER1"))
    facts = next(b for b in message["blocks"] if b["type"] == "context")
    assert "requested by <@U0PLAYER1>" in facts["elements"][0]["text"]
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [element["value"] for element in actions["elements"]] == [f"{FLOW_ID}||U0PLAYER1"]
    hostile = check(render_error(RateLimited(), flow_id=FLOW_ID, requested_by="<!here>"))
    assert "requested by" not in json.dumps(hostile) and "<!here>" not in json.dumps(hostile)


def test_error_without_flow_id_or_code_is_one_section() -> None:
    message = check(render_error(InvalidFlowId(InvalidFlowIdReason.EMPTY)))
    assert [b["type"] for b in message["blocks"]] == ["section"]
    assert body(message) == (
        ":pencil2: *Not a valid flow id · 不是有效的流程 ID*\nNo flow id given.\n没有提供流程 ID。"
    )


def test_hostile_error_text_and_flow_id_are_escaped() -> None:
    error = FlowNotFound(
        "<!channel>", code=30500001, message="<https://evil.example|click> & `x` <@U123>"
    )
    message = check(render_error(error, flow_id="<!channel>`"))
    serialized = json.dumps(message, ensure_ascii=False)
    for raw in ("<!channel>", "<@U123>", "<https://evil"):
        assert raw not in serialized
    assert "&lt;https://evil.example|click&gt; &amp;" in body(message)
    assert "flow `&lt;!channel&gt;ˋ`" in context(message)


def test_long_error_detail_is_cut() -> None:
    message = check(render_error(EsignBusinessError(code=30500000, message="很长" * 3000)))
    assert body(message).endswith("…")
    assert len(body(message)) < 1700


def test_help_lists_the_usage() -> None:
    message = check(render_help(COMMAND))
    text = body(message)
    assert "`/esign-flow &lt;flowId&gt;`" in text
    assert "`/esign-flow &lt;flowId&gt; &lt;flowId&gt; …`" in text
    assert "`/esign-flow help`" in text
    assert "803719636976683872" in text
    assert "shortcut" in context(message)
    assert "thread" in context(message)
    assert message["text"].startswith("How to use /esign-flow")


def test_note_is_plain_and_escaped() -> None:
    message = check(
        render_note(
            "Could not post to the thread",
            "Invite the bot first: /invite @esign-flow. <!here> & friends",
        )
    )
    assert [b["type"] for b in message["blocks"]] == ["section"]
    assert body(message) == (
        ":information_source: *Could not post to the thread*\n"
        "Invite the bot first: /invite @esign-flow. &lt;!here&gt; &amp; friends"
    )
    assert message["text"].startswith("Could not post to the thread: Invite the bot")


def test_note_survives_empty_and_huge_input() -> None:
    assert check(render_note("", ""))["text"]  # never an empty top-level text
    huge = check(render_note("t" * 1000, "d" * 10_000))
    assert body(huge).count("…") == 2


def test_note_followed_by_a_card_is_one_valid_message() -> None:
    card = render_outline_card(ephemeral=True)
    note = render_note("Could not share the card", "Invite me with `/invite @esign-flow`.")
    message = check(note.followed_by(card))
    assert message["blocks"][0] == note.to_message()["blocks"][0]
    assert message["blocks"][1:] == card.to_message()["blocks"]
    assert message["text"] == f"{note.text}\n{card.text}"


def test_followed_by_never_exceeds_the_block_limit() -> None:
    many = Card(text="many", blocks=[DividerBlock() for _ in range(30)])
    combined = many.followed_by(render_error(RateLimited(), flow_id=FLOW_ID).followed_by(many))
    assert len(combined.blocks) == 50
    assert combined.blocks[-1].type == "divider"
    assert len(many.followed_by(Card(text="t" * 1000, blocks=many.blocks)).text) <= 600
