"""The private answers to `/esign-flow auto on|off` and `/esign-flow auto`: whether a channel's
messages naming flow ids are answered by themselves, and who turned that on."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.cards.card import Card
from bot.cards.mrkdwn import mention
from bot.cards.notes import NOTE_EMOJI, render_note_in
from bot.cards.times import date_token
from bot.language import Language
from bot.slack.ids import COMMAND
from bot.state.records import ChannelAuto


class AutoChange(StrEnum):
    TURNED_ON = "turned_on"
    ALREADY_ON = "already_on"
    TURNED_OFF = "turned_off"
    ALREADY_OFF = "already_off"
    #: A DM or no channel: there is no channel to answer in.
    NO_CHANNEL = "no_channel"
    #: The store could not keep the setting just now.
    NOT_SAVED = "not_saved"


def render_auto_status(setting: ChannelAuto | None, language: Language = "both") -> Card:
    """`/esign-flow auto`: on (by whom, since when) or off, and how to change it."""
    if setting is None:
        return render_note_in(
            language,
            (
                "Automatic answers are off in this channel",
                f"Turn them on with `{COMMAND} auto on`: messages naming flow ids then get "
                "their cards in the thread.",
            ),
            (
                "本频道未开启自动回复",
                f"用 `{COMMAND} auto on` 开启：提到流程 ID 的消息会在话题中收到流程卡片。",
            ),
        )
    who = mention(setting.user_id) or "someone"
    since = date_token(datetime.fromtimestamp(setting.turned_on_at, tz=UTC))
    en = (
        "*Automatic answers are on in this channel*",
        f"Turned on by {who}, {since}. Turn them off with `{COMMAND} auto off`.",
    )
    zh = ("*本频道已开启自动回复*", f"由 {who} 于 {since} 开启。用 `{COMMAND} auto off` 关闭。")
    if language == "en":
        body = "\n".join(en)
    elif language == "zh":
        body = "\n".join(zh)
    else:
        body = f"{en[0]} · {zh[0]}\n{en[1]}\n{zh[1]}"
    # Built here rather than by render_note: the mention and the date are Slack's own tokens,
    # which escaping would spoil; both come from a checked user id and a number.
    return Card(
        text="Automatic answers are on in this channel · 本频道已开启自动回复",
        blocks=[SectionBlock(text=MarkdownTextObject(text=f"{NOTE_EMOJI} {body}"))],
    )


def render_auto_change(change: AutoChange, language: Language = "both") -> Card:
    """What `/esign-flow auto on|off` did."""
    en, zh = _CHANGES[change]
    return render_note_in(language, en, zh)


_CHANGES: dict[AutoChange, tuple[tuple[str, str], tuple[str, str]]] = {
    AutoChange.TURNED_ON: (
        (
            "Automatic answers are now on in this channel",
            "A message naming 1 to 5 flow ids gets their cards in its thread, once per flow "
            "and thread every 30 minutes (the bot reads only channels it was invited to: "
            f"`/invite @esign-flow`). `{COMMAND} auto off` turns them off.",
        ),
        (
            "本频道已开启自动回复",
            "提到 1 到 5 个流程 ID 的消息会在其话题中收到流程卡片，同一话题中每个流程 30 分钟内"
            "只回复一次（机器人只读取它被邀请加入的频道：`/invite @esign-flow`）。"
            f"`{COMMAND} auto off` 可关闭。",
        ),
    ),
    AutoChange.ALREADY_ON: (
        ("Automatic answers were already on here", f"`{COMMAND} auto` says who turned them on."),
        ("本频道已经开启了自动回复", f"`{COMMAND} auto` 可查看是谁开启的。"),
    ),
    AutoChange.TURNED_OFF: (
        (
            "Automatic answers are now off in this channel",
            f"`{COMMAND} auto on` turns them on again.",
        ),
        ("本频道已关闭自动回复", f"`{COMMAND} auto on` 可重新开启。"),
    ),
    AutoChange.ALREADY_OFF: (
        ("Automatic answers were not on here", "Nothing changed."),
        ("本频道本来就没有开启自动回复", "没有任何改动。"),
    ),
    AutoChange.NO_CHANNEL: (
        (
            "Automatic answers work in channels only",
            "Run the command in the channel whose messages should be answered "
            "(and invite the bot there).",
        ),
        ("自动回复只适用于频道", "请在需要自动回复的频道中运行此命令（并邀请机器人加入该频道）。"),
    ),
    AutoChange.NOT_SAVED: (
        (
            "The setting could not be saved just now",
            "Nothing changed; please try again in a minute.",
        ),
        ("暂时无法保存此设置", "没有任何改动，请稍后再试。"),
    ),
}
