"""What a Slack user sees for a flow, and proof the card stays inside Slack's limits.

`assert_within_slack_limits` and `assert_no_foreign_markup` check the serialized message
independently of the renderer's own budgets (test_notes.py reuses them).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.cards import ACTIONS_BLOCK_ID, Card, OutlineBodies, render_outline
from bot.cards.labels import flow_status_label, sub_flow_status_label, sub_flow_type_label
from bot.cards.mrkdwn import code, escape, plain, truncate
from bot.cards.outline import Watching
from bot.cards.sub_flow_rows import progress
from bot.cards.times import date_token, human_age
from bot.esign.models import FlowOutline, FlowStatus, SubFlowStatus, SubFlowType
from bot.flows.snapshot import FlowSnapshot
from bot.slack.button_value import ButtonValue
from bot.slack.ids import ACTION_RECHECK, ACTION_SHARE, ACTION_UNWATCH, ACTION_WATCH
from stand_ins.esign_simulator.catalogue import DOC_EXAMPLE_ID, catalogue_outline

# --- Slack's Block Kit limits, checked on the serialized message --------------------------------

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
#: Sum of all visible text; Slack answers msg_blocks_too_long from about 13,000 characters.
MAX_TOTAL_TEXT = 12_000
MAX_JSON = 20_000


def units(text: str) -> int:
    """UTF-16 length: the strictest way Slack might count."""
    return len(text.encode("utf-16-le")) // 2


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    text = message["text"]
    assert isinstance(text, str) and text.strip(), "top-level text is required"
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= MAX_BLOCKS, len(blocks)
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)), block_ids
    for block in blocks:
        assert units(block.get("block_id", "")) <= MAX_ID
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < units(block["text"]["text"]) <= MAX_HEADER_TEXT
        elif kind == "section":
            assert "text" in block or block.get("fields"), block
            if "text" in block:
                assert 0 < units(block["text"]["text"]) <= MAX_SECTION_TEXT
            fields = block.get("fields", [])
            assert len(fields) <= MAX_FIELDS
            for field in fields:
                assert 0 < units(field["text"]) <= MAX_FIELD_TEXT
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
            for element in block["elements"]:
                assert 0 < units(element["text"]) <= MAX_SECTION_TEXT
        elif kind == "actions":
            elements = block["elements"]
            assert 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS
            action_ids = [element["action_id"] for element in elements]
            assert len(action_ids) == len(set(action_ids))
            for element in elements:
                assert element["type"] == "button"
                assert element["text"]["type"] == "plain_text"
                assert units(element["text"]["text"]) <= MAX_BUTTON_TEXT
                assert 0 < units(element.get("value", "x")) <= MAX_BUTTON_VALUE
                assert units(element["action_id"]) <= MAX_ID
        else:
            assert kind == "divider", kind
    assert sum(units(text) for text in _texts(blocks)) <= MAX_TOTAL_TEXT
    assert len(json.dumps(message, ensure_ascii=False)) <= MAX_JSON


# Our own markup: date tokens and a validated user mention. Nothing else may open a `<...>`.
OWN_TOKEN = re.compile(r"<!date\^\d+\^\{[a-z_]+\}(?: \{[a-z_]+\})?\|[0-9: -]+UTC>|<@[UW][A-Z0-9]+>")
ENTITY = re.compile(r"&(amp|lt|gt);")
FOREIGN = ("<!", "<@", "<#", "<http", "<mailto", "\u202e", "\u200f", "\x00", "\x1b")


def assert_no_foreign_markup(message: dict[str, Any]) -> None:
    """Every `<`, `>` and `&` that Slack would parse is one the renderer put there on purpose."""
    for block in message["blocks"]:
        if block["type"] == "header":
            header = block["text"]["text"]
            assert not set("<>&") & set(header), header
    for text in [message["text"], *_texts(message["blocks"])]:
        stripped = OWN_TOKEN.sub("", text)
        assert "<" not in stripped and ">" not in stripped, text
        assert ENTITY.sub("", stripped).count("&") == 0, text
        for sequence in FOREIGN:
            assert sequence not in stripped, (sequence, text)


def check(card: Card) -> dict[str, Any]:
    """Serialize through slack_sdk (whose to_dict() validates) and apply our checks."""
    message = card.to_message()
    assert_within_slack_limits(message)
    assert_no_foreign_markup(message)
    return message


# --- building flows ------------------------------------------------------------------------

FETCHED = datetime(2026, 3, 1, 9, 30, 12, tzinfo=UTC)
FLOW_ID = "803719636976683872"


def doc_example() -> dict[str, Any]:
    """The response example of e签宝's outline page, as valid JSON (the simulator's copy)."""
    outline = catalogue_outline(DOC_EXAMPLE_ID)
    assert outline is not None
    return outline


def snapshot(
    data: dict[str, Any] | None = None,
    *,
    from_cache: bool = False,
    simulated: bool = False,
    **changes: Any,
) -> FlowSnapshot:
    payload = {**(doc_example() if data is None else data), **changes}
    return FlowSnapshot(
        outline=FlowOutline.model_validate(payload),
        fetched_at=FETCHED,
        from_cache=from_cache,
        simulated=simulated,
    )


def render_outline_card(snap: FlowSnapshot | None = None, **kwargs: Any) -> Card:
    options: dict[str, Any] = {"now": FETCHED, "ephemeral": False, **kwargs}
    return render_outline(snap or snapshot(), **options)


def render(snap: FlowSnapshot | None = None, **kwargs: Any) -> dict[str, Any]:
    return check(render_outline_card(snap, **kwargs))


def blocks_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in message["blocks"] if block["type"] == kind]


def all_text(message: dict[str, Any]) -> str:
    return "\n".join([message["text"], *_texts(message["blocks"])])


def header(message: dict[str, Any]) -> str:
    text: str = blocks_of(message, "header")[0]["text"]["text"]
    return text


def footer(message: dict[str, Any]) -> str:
    text: str = blocks_of(message, "context")[-1]["elements"][0]["text"]
    return text


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    actions = blocks_of(message, "actions")
    return actions[0]["elements"] if actions else []


# --- the doc example -----------------------------------------------------------------------


def test_doc_example_reads_as_a_card() -> None:
    message = render()
    assert message["text"] == (
        f"e签宝 flow {FLOW_ID}: In progress 进行中 — 0 of 2 sub-flows succeeded · 2 in progress"
    )
    assert header(message) == f":hourglass_flowing_sand: Flow {FLOW_ID} · In progress 进行中"
    overview = blocks_of(message, "section")[0]["fields"]
    assert [field["text"].split("\n")[0] for field in overview] == [
        "*Subject 主体*",
        "*Status 状态*",
        "*Context id 上下文*",
        "*Created 创建*",
        "*Last changed 更新*",
    ]
    assert overview[0]["text"].endswith(":office: Organization 企业")
    assert overview[2]["text"].endswith("`8ccce54b-4d40-4dcc-a7ac-464e41f2b468`")
    sub_flows = blocks_of(message, "section")[1]["text"]["text"]
    assert sub_flows.startswith("*Sub-flows 子流程:* 0 of 2 sub-flows succeeded · 2 in progress")
    assert (
        ":hourglass_flowing_sand: Company random-amount bank transfer · 企业随机金额打款"
        " — In progress 进行中 `5ffbafb2-c3be-45ba-bfeb-fda1f8eb083d`"
    ) in sub_flows
    related = blocks_of(message, "section")[2]["text"]["text"]
    assert "`802965095964494307`" in related
    assert ":white_check_mark: Succeeded 已成功 · :bust_in_silhouette: Individual 个人" in related
    assert "Personal bank card 4-factor check · 个人银行卡四要素 — Succeeded 成功" in related
    # Same context id as the main flow: not repeated.
    assert "Context id" not in related
    assert blocks_of(message, "divider")
    assert "Fail reason" not in all_text(message)


def test_header_is_plain_text_with_emoji() -> None:
    block = blocks_of(render(), "header")[0]
    assert block["text"] == {
        "type": "plain_text",
        "text": f":hourglass_flowing_sand: Flow {FLOW_ID} · In progress 进行中",
        "emoji": True,
    }


# --- every status, every type ----------------------------------------------------------------


@pytest.mark.parametrize("status", list(FlowStatus))
def test_every_flow_status_shows_its_words(status: FlowStatus) -> None:
    label = flow_status_label(status)
    message = render(snapshot(flowStatus=status.value))
    assert header(message) == f"{label.emoji} Flow {FLOW_ID} · {label.en} {label.zh}"
    assert f"{label.en} {label.zh}" in message["text"]
    status_field = blocks_of(message, "section")[0]["fields"][1]["text"]
    assert status_field == f"*Status 状态*\n{label.emoji} {label.en} {label.zh}"


@pytest.mark.parametrize("status", list(SubFlowStatus))
def test_every_sub_flow_status_shows_its_words(status: SubFlowStatus) -> None:
    label = sub_flow_status_label(status)
    subs = [{"subFlowId": "s-1", "subFlowType": "AUTHCODE", "status": status.value}]
    text = blocks_of(render(snapshot(subFlows=subs)), "section")[1]["text"]["text"]
    assert (f"{label.emoji} SMS code check · 短信验证码校验 — {label.en} {label.zh} `s-1`") in text


@pytest.mark.parametrize("kind", list(SubFlowType))
def test_every_sub_flow_type_shows_english_and_chinese(kind: SubFlowType) -> None:
    label = sub_flow_type_label(kind)
    subs = [{"subFlowId": "s-1", "subFlowType": kind.value, "status": "ING"}]
    text = blocks_of(render(snapshot(subFlows=subs)), "section")[1]["text"]["text"]
    assert f"{label.en} · {label.zh}" in text
    assert kind.value not in text  # users read words, not e签宝's constant names


def test_unknown_values_render_raw_with_a_neutral_emoji() -> None:
    message = render(
        snapshot(
            flowStatus="PENDING_REVIEW",
            objectType="GOVERNMENT",
            subFlows=[{"subFlowId": "s-1", "subFlowType": "FACEAUTH_FUTURE_X", "status": "PAUSED"}],
        )
    )
    assert header(message) == f":grey_question: Flow {FLOW_ID} · PENDING_REVIEW"
    assert ": PENDING_REVIEW — " in message["text"]
    overview = blocks_of(message, "section")[0]["fields"]
    assert overview[0]["text"].endswith(":grey_question: `GOVERNMENT`")
    assert overview[1]["text"].endswith(":grey_question: `PENDING_REVIEW`")
    text = blocks_of(message, "section")[1]["text"]["text"]
    assert ":grey_question: `FACEAUTH_FUTURE_X` — `PAUSED` `s-1`" in text
    assert "0 of 1 sub-flow succeeded · 1 other" in text


def test_missing_fields_still_render() -> None:
    message = render(snapshot({}))
    assert header(message) == ":grey_question: Flow (no id) · Not given 未提供"
    overview = blocks_of(message, "section")[0]["fields"]
    assert overview[2]["text"].endswith("\n—")  # no context id
    assert overview[3]["text"].endswith("\n—")  # no create time
    assert "no sub-flows yet" in all_text(message)
    assert buttons(message) == []  # nothing to recheck without an id


# --- times, cache, requester ---------------------------------------------------------------


def test_times_are_slack_date_tokens_with_a_utc_fallback() -> None:
    overview = blocks_of(render(), "section")[0]["fields"]
    assert overview[3]["text"] == (
        "*Created 创建*\n<!date^1562656814^{date_short_pretty} {time}|2019-07-09 07:20 UTC>"
    )
    assert overview[4]["text"] == (
        "*Last changed 更新*\n<!date^1562656874^{date_short_pretty} {time}|2019-07-09 07:21 UTC>"
    )
    assert date_token(None) == "—"
    # e签宝 sends 0 for "not set"; that is not a date in 1970.
    overview = blocks_of(render(snapshot(createTime=0)), "section")[0]["fields"]
    assert overview[3]["text"] == "*Created 创建*\n—"
    # A naive time is UTC, not the host's local zone.
    assert date_token(datetime(2026, 3, 1, 9, 30)) == date_token(
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    )


def test_fresh_answer_says_when_it_was_fetched() -> None:
    text = footer(render())
    assert text == (
        "Fetched <!date^1772357412^{date_short_pretty} {time_secs}|2026-03-01 09:30:12 UTC>"
        " from e签宝"
    )
    assert int(FETCHED.timestamp()) == 1772357412


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(seconds=12.4), "12 s"),
        (timedelta(seconds=200), "3 min"),
        (timedelta(hours=2, minutes=5), "2 h"),
        (timedelta(seconds=-3), "0 s"),
    ],
)
def test_cached_answer_says_how_old_it_is(age: timedelta, words: str) -> None:
    text = footer(render(snapshot(from_cache=True), now=FETCHED + age))
    assert text.endswith(f" from e签宝 · cached, {words} old")
    # A naive `now` is read as UTC rather than failing on aware-minus-naive.
    naive = footer(render(snapshot(from_cache=True), now=(FETCHED + age).replace(tzinfo=None)))
    assert naive == text


def test_requester_is_mentioned_only_with_a_real_user_id() -> None:
    assert footer(render(requested_by="U0123ABCD")).endswith(" · requested by <@U0123ABCD>")
    assert footer(render(requested_by="W0123ABCD")).endswith(" · requested by <@W0123ABCD>")
    for bogus in ("<!channel>", "u0123abcd", "U1", "U0123ABCD> <!here", "", "C0123ABCD"):
        assert "requested by" not in footer(render(requested_by=bogus)), bogus


# --- banner and buttons --------------------------------------------------------------------


def test_simulated_data_is_flagged_at_the_top() -> None:
    message = render(snapshot(simulated=True))
    first = message["blocks"][0]
    assert first["type"] == "context"
    assert first["elements"][0]["text"] == (":test_tube: *Simulated e签宝 data — not a real flow*")
    assert message["text"].startswith("[Simulated] ")
    real = render()
    assert "Simulated" not in all_text(real)


def test_share_only_on_ephemeral_cards() -> None:
    in_channel = buttons(render(ephemeral=False))
    assert [(b["action_id"], b["value"]) for b in in_channel] == [
        (ACTION_RECHECK, FLOW_ID),
        (ACTION_WATCH, FLOW_ID),
    ]
    ephemeral = buttons(render(ephemeral=True))
    assert [(b["action_id"], b["value"]) for b in ephemeral] == [
        (ACTION_RECHECK, FLOW_ID),
        (ACTION_WATCH, FLOW_ID),
        (ACTION_SHARE, FLOW_ID),
    ]
    assert blocks_of(render(), "actions")[0]["block_id"] == ACTIONS_BLOCK_ID
    assert render()["blocks"][-1]["type"] == "actions"


def test_no_share_where_the_bot_cannot_post() -> None:
    in_a_dm = buttons(render(ephemeral=True, offer_share=False))
    assert [b["action_id"] for b in in_a_dm] == [ACTION_RECHECK, ACTION_WATCH]


def test_buttons_carry_the_thread_for_the_action_handler() -> None:
    values = [b["value"] for b in buttons(render(thread_ts="1700000000.123456", ephemeral=True))]
    assert values == [f"{FLOW_ID}|1700000000.123456"] * 3
    assert all(ButtonValue.decode(value).thread_ts == "1700000000.123456" for value in values)
    # A thread the handler would refuse is dropped rather than breaking the button.
    assert {b["value"] for b in buttons(render(thread_ts="not|a ts"))} == {FLOW_ID}


def test_posted_cards_remember_who_asked_in_their_buttons() -> None:
    posted = render(thread_ts="1700000000.123456", requested_by="U0PLAYER1")
    [value] = set(b["value"] for b in buttons(posted))
    assert ButtonValue.decode(value) == ButtonValue(FLOW_ID, "1700000000.123456", "U0PLAYER1")
    # A requester the handler would refuse is left out; the thread stays.
    odd = render(thread_ts="1700000000.123456", requested_by="<!here>")
    assert {b["value"] for b in buttons(odd)} == {f"{FLOW_ID}|1700000000.123456"}


def test_no_buttons_for_an_id_the_lookup_would_refuse() -> None:
    assert buttons(render(snapshot(flowId="<!channel>"))) == []


# --- fail reasons --------------------------------------------------------------------------


def test_fail_reason_gets_its_own_section() -> None:
    reason = "银行卡信息不匹配 (card & name mismatch)"
    message = render(snapshot(flowStatus="FAIL", failReason=reason))
    sections = [b["text"]["text"] for b in blocks_of(message, "section") if "text" in b]
    assert "*Fail reason 失败原因*\n银行卡信息不匹配 (card &amp; name mismatch)" in sections


def test_related_flow_shows_its_own_fail_reason_and_context() -> None:
    data = doc_example()
    data["relatedFlows"][0].update(
        flowStatus="FAIL", failReason="人脸比对不通过", contextId="other-context"
    )
    related = blocks_of(render(snapshot(data)), "section")[2]["text"]["text"]
    assert ":x: Failed 已失败" in related
    assert "*Fail reason 失败原因:* 人脸比对不通过" in related
    assert "Context id 上下文 `other-context`" in related


# --- size ------------------------------------------------------------------------------------


def big_flow() -> dict[str, Any]:
    kinds = list(SubFlowType)
    subs = [
        {
            "subFlowId": f"sub-{i:04d}-" + "x" * 30,
            "subFlowType": kinds[i % len(kinds)],
            "status": "SUCCESS",
        }
        for i in range(120)
    ]
    subs[117]["status"] = "FAIL"  # must survive the fold: it is what the reader is looking for
    related = [
        {
            "flowId": f"80296509596449{i:04d}",
            "flowStatus": "FAIL",
            "objectType": "INDIVIDUAL",
            "contextId": f"ctx-{i}",
            "failReason": "原因" * 400,
            "subFlows": [
                {"subFlowId": f"r{i}-{j}", "subFlowType": "FACEAUTH_ZMXY", "status": "ING"}
                for j in range(10)
            ],
        }
        for i in range(30)
    ]
    return {
        **doc_example(),
        "flowStatus": "FAIL",
        "failReason": "失败" * 2500,
        "contextId": "c" * 5000,
        "subFlows": subs,
        "relatedFlows": related,
    }


def test_oversized_flow_fits_and_says_what_it_left_out() -> None:
    message = render(
        snapshot(big_flow(), simulated=True, from_cache=True),
        ephemeral=True,
        requested_by="U0123ABCD",
    )
    text = all_text(message)
    assert re.search(r"_…and (\d+) more sub-flows_", text)
    assert re.search(r"_…and (\d+) more related flows_", text)
    assert "`sub-0117-" in text  # the failed one is kept
    main = blocks_of(message, "section")[2]["text"]["text"]
    hidden = int(re.findall(r"…and (\d+) more sub-flows", main)[0])
    shown = main.count("`sub-")
    assert shown + hidden == 120
    assert "0 of 10 sub-flows succeeded" in text
    related_shown = text.count("*Agent's verification 经办人认证*")
    related_hidden = int(re.findall(r"…and (\d+) more related flows", text)[0])
    assert related_shown >= 1 and related_shown + related_hidden == 30
    reason = blocks_of(message, "section")[1]["text"]["text"]
    assert reason.endswith("…") and units(reason) < 1600
    context_field = blocks_of(message, "section")[0]["fields"][2]["text"]
    assert context_field.endswith("…`")
    # The tail is never squeezed out by the data.
    assert footer(message).startswith("Fetched ")
    assert len(buttons(message)) == 2


def test_many_small_related_flows_stop_before_the_block_limit() -> None:
    data = {
        **doc_example(),
        "relatedFlows": [
            {"flowId": f"8029650959644{i:05d}", "flowStatus": "SUCCESS", "subFlows": []}
            for i in range(200)
        ],
    }
    message = render(snapshot(data))
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert "more related flows_" in all_text(message)


def test_any_shape_of_data_stays_within_limits() -> None:
    rng = random.Random(20260301)
    nasty = [
        "<!channel>",
        "<@U123>",
        "<https://evil.example|click>",
        "&",
        "`",
        "*_~",
        "\u202e",
        "\u200f",
        "\x00",
        "\n",
        "😀",
        "认证",
        ":smile:",
        ">",
        "&amp;",
        "\ud800",
    ]

    def junk(longest: int) -> str:
        return "".join(rng.choices(nasty, k=rng.randint(0, longest)))

    def value(known: list[str]) -> str:
        return rng.choice([*known, junk(50), ""])

    for _ in range(60):

        def sub() -> dict[str, Any]:
            return {
                "subFlowId": junk(200),
                "subFlowType": value(list(SubFlowType)),
                "status": value(list(SubFlowStatus)),
            }

        data = {
            "flowId": rng.choice([FLOW_ID, junk(300)]),
            "flowStatus": value(list(FlowStatus)),
            "objectType": value(["ORGANIZATION", "INDIVIDUAL"]),
            "contextId": junk(3000),
            "failReason": junk(6000),
            "createTime": rng.choice([None, 1562656814273, "bogus", 10**20]),
            "subFlows": [sub() for _ in range(rng.randint(0, 300))],
            "relatedFlows": [
                {
                    "flowId": junk(300),
                    "flowStatus": value(list(FlowStatus)),
                    "objectType": junk(20),
                    "contextId": junk(500),
                    "failReason": junk(2000),
                    "subFlows": [sub() for _ in range(rng.randint(0, 40))],
                }
                for _ in range(rng.randint(0, 60))
            ],
        }
        render(
            snapshot(data, simulated=rng.random() < 0.5, from_cache=rng.random() < 0.5),
            ephemeral=rng.random() < 0.5,
            requested_by=rng.choice([None, "U0123", junk(10)]),
        )


# --- hostile text ----------------------------------------------------------------------------

HOSTILE = "<!channel> <@U123> <https://evil.example|click> & `tick` \x07\u202e\u200f"


def test_hostile_text_is_escaped_everywhere() -> None:
    data = doc_example()
    data.update(
        flowId=HOSTILE,
        contextId=HOSTILE,
        failReason=HOSTILE,
        flowStatus=HOSTILE,
        objectType=HOSTILE,
    )
    data["subFlows"][0].update(subFlowId=HOSTILE, subFlowType=HOSTILE, status=HOSTILE)
    data["relatedFlows"][0].update(
        flowId=HOSTILE,
        contextId=HOSTILE + "2",
        failReason=HOSTILE,
        flowStatus=HOSTILE,
        objectType=HOSTILE,
    )
    message = render(snapshot(data), requested_by="U0123ABCD")  # checks run inside render()
    serialized = json.dumps(message, ensure_ascii=False)
    for raw in ("<!channel>", "<@U123>", "<https://evil", "\u202e", "\u200f", "\\u0007"):
        assert raw not in serialized, raw
    text = all_text(message)
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp;" in text
    # The backtick cannot close the code span early.
    assert "`&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; ˋtickˋ`" in (
        text
    )
    assert "‹!channel› ‹@U123›" in header(message)


def test_mrkdwn_helpers() -> None:
    assert escape("a & <b> \x00\u202ec", 100) == "a &amp; &lt;b&gt; c"
    # A cut never splits an entity, and the result respects the limit.
    cut = escape("&" * 50, 23)
    assert cut == "&amp;" * 4 + "…" and len(cut) <= 23
    assert escape("line1\nline2", 100) == "line1 line2"
    assert escape("line1\n\n\n\nline2", 100, keep_newlines=True) == "line1\n\nline2"
    assert code("a`b", 10) == "`aˋb`"
    assert code(None, 10) == code("  ", 10) == "—"
    assert plain("<!here> & co", 100) == "‹!here› ＆ co"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("😀😀😀", 5) == "😀😀…"  # counted as UTF-16, as Slack may
    assert human_age(59.4) == "59 s"


def test_progress_wording() -> None:
    outline = FlowOutline.model_validate(
        {"subFlows": [{"status": "SUCCESS"}, {"status": "SUCCESS"}, {"status": "FAIL"}]}
    )
    assert progress(outline.sub_flows) == "2 of 3 sub-flows succeeded · 1 failed"
    assert progress([]) == "no sub-flows yet"


def test_a_cached_outline_is_rendered_once_and_the_bodies_stay_bounded() -> None:
    bodies = OutlineBodies(maxsize=2)
    first = snapshot()
    again = FlowSnapshot(first.outline, first.fetched_at, from_cache=True)
    one = render_outline_card(first, bodies=bodies)
    two = render_outline_card(again, bodies=bodies)
    # The same outline object (a cache hit) reuses its serialized body blocks as they are.
    assert one.blocks[0].to_dict() is two.blocks[0].to_dict()
    assert one.to_message()["blocks"][:-2] == render(first)["blocks"][:-2]
    # The footer is not part of the body: it still says the answer is cached.
    assert "cached" in str(two.to_message()["blocks"][-2])
    other = [snapshot(flowId=f"80371963697668387{n}") for n in range(3)]
    for snap in other:
        render_outline_card(snap, bodies=bodies)
    assert render_outline_card(first, bodies=bodies).blocks[0].to_dict() is not (
        one.blocks[0].to_dict()
    ), "the oldest body should have been dropped to stay within maxsize"


def test_only_a_flow_that_can_still_move_offers_watch() -> None:
    for status in ("INIT", "ING"):
        ids = [b["action_id"] for b in buttons(render(snapshot(flowStatus=status)))]
        assert ids == [ACTION_RECHECK, ACTION_WATCH]
        assert [b["text"]["text"] for b in buttons(render(snapshot(flowStatus=status)))][1] == (
            "Watch · 关注"
        )
    for status in ("SUCCESS", "FAIL"):
        ids = [b["action_id"] for b in buttons(render(snapshot(flowStatus=status)))]
        assert ids == [ACTION_RECHECK]


def test_a_watched_card_says_so_and_offers_unwatch() -> None:
    posted = render(watching=Watching("U0WATCHER", by_dm=False))
    assert [b["action_id"] for b in buttons(posted)] == [ACTION_RECHECK, ACTION_UNWATCH]
    assert buttons(posted)[1]["text"]["text"] == "Unwatch · 取消关注"
    line = blocks_of(posted, "context")[-1]["elements"][0]["text"]
    assert "Watching 关注中" in line and "<@U0WATCHER>" in line and "this thread" in line
    private = render(ephemeral=True, watching=Watching("U0WATCHER", by_dm=True))
    assert "DM" in blocks_of(private, "context")[-1]["elements"][0]["text"]
    # A flow that ended is no longer watched, whatever the caller says.
    done = render(snapshot(flowStatus="SUCCESS"), watching=Watching("U0WATCHER", by_dm=False))
    assert "Watching" not in str(done["blocks"])
    assert [b["action_id"] for b in buttons(done)] == [ACTION_RECHECK]


def test_progress_reads_the_same_in_chinese_unknown_statuses_included() -> None:
    outline = FlowOutline.model_validate(
        {
            "flowId": FLOW_ID,
            "flowStatus": "ING",
            "subFlows": [
                {"subFlowId": "a", "subFlowType": "AUTHCODE", "status": "SUCCESS"},
                {"subFlowId": "b", "subFlowType": "AUTHCODE", "status": "FAIL"},
                {"subFlowId": "c", "subFlowType": "AUTHCODE", "status": "PAUSED"},
            ],
        }
    )
    assert progress(outline.sub_flows) == "1 of 3 sub-flows succeeded · 1 failed · 1 other"
    assert progress(outline.sub_flows, zh=True) == "3 个子流程中 1 个成功 · 1 个失败 · 1 个其他"
    assert progress([], zh=True) == "暂无子流程"
