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
from bot.cards.card import flow_actions
from bot.cards.esign_errors import error_detail, error_title
from bot.cards.notices import refusal_words
from bot.cards.step import step_failure_message
from bot.cards.watch import WatchRefusal, render_unwatched, render_watch_list, render_watch_refusal
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
    RateLimitSource,
    UnavailableReason,
    UnexpectedReason,
    UnexpectedResponse,
)
from bot.language import Language, language_of_locale
from bot.slack.access import Refusal
from bot.slack.button_value import BadFlowPart
from bot.slack.ids import ACTION_RECHECK, ACTION_SHARE, ACTION_UNWATCH, ACTION_WATCH

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
        InvalidFlowId(InvalidFlowIdReason.BAD_CHARACTERS), flow_id="x", language=lang
    ),
    "step no id": lambda lang: step_failure_message(
        InvalidFlowId(InvalidFlowIdReason.EMPTY), flow_id=None, language=lang
    ),
    "step not found": lambda lang: step_failure_message(NOT_FOUND, flow_id=FLOW, language=lang),
    "step unavailable": lambda lang: step_failure_message(
        EsignUnavailable(), flow_id=FLOW, language=lang
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


#: e签宝's own words, quoted as they are in every language (they are e签宝's, not ours).
ESIGN_SAYS = "认证流程不存在"
#: One of each error the bot can meet, with each reason and fact that changes its words.
ERRORS: dict[str, EsignError] = {
    **{f"invalid {r}": InvalidFlowId(r, length=70, max_length=64) for r in InvalidFlowIdReason},
    "not found": FlowNotFound(FLOW, code=30500001, message=ESIGN_SAYS),
    "not found, no message": FlowNotFound(FLOW, code=30500004, message=""),
    **{
        f"gateway {reason}": GatewayRejected(401, reason)
        for reason in (
            "INVALID_TIMESTAMP",
            "无效的应用",
            "INVALID_SIGNATURE",
            "AUTHSTRATEGY_NOT_FOUND",
            "缺少参数",
            "TOKEN错误",
            "IP白名单不匹配",
            "HTTP 403",
        )
    },
    **{
        f"rate limited {source} {after}": RateLimited(source, retry_after=after)
        for source in RateLimitSource
        for after in (None, 0.4, 12.0)
    },
    **{
        f"unavailable {r}": EsignUnavailable(r, status=503, error_name="ConnectError", retry_in=9)
        for r in UnavailableReason
    },
    "unavailable, bare": EsignUnavailable(UnavailableReason.HTTP_STATUS),
    "circuit open": CircuitOpen(12),
    **{f"unexpected {r}": UnexpectedResponse(r, status=404, problems=3) for r in UnexpectedReason},
    "business": EsignBusinessError(code=30503107, message=ESIGN_SAYS),
    "business, no message": EsignBusinessError(code=30503107, message=""),
    "any other": EsignError("something odd"),
}
#: e签宝's words an English text may quote: its message, and the gateway's reasons.
QUOTED = re.compile(ESIGN_SAYS + "|无效的应用|缺少参数|TOKEN错误|IP白名单不匹配")


@pytest.mark.parametrize("name", sorted(ERRORS))
@pytest.mark.parametrize("language", ["en", "zh", "both"])
def test_each_error_kind_speaks_each_language(name: str, language: Language) -> None:
    error = ERRORS[name]
    (title_en, title_zh), (detail_en, detail_zh) = error_title(error), error_detail(error)
    assert all(words.strip() for words in (title_en, title_zh, detail_en, detail_zh))
    assert not CJK.search(PRODUCT.sub("", QUOTED.sub("", title_en + detail_en))), detail_en
    assert CJK.search(PRODUCT.sub("", title_zh)) and CJK.search(PRODUCT.sub("", detail_zh))
    for words in (
        _read(render_error(error, flow_id=FLOW, language=language)),
        step_failure_message(error, flow_id=FLOW, language=language),
    ):
        plain = PRODUCT.sub("", QUOTED.sub("", words))
        assert plain.strip()
        if language == "en":
            assert not CJK.search(plain), words
        else:
            assert CJK.search(plain), words
        if language == "zh":
            # English words only where they name something: env settings, HTTP, ids, e签宝.
            assert title_en not in words
        if language != "zh":
            assert re.search(r"[A-Za-z]{4}", plain), words


def test_e签宝s_own_message_is_quoted_as_it_is_in_both_languages() -> None:
    for error in (ERRORS["not found"], ERRORS["business"]):
        en, zh = error_detail(error)
        assert ESIGN_SAYS in en and ESIGN_SAYS in zh


@pytest.mark.parametrize("language", ["en", "zh", "both"])
def test_card_buttons_speak_the_readers_language_and_route_the_same(language: Language) -> None:
    block = flow_actions(FLOW, thread_ts="17.5", share=True, watch="watch", language=language)
    unwatch = flow_actions(FLOW, recheck=False, watch="unwatch", language=language)
    assert block is not None and unwatch is not None
    elements = [*block.to_dict()["elements"], *unwatch.to_dict()["elements"]]
    assert [e["action_id"] for e in elements] == [
        ACTION_RECHECK, ACTION_WATCH, ACTION_SHARE, ACTION_UNWATCH
    ]  # fmt: skip
    assert [e["value"] for e in elements] == [f"{FLOW}|17.5"] * 3 + [FLOW]
    for element in elements:
        text, spoken = element["text"]["text"], element["accessibility_label"]
        assert 0 < len(text) <= 75 and 0 < len(spoken) <= 75
        if language == "en":
            assert not CJK.search(PRODUCT.sub("", text + spoken)), text
        else:
            assert CJK.search(PRODUCT.sub("", text)) and CJK.search(PRODUCT.sub("", spoken))
        words = re.sub(r":[a-z_]+:", "", text)  # an emoji's shortcode is not English
        assert bool(re.search(r"[A-Za-z]{4}", words)) is (language != "zh"), text
    if language == "both":
        assert elements[0]["text"]["text"] == ":arrows_counterclockwise: Recheck · 重新查询"


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
