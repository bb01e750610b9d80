"""The daily digest a channel reads, and the answers to `/esign-flow digest …`.

The digest is posted where everyone reads it, so it speaks both languages. It lists the flows
the channel was shown in the last 24 hours: the ones still open first (oldest first, each with
Recheck and a link to the thread it was discussed in), then the ones that finished since the
last digest. It stays inside Slack's 50 blocks whatever the count: MAX_OPEN_SHOWN open flows,
MAX_FINISHED_LINES finished ones, then "and N more".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.cards.card import Card, button_label, button_value
from bot.cards.labels import flow_status_label
from bot.cards.limits import ID_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import code, escape, label_mrkdwn, mention, truncate
from bot.cards.notes import NOTE_EMOJI
from bot.cards.times import as_utc
from bot.language import Language, pick
from bot.slack.ids import ACTION_DIGEST_RECHECK, ACTION_RECHECK, COMMAND
from bot.state.digest_records import DigestSetting

#: Open flows listed one section each (with a Recheck button); the rest are counted.
MAX_OPEN_SHOWN: Final = 30
#: Finished flows listed, FINISHED_PER_SECTION lines to a section.
MAX_FINISHED_LINES: Final = 40
FINISHED_PER_SECTION: Final = 10
FAIL_REASON_LIMIT: Final = 120
DIGEST_TITLE: Final = "\N{NEWSPAPER} Daily e签宝 digest · 每日 e签宝 摘要"
#: A permalink is Slack's own URL; anything longer is not linked.
PERMALINK_LIMIT: Final = 500


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One flow as the digest lists it (looked up again just now)."""

    flow_id: str
    status: str
    created_at: datetime | None = None
    changed_at: datetime | None = None
    fail_reason: str | None = None
    #: The thread where the flow was discussed (chat.getPermalink), when Slack gave one.
    permalink: str | None = None
    #: That thread's ts: Recheck's answer belongs with it.
    thread_ts: str | None = None


def span(seconds: float) -> str:
    """ "5 min", "3 h", "2 d": how long ago, at a glance."""
    whole = max(0, round(seconds))
    if whole < 3600:
        return f"{max(1, whole // 60)} min"
    if whole < 48 * 3600:
        return f"{whole // 3600} h"
    return f"{whole // 86400} d"


def _ago(en: str, zh: str, when: datetime | None, now: datetime) -> str | None:
    if when is None or when.timestamp() <= 0:
        return None
    age = span((now - as_utc(when)).total_seconds())
    return f"{en} {age} ago · {zh} {age} 前"


def _link(entry: DigestEntry) -> str | None:
    url = entry.permalink
    if not url or len(url) > PERMALINK_LIMIT or not url.startswith("https://"):
        return None
    if any(ch in url for ch in "<>|\n "):
        return None
    return f"<{url}|thread 讨论>"


def _open_section(entry: DigestEntry, now: datetime) -> SectionBlock:
    label = flow_status_label(entry.status)
    parts = [
        f"{label.emoji} {code(entry.flow_id, ID_LIMIT)} {label_mrkdwn(label)}",
        _ago("opened", "创建于", entry.created_at, now),
        _ago("last change", "最近变化", entry.changed_at, now),
        _link(entry),
    ]
    text = " · ".join(part for part in parts if part)
    accessory = None
    value = button_value(entry.flow_id, entry.thread_ts)
    if value is not None:
        words, spoken = button_label(ACTION_RECHECK, "both")
        accessory = ButtonElement(
            text=PlainTextObject(text=words, emoji=True),
            action_id=ACTION_DIGEST_RECHECK,
            value=value,
            accessibility_label=spoken,
        )
    return SectionBlock(text=MarkdownTextObject(text=text), accessory=accessory)


def _finished_line(entry: DigestEntry) -> str:
    label = flow_status_label(entry.status)
    line = f"{label.emoji} {code(entry.flow_id, ID_LIMIT)} {label_mrkdwn(label)}"
    if entry.fail_reason:
        line += f" — {escape(entry.fail_reason, FAIL_REASON_LIMIT)}"
    return line


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def render_digest(
    still_open: Sequence[DigestEntry],
    finished: Sequence[DigestEntry],
    *,
    now: datetime,
    unchecked: int = 0,
) -> Card | None:
    """The channel's digest, or None when there is nothing to list (nothing is posted)."""
    if not still_open and not finished:
        return None
    now = as_utc(now)
    oldest_first = sorted(
        still_open,
        key=lambda e: (e.created_at is None, e.created_at and as_utc(e.created_at).timestamp()),
    )
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=DIGEST_TITLE, emoji=True)),
        _context(
            "Flows shown in this channel in the last 24 hours, looked up again just now · "
            "本频道过去 24 小时内出现过的流程（刚刚重新查询）"
        ),
    ]
    if oldest_first:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Still open · 仍未完成* ({len(oldest_first)}), oldest first · 最早的在前"
                )
            )
        )
        blocks += [_open_section(entry, now) for entry in oldest_first[:MAX_OPEN_SHOWN]]
        more = len(oldest_first) - MAX_OPEN_SHOWN
        if more > 0:
            blocks.append(_context(f"…and {more} more still open · 另有 {more} 个仍未完成"))
    if finished:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Finished since the last digest · 上次摘要后已结束* ({len(finished)})"
                )
            )
        )
        lines = [_finished_line(entry) for entry in finished[:MAX_FINISHED_LINES]]
        for start in range(0, len(lines), FINISHED_PER_SECTION):
            chunk = "\n".join(lines[start : start + FINISHED_PER_SECTION])
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
        more = len(finished) - MAX_FINISHED_LINES
        if more > 0:
            blocks.append(_context(f"…and {more} more finished · 另有 {more} 个已结束"))
    if unchecked:
        blocks.append(
            _context(
                f":warning: {unchecked} more could not be looked up just now · "
                f"另有 {unchecked} 个暂时无法查询"
            )
        )
    text = (
        f"Daily e签宝 digest: {len(oldest_first)} still open, {len(finished)} finished · "
        f"每日摘要：{len(oldest_first)} 个仍未完成，{len(finished)} 个已结束"
    )
    return Card(text=truncate(text, TOP_TEXT_LIMIT), blocks=blocks)


def _note(language: Language, en: tuple[str, str], zh: tuple[str, str]) -> Card:
    """A note like bot.cards.notes' (the reader's language, or both), from mrkdwn already safe:
    its dates must stay date tokens, and what a person typed is escaped where it is put in."""
    title = pick(en[0], zh[0], language, " · ")
    detail = pick(en[1], zh[1], language, "\n")
    body = f"{NOTE_EMOJI} *{title}*\n{detail}"
    return Card(
        text=truncate(f"{title}: {detail}", TOP_TEXT_LIMIT),
        blocks=[SectionBlock(text=MarkdownTextObject(text=body))],
    )


def clock_text(hour: int, minute: int, tz: str) -> str:
    """ "09:30 Asia/Shanghai" (the zone's name as Slack gives it, escaped)."""
    return f"{hour:02d}:{minute:02d} {escape(tz, 64)}"


def render_digest_set(
    *,
    hour: int,
    minute: int,
    tz: str,
    first_at: datetime,
    language: Language,
    zone_unknown: bool = False,
) -> Card:
    """`zone_unknown`: Slack did not tell the person's zone, so UTC was used (and it says so)."""
    when = clock_text(hour, minute, tz)
    day = f"<!date^{int(first_at.timestamp())}^{{date_long_pretty}}|{first_at:%Y-%m-%d}>"
    en_zone = zh_zone = ""
    if zone_unknown:
        en_zone = " Slack did not tell your time zone, so this is UTC: set it again to retry."
        zh_zone = "Slack 未提供你的时区，因此按 UTC 设置；可再设置一次重试。"
    return _note(
        language,
        (
            f"Daily digest set for {when}",
            f"Each day at {when} this channel gets the flows it was shown in the last 24 "
            f"hours. The first one comes {day}. `{COMMAND} digest off` stops it.{en_zone}",
        ),
        (
            f"已设置每日摘要：{when}",
            f"每天 {when}，本频道会收到过去 24 小时内出现过的流程。第一份在 {day}。"
            f"`{COMMAND} digest off` 可停止。{zh_zone}",
        ),
    )


def render_digest_off(*, was_set: bool, language: Language) -> Card:
    if was_set:
        return _note(
            language,
            ("Daily digest turned off", "This channel gets no more digests."),
            ("已关闭每日摘要", "本频道不再收到摘要。"),
        )
    return _note(
        language,
        ("No daily digest here", "There was no digest to turn off in this channel."),
        ("本频道没有每日摘要", "没有可关闭的摘要。"),
    )


def render_digest_status(
    *, hour: int | None, minute: int = 0, tz: str = "", set_by: str | None, language: Language
) -> Card:
    """What is set in this channel and by whom (`hour` None: nothing is set)."""
    example = f"`{COMMAND} digest 09:30`"
    if hour is None:
        return _note(
            language,
            ("No daily digest here", f"Set one with {example} (24-hour time, in your zone)."),
            ("本频道没有每日摘要", f"用 {example} 设置（24 小时制，按你的时区）。"),
        )
    when = clock_text(hour, minute, tz)
    who = mention(set_by) or "someone · 某人"
    return _note(
        language,
        (f"Daily digest at {when}", f"Set by {who}. `{COMMAND} digest off` stops it."),
        (f"每日摘要：{when}", f"由 {who} 设置。`{COMMAND} digest off` 可停止。"),
    )


def render_digest_bad_time(given: str, *, language: Language) -> Card:
    shown = code(given, 40)
    example = f"`{COMMAND} digest 09:30`"
    return _note(
        language,
        (
            "That is not a time of day",
            f"{shown} is not a 24-hour time. Use HH:MM, e.g. {example}, or "
            f"`{COMMAND} digest off`. Nothing was changed.",
        ),
        (
            "时间格式不对",
            f"{shown} 不是 24 小时制时间。请用 HH:MM，例如 {example}，或 "
            f"`{COMMAND} digest off`。没有做任何更改。",
        ),
    )


def render_digest_not_here(*, language: Language) -> Card:
    return _note(
        language,
        (
            "A digest needs a channel",
            "Set the daily digest in the channel that should receive it.",
        ),
        ("摘要需要在频道中设置", "请在要接收每日摘要的频道中设置。"),
    )


def render_digest_unavailable(*, language: Language) -> Card:
    return _note(
        language,
        ("The digest could not be changed", "The bot's store is unavailable; try again soon."),
        ("暂时无法更改摘要", "机器人的存储暂时不可用，请稍后再试。"),
    )


#: Digests a Home tab lists (one line each, in one section).
MAX_HOME_DIGESTS: Final = 20


def home_digests(digests: Sequence[DigestSetting] | None, language: Language) -> list[Block]:
    """The Home tab's section on the digests the person set (one block, whatever the count)."""
    title = f"*{pick('Your daily digests', '你设置的每日摘要', language)}*"
    if digests is None:
        note = pick("Could not read your digests just now.", "暂时无法读取每日摘要。", language)
    elif not digests:
        note = pick(
            f"None. `{COMMAND} digest 09:30` in a channel posts there each morning what is "
            "still stuck and what finished.",
            f"暂无。在频道中输入 `{COMMAND} digest 09:30`，"
            "每天早上在该频道汇总仍未完成和已结束的流程。",
            language,
            "\n",
        )
    else:
        lines = [
            f"• <#{d.channel_id}> · {clock_text(d.hour, d.minute, d.tz)}"
            for d in digests[:MAX_HOME_DIGESTS]
        ]
        if len(digests) > MAX_HOME_DIGESTS:
            hidden = len(digests) - MAX_HOME_DIGESTS
            lines.append(pick(f"…and {hidden} more", f"…另有 {hidden} 个", language))
        note = "\n".join(lines)
    return [SectionBlock(text=MarkdownTextObject(text=f"{title}\n{note}"))]
