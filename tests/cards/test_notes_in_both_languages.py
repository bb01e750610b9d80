"""Every note the bot can send exists in English and in 中文, chosen by the reader's language."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from bot.cards import (
    Card,
    Notice,
    PublicAnswer,
    render_bad_button,
    render_error,
    render_help,
    render_incident,
    render_not_posted,
    render_notice,
    render_refusal,
    render_request_problems,
)
from bot.cards.notices import refusal_words
from bot.cards.step import step_failure_message
from bot.cards.watch import WatchRefusal, render_unwatched, render_watch_list, render_watch_refusal
from bot.esign.errors import EsignUnavailable, FlowNotFound, InvalidFlowId
from bot.language import Language, language_of_locale
from bot.slack.access import Refusal
from bot.slack.button_value import BadFlowPart

FLOW = "803719636976683872"
NOT_FOUND = FlowNotFound(FLOW, code=30500001, message="no such flow")
CJK = re.compile(r"[\u4e00-\u9fff]")
# The product's own name is written with Chinese characters in every language.
PRODUCT = re.compile(r"e签宝|认证流程")

Words = Callable[[Language], Card | str]

NOTES: dict[str, Words] = {
    **{f"notice {n}": (lambda lang, n=n: render_notice(n, lang)) for n in Notice},
    **{f"refusal {r}": (lambda lang, r=r: render_refusal(r, lang)) for r in Refusal},
    **{f"refusal words {r}": (lambda lang, r=r: refusal_words(r, lang)) for r in Refusal},
    **{
        f"watch refusal {r}": (
            lambda lang, r=r: render_watch_refusal(r, flow_id=FLOW, limit=3, language=lang)
        )
        for r in WatchRefusal
    },
    "incident": lambda lang: render_incident("abc123", lang),
    "bad button": lambda lang: render_bad_button(BadFlowPart("bad flow part"), lang),
    "help": lambda lang: render_help(language=lang),
    "request problems": lambda lang: (
        render_request_problems(["x"], over_cap=2, cap=5, language=lang) or ""
    ),
    "not watched": lambda lang: render_unwatched(FLOW, count=0, language=lang),
    "unwatched": lambda lang: render_unwatched(FLOW, count=1, language=lang),
    "no watches": lambda lang: render_watch_list([], lang),
    "watches": lambda lang: render_watch_list([(FLOW, "U1", True), (FLOW, None, False)], lang),
    "flow not found": lambda lang: render_error(NOT_FOUND, flow_id=FLOW, language=lang),
    "step restarting": lambda lang: step_failure_message(
        None, flow_id=FLOW, restarting=True, language=lang
    ),
    "step bad id": lambda lang: step_failure_message(
        InvalidFlowId("x"), flow_id="x", language=lang
    ),
    "step no id": lambda lang: step_failure_message(
        InvalidFlowId("x"), flow_id=None, language=lang
    ),
    "step not found": lambda lang: step_failure_message(NOT_FOUND, flow_id=FLOW, language=lang),
    "step unavailable": lambda lang: step_failure_message(
        EsignUnavailable("x"), flow_id=FLOW, language=lang
    ),
    "step bug": lambda lang: step_failure_message(None, flow_id=FLOW, language=lang),
    **{
        f"not posted {a} {here} {direct}": (
            lambda lang, a=a, here=here, direct=direct: render_not_posted(
                a, not_allowed_here=here, direct=direct, flow_id=FLOW, language=lang
            )
        )
        for a in PublicAnswer
        for here in (True, False)
        for direct in (True, False)
    },
}


def _read(words: Card | str) -> str:
    """What a person reads: the top-level text and every text in the blocks."""
    if isinstance(words, str):
        return words
    return json.dumps(words.to_message(), ensure_ascii=False)


@pytest.mark.parametrize("name", sorted(NOTES))
def test_each_note_speaks_each_language(name: str) -> None:
    en = _read(NOTES[name]("en"))
    zh = _read(NOTES[name]("zh"))
    both = _read(NOTES[name]("both"))
    assert en.strip() and zh.strip()
    # e签宝 errors may quote e签宝's own detail; ours never carry Chinese in English.
    assert not CJK.search(PRODUCT.sub("", en)), en
    assert CJK.search(PRODUCT.sub("", zh)), zh
    assert zh != en
    assert CJK.search(PRODUCT.sub("", both)) and re.search(r"[A-Za-z]{4}", both)


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("zh-CN", "zh"),
        ("zh-TW", "zh"),
        ("zh_HK", "zh"),
        ("ZH-cn", "zh"),
        ("en-US", "both"),
        ("ja-JP", "both"),
        ("", "both"),
        (None, "both"),
        ("zhx", "both"),
    ],
)
def test_a_slack_locale_picks_chinese_or_both(locale: str | None, language: Language) -> None:
    assert language_of_locale(locale) == language
