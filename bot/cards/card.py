"""What every renderer returns, and the buttons several cards share."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final, Literal

from slack_sdk.models.blocks import Block, ButtonElement, PlainTextObject

from bot.cards.limits import TOP_TEXT_LIMIT
from bot.cards.mrkdwn import truncate
from bot.language import Language, pick
from bot.slack.button_value import ButtonValue, ButtonValueError
from bot.slack.ids import ACTION_RECHECK, ACTION_SHARE, ACTION_UNWATCH, ACTION_WATCH

#: One card per message, so a fixed id is unique within it and stays put across Recheck updates.
ACTIONS_BLOCK_ID: Final = "esign_flow_actions"
MAX_BLOCKS: Final = 50


class RenderedBlock(Block):
    """A block validated and serialized once, then reused as is by every card that shows it."""

    def __init__(self, rendered: dict[str, Any]) -> None:
        super().__init__(type=rendered["type"], block_id=rendered.get("block_id"))
        self._rendered = rendered

    def to_dict(self) -> dict[str, Any]:
        # Shared between cards: callers serialize it and never change it.
        return self._rendered


@dataclass(frozen=True)
class Card:
    #: Top-level fallback text (notifications, screen readers); already mrkdwn-safe.
    text: str
    blocks: list[Block]

    def to_message(self) -> dict[str, Any]:
        """`text` + `blocks` for chat.postMessage or respond(); to_dict() validates each block."""
        return {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}

    def followed_by(self, other: Card) -> Card:
        """This card with `other` below it, as one message (a note above the card it explains).

        Both texts are already escaped, so they are joined as they are. Should the two together
        exceed Slack's block count, `other` loses middle blocks but keeps its last (the buttons).
        """
        room = MAX_BLOCKS - len(self.blocks)
        tail = other.blocks
        if len(tail) > room:
            tail = [*tail[: max(room - 1, 0)], tail[-1]] if room > 0 else []
        # Each text is within the limit already; together they may take two.
        text = truncate(f"{self.text}\n{other.text}", 2 * TOP_TEXT_LIMIT)
        return Card(text=text, blocks=[*self.blocks, *tail])


#: Each card button's emoji, label (English, 中文) and what a screen reader says (English, 中文).
_BUTTONS: Final[dict[str, tuple[str, tuple[str, str], tuple[str, str]]]] = {
    ACTION_RECHECK: (
        ":arrows_counterclockwise:",
        ("Recheck", "重新查询"),
        ("Look this flow up again in e签宝", "在 e签宝 中重新查询此流程"),
    ),
    ACTION_WATCH: (
        "",
        ("Watch", "关注"),
        ("Tell me when this flow's status changes", "流程状态变化时通知我"),
    ),
    ACTION_UNWATCH: (
        "",
        ("Unwatch", "取消关注"),
        ("Stop telling me about this flow", "不再通知我此流程的变化"),
    ),
    ACTION_SHARE: (
        ":mega:",
        ("Share in channel", "分享到频道"),
        ("Post this card to the channel for everyone", "把这张卡片发到频道，让所有人都能看到"),
    ),
}
#: Slack's limit on a button's text and on its accessibility label.
BUTTON_TEXT_LIMIT: Final = 75


def button_label(action: str, language: Language) -> tuple[str, str]:
    """A button's text and its screen-reader label in the reader's language; both languages
    share one short line on a posted card."""
    emoji, (en, zh), (spoken_en, spoken_zh) = _BUTTONS[action]
    text = pick(en, zh, language, " · ")
    return (
        truncate(f"{emoji} {text}" if emoji else text, BUTTON_TEXT_LIMIT),
        truncate(pick(spoken_en, spoken_zh, language, " · "), BUTTON_TEXT_LIMIT),
    )


@functools.lru_cache(maxsize=1024)
def flow_actions(
    flow_id: str | None,
    *,
    thread_ts: str | None = None,
    requested_by: str | None = None,
    recheck: bool = True,
    share: bool = False,
    watch: Literal["watch", "unwatch"] | None = None,
    language: Language = "both",
) -> Block | None:
    """Recheck / Watch or Unwatch / Share buttons carrying the flow (thread, requester), or None
    when none would work.

    The value is what the action handler decodes, so any instance can answer the click.
    The same buttons come back for every Recheck of a card, so they are built once. Labels
    follow `language`; action ids and values never do (the handlers route on them).
    """
    value = button_value(flow_id, thread_ts, requested_by)
    if value is None:
        return None
    wanted = [
        ACTION_RECHECK if recheck else None,
        {"watch": ACTION_WATCH, "unwatch": ACTION_UNWATCH}.get(watch or ""),
        ACTION_SHARE if share else None,
    ]
    buttons = [{**button_shape(action, language), "value": value} for action in wanted if action]
    if not buttons:
        return None
    # Built as a dict: the value differs with every thread (so no cache helps), and the
    # shape was validated once by button_shape; the value was checked by button_value.
    return RenderedBlock({"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": buttons})


@functools.lru_cache(maxsize=64)
def button_shape(action: str, language: Language) -> dict[str, Any]:
    """A card button without its value, validated by slack_sdk once per action and language.
    Callers copy it (`{**shape, "value": …}`) and never change it."""
    text, spoken = button_label(action, language)
    button = ButtonElement(
        text=PlainTextObject(text=text, emoji=True),
        action_id=action,
        value="-",
        accessibility_label=spoken,
    ).to_dict()
    del button["value"]
    return button


def button_value(
    flow_id: str | None, thread_ts: str | None = None, requested_by: str | None = None
) -> str | None:
    """The encoded button value, checked with the handler's own decoder.

    A value the handler would refuse makes a button that can only fail, so a malformed thread
    or requester is dropped and an invalid flow id (say, odd data from e签宝) gets no buttons.
    """
    if not flow_id:
        return None
    for thread in dict.fromkeys((thread_ts, None)):
        for requester in dict.fromkeys((requested_by, None)):
            encoded = ButtonValue(flow_id, thread, requester).encode()
            try:
                ButtonValue.decode(encoded)
            except ButtonValueError:
                continue
            return encoded
    return None
