"""Notices: the bot's own words for what happened to a request, each sent as a note.

Listeners and the delivery path report facts (a `Notice`, an access `Refusal`, a bad button,
where a post failed, an incident id); only this module turns them into sentences, in English,
中文 or both, so the bot speaks with one voice in either language. notes.py draws the card.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from bot.cards.card import Card
from bot.cards.notes import EXAMPLE_FLOW_ID, render_note_in
from bot.language import Language, pick
from bot.slack.access import Refusal
from bot.slack.button_value import ButtonValueError
from bot.slack.ids import COMMAND

#: (title, detail)
Words = tuple[str, str]


class Notice(StrEnum):
    NO_FLOW_ID_GIVEN = "no_flow_id_given"
    NO_REPLY_ADDRESS = "no_reply_address"
    NO_FLOW_ID_IN_MESSAGE = "no_flow_id_in_message"
    UNSUPPORTED_BUTTON = "unsupported_button"
    LOOKUP_FAILED_UNEXPECTEDLY = "lookup_failed_unexpectedly"
    RESTARTING = "restarting"


_NOTICES: Final[dict[Notice, tuple[Words, Words]]] = {
    Notice.NO_FLOW_ID_GIVEN: (
        ("No flow id given", f"Try `{COMMAND} help`."),
        ("没有给出流程 ID", f"试试 `{COMMAND} help`。"),
    ),
    Notice.NO_REPLY_ADDRESS: (
        ("Slack sent no reply address", "Please run the command again."),
        ("Slack 没有提供回复地址", "请再运行一次命令。"),
    ),
    Notice.NO_FLOW_ID_IN_MESSAGE: (
        (
            "No e签宝 flow id in that message",
            f"A flow id is a long number such as `{EXAMPLE_FLOW_ID}`. "
            f"You can also type `{COMMAND} <flowId>` in a channel.",
        ),
        (
            "该消息中没有 e签宝 流程 ID",
            f"流程 ID 是一串长数字，例如 `{EXAMPLE_FLOW_ID}`。"
            f"也可以在频道中输入 `{COMMAND} <流程ID>`。",
        ),
    ),
    Notice.UNSUPPORTED_BUTTON: (
        (
            "That button is not supported",
            "This card may come from an older version of the bot. "
            f"Run `{COMMAND} <flowId>` for a fresh one.",
        ),
        (
            "不支持该按钮",
            f"这张卡片可能来自旧版本的机器人。运行 `{COMMAND} <流程ID>` 获取新卡片。",
        ),
    ),
    Notice.LOOKUP_FAILED_UNEXPECTEDLY: (
        (
            "Something went wrong on the bot's side",
            "The lookup failed unexpectedly; the details are in the bot's logs.",
        ),
        ("机器人出错了", "查询意外失败；详情见机器人的日志。"),
    ),
    Notice.RESTARTING: (
        (
            "The bot is restarting",
            "Your request arrived while the bot was shutting down, so it was not looked up. "
            "Please try again in a minute.",
        ),
        ("机器人正在重启", "你的请求在机器人关闭时到达，因此没有查询。请一分钟后再试。"),
    ),
}


def render_notice(notice: Notice, language: Language = "both") -> Card:
    en, zh = _NOTICES[notice]
    return render_note_in(language, en, zh)


_REFUSALS: Final[dict[Refusal, tuple[str, str]]] = {
    Refusal.TEAM: (
        "This workspace is not allowed to use the e签宝 flow bot.",
        "此工作区不允许使用 e签宝 流程机器人。",
    ),
    Refusal.CHANNEL: (
        "The e签宝 flow bot is not enabled in this channel. Ask in a support channel.",
        "本频道未启用 e签宝 流程机器人。请到支持频道询问。",
    ),
    Refusal.USER: (
        "You are not on the list of people who may look up e签宝 flows.",
        "你不在可以查询 e签宝 流程的名单中。",
    ),
}
_NOT_ALLOWED: Final = ("Not allowed here", "此处不允许")


def render_refusal(refusal: Refusal, language: Language = "both") -> Card:
    en, zh = _REFUSALS[refusal]
    return render_note_in(language, (_NOT_ALLOWED[0], en), (_NOT_ALLOWED[1], zh))


def refusal_words(refusal: Refusal, language: Language = "both") -> str:
    """The refusal as plain sentences (under a form's field, or a failed workflow step)."""
    en, zh = _REFUSALS[refusal]
    return pick(en, zh, language, "\n")


def render_bad_button(problem: ButtonValueError, language: Language = "both") -> Card:
    """A click whose button value this bot could not have made (forged, or truncated)."""
    # The detail names the part that is wrong, for whoever reads the logs; the 中文 says what
    # the person can do about it.
    return render_note_in(
        language,
        ("That button did not carry a flow id", problem.detail),
        ("该按钮没有携带流程 ID", f"请运行 `{COMMAND} <流程ID>` 获取新卡片。"),
    )


class PublicAnswer(StrEnum):
    """Where a card was meant to be posted for everyone to see."""

    THREAD = "thread"  # the message shortcut answers in the message's thread
    SHARE = "share"  # Share posts a private card to its channel


def render_not_posted(
    answer: PublicAnswer,
    *,
    not_allowed_here: bool,
    direct: bool,
    flow_id: str,
    language: Language = "both",
) -> Card:
    """Why a card could not be posted publicly, and what would help (shown above the card)."""
    if answer is PublicAnswer.SHARE:
        en, zh = _why_not_shared(not_allowed_here, direct, flow_id)
        return render_note_in(language, ("Could not share the card", en), ("无法分享卡片", zh))
    en, zh = _why_not_in_thread(not_allowed_here, direct)
    return render_note_in(
        language, ("Could not answer in the thread", en), ("无法在话题中回答", zh)
    )


def _why_not_shared(not_allowed_here: bool, direct: bool, flow_id: str) -> tuple[str, str]:
    if not not_allowed_here:
        return (
            "Slack did not take the shared card. Please try Share again in a moment.",
            "Slack 没有接受分享的卡片。请稍后再点一次 Share。",
        )
    if direct:
        return (
            "I cannot post in a direct message between people. To share this card, run "
            f"`{COMMAND} {flow_id}` in a channel I am in and press Share there.",
            f"我不能在人与人之间的私信中发消息。要分享这张卡片，请在我所在的频道运行 "
            f"`{COMMAND} {flow_id}`，再点 Share。",
        )
    return (
        "I am not a member of this channel. Invite me with `/invite @esign-flow`, "
        "then press Share again.",
        "我不是本频道的成员。请用 `/invite @esign-flow` 邀请我，然后再点 Share。",
    )


def _why_not_in_thread(not_allowed_here: bool, direct: bool) -> tuple[str, str]:
    if not not_allowed_here:
        return (
            "Slack did not take my reply in the thread, so only you can see this card.",
            "Slack 没有接受我在话题中的回复，所以只有你能看到这张卡片。",
        )
    if direct:
        return (
            "I cannot post in a direct message between people, so only you can see this card.",
            "我不能在人与人之间的私信中发消息，所以只有你能看到这张卡片。",
        )
    return (
        "I am not a member of this channel, so only you can see this card. "
        "Invite me with `/invite @esign-flow` to answer in threads here.",
        "我不是本频道的成员，所以只有你能看到这张卡片。"
        "用 `/invite @esign-flow` 邀请我，即可在这里的话题中回答。",
    )


def render_incident(incident_id: str, language: Language = "both") -> Card:
    """What the person sees when a listener failed: an id the operators can find in the logs."""
    return render_note_in(
        language,
        (
            "Something went wrong on the bot's side",
            "The bot could not finish this request. Please try again; if it keeps happening, "
            f"give the bot's operators this error id: {incident_id}",
        ),
        (
            "机器人出错了",
            f"机器人没能完成这个请求。请再试一次；如果一直出现，请把错误编号 {incident_id} "
            "告诉机器人的管理员。",
        ),
    )
