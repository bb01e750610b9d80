"""Notes: the short cards with no flow to show, in English, 中文 or both.

A one-line note (`render_note`, `render_note_in`, and `Note`, one waiting for its reader's
language), a failed lookup, the help text, and what part of a request was not looked up.

Error cards say what went wrong in words from `esign_errors`, never `repr()`, a traceback or
the error's own (English, operator's) detail: those belong in the logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.cards.card import Card, flow_actions

# EXAMPLE_FLOW_ID lives with the invalid-id words; re-exported for the other notes.
from bot.cards.esign_errors import EXAMPLE_FLOW_ID as EXAMPLE_FLOW_ID
from bot.cards.esign_errors import error_detail, error_emoji, error_title
from bot.cards.limits import ID_LIMIT, TOP_TEXT_LIMIT
from bot.cards.mrkdwn import code, escape, mention, truncate
from bot.esign.errors import EsignError
from bot.language import Language, pick
from bot.slack.ids import COMMAND

#: A note not yet put into words: rendered once the reader's language is known.
Note = Callable[[Language], "Card"]

TITLE_LIMIT: Final = 150
DETAIL_LIMIT: Final = 1_500

NOTE_EMOJI: Final = ":information_source:"


def render_error(
    error: EsignError,
    *,
    flow_id: str | None = None,
    thread_ts: str | None = None,
    requested_by: str | None = None,
    language: Language = "both",
) -> Card:
    # Our words, but they quote e签宝's messages and the gateway's reasons: escape them all.
    title = escape(pick(*error_title(error), language, " · "), TITLE_LIMIT)
    detail = escape(pick(*error_detail(error), language, "\n"), DETAIL_LIMIT, keep_newlines=True)
    body = f"{error_emoji(error)} *{title}*"
    if detail:
        body += f"\n{detail}"
    facts: list[str] = []
    if error.code is not None:
        facts.append(_fact(f"e签宝 code {error.code}", f"e签宝 错误码 {error.code}", language))
    if flow_id:
        facts.append(_fact("flow", "流程", language) + f" {code(flow_id, ID_LIMIT)}")
    who = mention(requested_by)
    if who is not None:
        facts.append(_fact(f"requested by {who}", f"{who} 查询", language))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=body))]
    if facts:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(facts))]))
    # Asking again only helps when the failure may pass (timeouts, rate limits, outages).
    actions = (
        flow_actions(flow_id, thread_ts=thread_ts, requested_by=requested_by, language=language)
        if error.transient
        else None
    )
    if actions is not None:
        blocks.append(actions)

    top = title
    if flow_id:
        top += f" ({_fact('flow', '流程', language)} {escape(flow_id, ID_LIMIT)})"
    if error.code is not None:
        top += f" — {_fact('e签宝 code', 'e签宝 错误码', language)} {error.code}"
    return Card(text=_top(top), blocks=blocks)


def _fact(en: str, zh: str, language: Language) -> str:
    """A short label beside an id or a number: one language is enough when both are read."""
    return zh if language == "zh" else en


def render_help(command: str = COMMAND, language: Language = "both") -> Card:
    cmd = code(command, 40)
    flow = code(f"{command} <flowId>", 80)
    several = code(f"{command} <flowId> <flowId> …", 80)
    watch = code(f"{command} watch <flowId>", 80)
    unwatch = code(f"{command} unwatch <flowId>", 80)
    watching = code(f"{command} watching", 60)
    digest = code(f"{command} digest 09:30", 60)
    help_ = code(f"{command} help", 60)
    auto = code(f"{command} auto on", 60)
    usage_en = "\n".join(
        [
            "*Look up an e签宝 identity verification flow (认证流程)*",
            f"• {flow} — show where the flow stands, sub-flow by sub-flow (only you see the "
            "answer; *Share* posts it to the channel).",
            f"• {several} — several flows at once, separated by spaces.",
            f"• {watch} — tell me (by DM) when the flow moves; {unwatch} stops it, "
            f"{watching} lists this channel's watches. *Watch* on a posted card tells its "
            "thread instead.",
            f"• {digest} — each day at that time (your zone), the channel gets what it was "
            "shown: what is still stuck, what finished. `digest off` stops it.",
            f"• {auto} — in a channel: messages naming flow ids get their cards in the "
            "thread (`auto off` stops it, `auto` says whether it is on).",
            f"• {cmd} or {help_} — this help.",
            f"A flow id is a long number such as `{EXAMPLE_FLOW_ID}`.",
        ]
    )
    usage_zh = "\n".join(
        [
            "*查询 e签宝 认证流程*",
            f"• {flow} — 逐个子流程显示该流程的进展（只有你能看到；点 *分享到频道* 发到频道）。",
            f"• {several} — 一次查询多个流程，用空格分隔。",
            f"• {watch} — 流程有变化时私信通知你；{unwatch} 取消，"
            f"{watching} 列出本频道关注的流程。在频道卡片上点 *关注* 则在话题中通知。",
            f"• {digest} — 每天这个时间（你的时区）在频道汇总仍未完成和已结束的流程；"
            "`digest off` 停止。",
            f"• {auto} — 在频道中开启：提到流程 ID 的消息会在话题中收到卡片"
            "（`auto off` 关闭，`auto` 查看是否开启）。",
            f"• {cmd} 或 {help_} — 显示本帮助。",
            f"流程 ID 是一串长数字，例如 `{EXAMPLE_FLOW_ID}`。",
        ]
    )
    shortcut_en = (
        ":thread: In a thread, slash commands do not work: open the *⋯ More actions* menu on a "
        "message that mentions a flow id and pick the e签宝 flow shortcut; the answer goes "
        "to that thread."
    )
    shortcut_zh = (
        ":thread: 话题中不能用斜杠命令：在提到流程 ID 的消息上打开 *⋯ 更多操作* 菜单，"
        "选择 e签宝 流程快捷方式，回答会发到该话题。"
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=pick(usage_en, usage_zh, language, "\n\n"))),
        ContextBlock(
            elements=[MarkdownTextObject(text=pick(shortcut_en, shortcut_zh, language, "\n"))]
        ),
    ]
    name = escape(command, 40)
    top = pick(f"How to use {name}", f"{name} 用法", language, " · ")
    return Card(text=_top(f"{top}: {name} &lt;flowId&gt;"), blocks=blocks)


def render_note(title: str, detail: str) -> Card:
    """A one-off message in plain words; both parts are escaped, so callers pass plain text."""
    safe_title = escape(title, TITLE_LIMIT)
    safe_detail = escape(detail, DETAIL_LIMIT, keep_newlines=True)
    body = f"{NOTE_EMOJI} *{safe_title}*" if safe_title else NOTE_EMOJI
    if safe_detail:
        body += f"\n{safe_detail}"
    # Slack needs a non-empty top-level text for notifications, even for an empty note.
    top = ": ".join(part for part in (safe_title, safe_detail) if part) or "Note"
    return Card(text=_top(top), blocks=[SectionBlock(text=MarkdownTextObject(text=body))])


def render_note_in(language: Language, en: tuple[str, str], zh: tuple[str, str]) -> Card:
    """A note given as (title, detail) in English and in 中文, in the reader's language; both
    titles on one line and both details one under the other when the reader reads both."""
    if language == "en":
        return render_note(*en)
    if language == "zh":
        return render_note(*zh)
    return render_note(f"{en[0]} · {zh[0]}", f"{en[1]}\n{zh[1]}")


def _top(text: str) -> str:
    return truncate(text, TOP_TEXT_LIMIT)


def render_request_problems(
    rejected: list[str], *, over_cap: int, cap: int, language: Language = "both"
) -> Card | None:
    """What part of a request was not looked up, or None when all of it was."""
    lines = []
    if rejected:
        shown = ", ".join(code(token, ID_LIMIT) for token in rejected)
        lines.append(
            pick(
                f"Not flow ids, skipped: {shown}. A flow id is a long number such as "
                f"`{EXAMPLE_FLOW_ID}`.",
                f"不是流程 ID，已跳过：{shown}。流程 ID 是一串长数字，例如 `{EXAMPLE_FLOW_ID}`。",
                language,
                "\n",
            )
        )
    if over_cap:
        lines.append(
            pick(
                f"Only the first {cap} flow ids are looked up at a time; "
                f"{over_cap} more were left out.",
                f"一次只查询前 {cap} 个流程 ID；其余 {over_cap} 个未查询。",
                language,
                "\n",
            )
        )
    if not lines:
        return None
    title = pick("Some of that was not looked up", "部分内容未查询", language, " · ")
    body = f"{NOTE_EMOJI} *{title}*\n" + "\n".join(lines)
    return Card(
        text=_top(f"{title}: " + " ".join(lines)),
        blocks=[SectionBlock(text=MarkdownTextObject(text=body))],
    )


def request_problems_note(rejected: list[str], *, over_cap: int, cap: int) -> Note | None:
    """`render_request_problems` waiting for its reader's language; None when nothing is wrong."""
    if not rejected and not over_cap:
        return None

    def note(language: Language) -> Card:
        card = render_request_problems(rejected, over_cap=over_cap, cap=cap, language=language)
        assert card is not None  # noqa: S101 (there is a problem to tell, checked above)
        return card

    return note
