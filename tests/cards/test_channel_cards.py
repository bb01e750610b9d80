"""The channel cards: the setting's private answers in both languages, the compact answer for
several flows within Slack's limits whatever e签宝 sends, and the unfurl."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from bot.cards.channel_answer import AnsweredFlow, render_channel_answer
from bot.cards.channel_auto import AutoChange, render_auto_change, render_auto_status
from bot.cards.unfurl import render_unfurl
from bot.esign.errors import RateLimited
from bot.esign.models import FlowOutline
from bot.flows.snapshot import FlowSnapshot
from bot.state.records import ChannelAuto

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def snapshot(flow_id: str, status: str = "ING", reason: str | None = None) -> FlowSnapshot:
    outline = FlowOutline.model_validate(
        {
            "flowId": flow_id,
            "flowStatus": status,
            "failReason": reason,
            "subFlows": [{"subFlowType": "BANK_CARD_4_FACTORS", "status": "FAIL"}] * 300,
        }
    )
    return FlowSnapshot(outline, NOW, from_cache=False, simulated=True)


def test_the_setting_answers_in_each_language() -> None:
    on = render_auto_status(ChannelAuto("C0SUPPORT", "U0LEAD", NOW.timestamp()), "both")
    text = json.dumps(on.to_message(), ensure_ascii=False)
    assert "<@U0LEAD>" in text and f"<!date^{int(NOW.timestamp())}^" in text
    assert "on in this channel" in text and "已开启自动回复" in text
    assert "本频道" not in json.dumps(render_auto_status(None, "en").to_message())
    zh = json.dumps(render_auto_change(AutoChange.TURNED_ON, "zh").to_message(), ensure_ascii=False)
    assert "已开启" in zh and "Automatic" not in zh
    for change in AutoChange:
        both = json.dumps(render_auto_change(change, "both").to_message(), ensure_ascii=False)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in both) and any(ch.isascii() for ch in both)


def test_five_flows_fit_one_message_and_escape_what_e_sign_says() -> None:
    hostile = "<!channel> " + "很长的原因" * 2000
    flows = [
        AnsweredFlow(f"80371963697668{n:04d}", snapshot(f"80371963697668{n:04d}", "FAIL", hostile))
        for n in range(4)
    ]
    flows.append(AnsweredFlow("2987300000000000429", error=RateLimited()))
    card = render_channel_answer(flows, more=12, thread_ts="1764354000.000100")
    message = card.to_message()  # validates every block
    assert len(message["blocks"]) <= 50
    text = json.dumps(message, ensure_ascii=False)
    assert len(text) < 12_000
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "…and 12 more flow ids" in text
    ids = [b.get("block_id") for b in message["blocks"] if b["type"] == "actions"]
    assert ids == [f"esign_flow_answer:{f.flow_id}" for f in flows]


def test_an_unfurl_is_the_compact_card_without_buttons() -> None:
    unfurl = render_unfurl(snapshot("803719636976683872", "FAIL", "四要素不一致"))
    kinds = [block["type"] for block in unfurl["blocks"]]
    assert kinds == ["section", "context"]
    text = json.dumps(unfurl, ensure_ascii=False)
    assert "803719636976683872" in text and "Failed" in text and "四要素不一致" in text
    assert "Simulated" in text
    assert all(isinstance(Block.parse(b), Block) for b in unfurl["blocks"])
