"""The "Check an e签宝 flow" modal (global shortcut): the form, the wait, and the cards.

A modal holds at most 100 blocks and is read by one person, so it speaks their language. The
flows it shows ride in `private_metadata`, so a Recheck inside it can redraw every card.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationSelectElement,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cards.card import ACTIONS_BLOCK_ID, Card, RenderedBlock
from bot.cards.limits import ID_LIMIT
from bot.cards.mrkdwn import code
from bot.cards.notes import EXAMPLE_FLOW_ID
from bot.language import Language, pick
from bot.slack.ids import (
    ACTION_ALSO_POST,
    ACTION_FLOW_IDS,
    BLOCK_ALSO_POST,
    BLOCK_FLOW_IDS,
    VIEW_CHECK_FLOW,
)

MAX_VIEW_BLOCKS: Final = 100


def _title(language: Language) -> PlainTextObject:
    # Slack allows 24 characters in a modal's title.
    return PlainTextObject(text=pick("Check e签宝 flows", "查询流程", language)[:24])


def _close(language: Language) -> PlainTextObject:
    return PlainTextObject(text=pick("Close", "关闭", language))


def render_check_modal(language: Language = "both", *, max_ids: int = 5) -> dict[str, Any]:
    """The form: flow ids (one or more), and optionally a conversation to post the cards in."""
    ids = InputBlock(
        block_id=BLOCK_FLOW_IDS,
        label=PlainTextObject(text=pick("Flow ids", "流程 ID", language)),
        element=PlainTextInputElement(
            action_id=ACTION_FLOW_IDS,
            placeholder=PlainTextObject(text=EXAMPLE_FLOW_ID),
            multiline=True,
            max_length=1000,
            focus_on_load=True,
        ),
        hint=PlainTextObject(
            text=pick(
                f"One or more, separated by spaces or commas (at most {max_ids}).",
                f"可填多个，用空格或逗号分隔（最多 {max_ids} 个）。",
                language,
            )
        ),
    )
    also_post = InputBlock(
        block_id=BLOCK_ALSO_POST,
        optional=True,
        label=PlainTextObject(text=pick("Also post to…", "同时发到…", language)),
        element=ConversationSelectElement(
            action_id=ACTION_ALSO_POST,
            response_url_enabled=True,
            placeholder=PlainTextObject(text=pick("A conversation", "选择会话", language)),
        ),
        hint=PlainTextObject(
            text=pick(
                "Everyone there sees the cards; leave it empty to keep them to yourself.",
                "该会话的所有人都会看到卡片；留空则只有你能看到。",
                language,
            )
        ),
    )
    return View(
        type="modal",
        callback_id=VIEW_CHECK_FLOW,
        title=_title(language),
        submit=PlainTextObject(text=pick("Check", "查询", language)),
        close=_close(language),
        blocks=[ids, also_post],
    ).to_dict()


def modal_input_error(
    rejected: Sequence[str], *, over_cap: int, cap: int, language: Language = "both"
) -> str | None:
    """What is wrong with the typed ids, shown under the field; None when they are fine.

    Same rules as the slash command; unlike it, nothing is looked up until all of it is right.
    """
    if rejected:
        shown = ", ".join(token[:ID_LIMIT] for token in rejected)
        return pick(
            f"Not flow ids: {shown}. A flow id is a long number such as {EXAMPLE_FLOW_ID}.",
            f"不是流程 ID：{shown}。流程 ID 是一串长数字，例如 {EXAMPLE_FLOW_ID}。",
            language,
            "\n",
        )
    if over_cap:
        return pick(
            f"At most {cap} flow ids at a time: remove {over_cap}.",
            f"一次最多 {cap} 个流程 ID：请删掉 {over_cap} 个。",
            language,
            "\n",
        )
    return None


def modal_missing_ids(language: Language = "both") -> str:
    return pick(
        f"Type at least one flow id, such as {EXAMPLE_FLOW_ID}.",
        f"请至少填写一个流程 ID，例如 {EXAMPLE_FLOW_ID}。",
        language,
        "\n",
    )


def render_modal_waiting(flow_ids: Sequence[str], language: Language = "both") -> dict[str, Any]:
    """Shown the moment the form is submitted, while e签宝 answers (the ack never waits)."""
    flows = ", ".join(code(flow_id, ID_LIMIT) for flow_id in flow_ids)
    text = pick(
        f":hourglass_flowing_sand: Looking up {flows} in e签宝…",
        f":hourglass_flowing_sand: 正在向 e签宝 查询 {flows}…",
        language,
        "\n",
    )
    return _result_view(flow_ids, [SectionBlock(text=MarkdownTextObject(text=text))], language)


def render_modal_cards(
    flow_ids: Sequence[str],
    cards: Sequence[Card],
    *,
    posted_to: str | None = None,
    language: Language = "both",
) -> dict[str, Any]:
    """The cards, one after another; `posted_to` (a channel id) when they were also posted."""
    blocks: list[Block] = []
    for index, card in enumerate(cards):
        if index:
            blocks.append(DividerBlock())
        blocks.extend(_own_block_ids(card, index))
    if posted_to is not None:
        note = pick(f"Also posted to <#{posted_to}>.", f"已同时发到 <#{posted_to}>。", language)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return _result_view(flow_ids, blocks, language)


def _result_view(
    flow_ids: Sequence[str], blocks: list[Block], language: Language
) -> dict[str, Any]:
    if len(blocks) > MAX_VIEW_BLOCKS:
        blocks = [*blocks[: MAX_VIEW_BLOCKS - 1], blocks[-1]]
    return View(
        type="modal",
        callback_id=VIEW_CHECK_FLOW,
        title=_title(language),
        close=_close(language),
        blocks=blocks,
        private_metadata=",".join(flow_ids),
    ).to_dict()


def render_modal_note(card: Card, language: Language = "both") -> dict[str, Any]:
    """A note where a form would have been (the person may not use the bot here)."""
    return View(
        type="modal", title=_title(language), close=_close(language), blocks=list(card.blocks)
    ).to_dict()


def _own_block_ids(card: Card, index: int) -> list[Block]:
    """The card's blocks, its buttons' block renamed: block ids must be unique in a view, and
    every card names its buttons' block the same."""
    found: list[Block] = []
    for block in card.blocks:
        rendered = block.to_dict()
        if rendered.get("block_id") == ACTIONS_BLOCK_ID:
            rendered = {**rendered, "block_id": f"{ACTIONS_BLOCK_ID}_{index}"}
        found.append(RenderedBlock(rendered))
    return found
