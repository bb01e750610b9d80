"""A person's Home tab: how to use the bot, their recent lookups, their watches, their language.

Only its owner reads it, so it speaks their language. It stays within 100 blocks: ten recent
lookups and at most `MAX_WATCHES_SHOWN` watches, each one section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cards.digest import home_digests
from bot.cards.labels import flow_status_label
from bot.cards.limits import ID_LIMIT
from bot.cards.mrkdwn import code
from bot.language import LANGUAGES, Language, pick
from bot.slack.button_value import ButtonValue
from bot.slack.ids import (
    ACTION_HOME_CLEAR,
    ACTION_HOME_LANGUAGE,
    ACTION_HOME_OPEN_MODAL,
    ACTION_HOME_RECHECK,
    ACTION_UNWATCH,
    COMMAND,
)
from bot.state.digest_records import DigestSetting
from bot.state.records import RecentLookup, Watch

MAX_WATCHES_SHOWN: Final = 40
LANGUAGE_BLOCK_ID: Final = "esign_flow_home_language_block"
RECENT_ACTIONS_BLOCK_ID: Final = "esign_flow_home_recent_actions"

#: How each language choice reads, whatever the current language is (so it can be found).
_LANGUAGE_NAMES: Final[dict[Language, str]] = {
    "both": "English + 中文",
    "zh": "中文",
    "en": "English",
}


def render_home(
    recent: Sequence[RecentLookup],
    watches: Sequence[Watch] | None,
    *,
    language: Language = "both",
    digests: Sequence[DigestSetting] | None = (),
) -> dict[str, Any]:
    """`watches` (and `digests`) None: the store could not say (shown as such, rather than as
    "none")."""
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=pick("e签宝 flows", "e签宝 认证流程", language, " · "))
        ),
        *_how_to(language),
        DividerBlock(),
        *_recent(recent, language),
        DividerBlock(),
        *_watches(watches, language),
        DividerBlock(),
        *home_digests(digests, language),
        DividerBlock(),
        *_language_choice(language),
    ]
    return View(type="home", blocks=blocks[:100]).to_dict()


def _section(text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text), accessory=accessory)


def _how_to(language: Language) -> list[Block]:
    lines = pick(
        "\n".join(
            [
                f"• `{COMMAND} <flowId>` in any channel: a card only you see.",
                "• ⚡ *Check an e签宝 flow* in the shortcuts menu: a form, anywhere.",
                "• *Look up e签宝 flows* on a message (⋯ menu): answers in its thread.",
                "• *Watch* on a card: the bot tells you when the flow moves.",
            ]
        ),
        "\n".join(
            [
                # A space after each closing * : Slack only bolds *…* that a space or
                # punctuation it knows ends, and "：" is not one.
                f"• 在任意频道输入 `{COMMAND} <流程ID>` ：只有你能看到的卡片。",
                "• 快捷方式菜单 ⚡ *Check an e签宝 flow* ：随处可用的表单。",
                "• 消息的 ⋯ 菜单 *Look up e签宝 flows* ：在该消息的话题中回答。",
                "• 卡片上的 *Watch* ：流程有变化时通知你。",
            ]
        ),
        language,
        "\n",
    )
    open_modal = ButtonElement(
        text=PlainTextObject(text=pick("Check a flow", "查询流程", language)),
        action_id=ACTION_HOME_OPEN_MODAL,
        style="primary",
    )
    return [_section(lines), ActionsBlock(elements=[open_modal])]


def _recent(recent: Sequence[RecentLookup], language: Language) -> list[Block]:
    title = f"*{pick('Your recent lookups', '最近查询', language)}*"
    if not recent:
        empty = pick(
            "Nothing yet: flows you look up anywhere show up here.",
            "暂无记录：你在任何地方查询的流程都会列在这里。",
            language,
            "\n",
        )
        return [_section(f"{title}\n{empty}")]
    blocks: list[Block] = [_section(title)]
    for entry in recent:
        if entry.status:
            label = flow_status_label(entry.status)
            status = f"{label.emoji} {label.words_in(language, ' ')}"
        else:
            status = pick(":warning: lookup failed", ":warning: 查询失败", language)
        when = f"<!date^{int(entry.looked_up_at)}^{{date_short_pretty}} {{time}}|{_utc(entry)}>"
        recheck = ButtonElement(
            text=PlainTextObject(text=pick("Recheck", "重新查询", language)),
            action_id=ACTION_HOME_RECHECK,
            value=ButtonValue(entry.flow_id).encode(),
        )
        blocks.append(_section(f"{code(entry.flow_id, ID_LIMIT)} · {status} · {when}", recheck))
    clear = ButtonElement(
        text=PlainTextObject(text=pick("Clear", "清除记录", language)),
        action_id=ACTION_HOME_CLEAR,
    )
    blocks.append(ActionsBlock(block_id=RECENT_ACTIONS_BLOCK_ID, elements=[clear]))
    return blocks


def _utc(entry: RecentLookup) -> str:
    return datetime.fromtimestamp(entry.looked_up_at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _watches(watches: Sequence[Watch] | None, language: Language) -> list[Block]:
    title = f"*{pick('Your active watches', '正在关注', language)}*"
    if watches is None:
        note = pick("Could not read your watches just now.", "暂时无法读取关注列表。", language)
        return [_section(f"{title}\n{note}")]
    if not watches:
        note = pick(
            "You are not watching any flow. Press *Watch* on a card to follow one.",
            "你还没有关注任何流程。在卡片上点 *Watch* 即可关注。",
            language,
            "\n",
        )
        return [_section(f"{title}\n{note}")]
    blocks: list[Block] = [_section(title)]
    for watch in watches[:MAX_WATCHES_SHOWN]:
        where = (
            pick("privately", "私信", language)
            if watch.card_channel is None
            else f"<#{watch.card_channel}>"
        )
        unwatch = ButtonElement(
            text=PlainTextObject(text=pick("Unwatch", "取消关注", language)),
            action_id=ACTION_UNWATCH,
            value=ButtonValue(watch.flow_id, watch.thread_ts, watch.user_id).encode(),
        )
        blocks.append(_section(f"{code(watch.flow_id, ID_LIMIT)} · {where}", unwatch))
    hidden = len(watches) - MAX_WATCHES_SHOWN
    if hidden > 0:
        more = pick(f"…and {hidden} more", f"…另有 {hidden} 个", language)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return blocks


def _language_choice(language: Language) -> list[Block]:
    options = [
        Option(value=choice, text=PlainTextObject(text=_LANGUAGE_NAMES[choice]))
        for choice in LANGUAGES
    ]
    chosen = next(option for option in options if option.value == language)
    return [
        _section(f"*{pick('Language of your cards', '卡片语言', language)}*"),
        ActionsBlock(
            block_id=LANGUAGE_BLOCK_ID,
            elements=[
                RadioButtonsElement(
                    action_id=ACTION_HOME_LANGUAGE, options=options, initial_option=chosen
                )
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=pick(
                        "Applies to cards only you see; cards posted to channels stay bilingual.",
                        "只影响仅你可见的卡片；发到频道的卡片始终中英双语。",
                        language,
                        "\n",
                    )
                )
            ]
        ),
    ]
