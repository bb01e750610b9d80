"""The digest card stays inside Block Kit's limits with 200 flows, lists the oldest open ones
first, counts the rest, and escapes what e签宝 sends; the Home tab lists a person's digests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.cards.digest import (
    MAX_OPEN_SHOWN,
    DigestEntry,
    render_digest,
    render_digest_bad_time,
    render_digest_set,
)
from bot.cards.home import render_home
from bot.state.digest_records import DigestSetting

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def entry(n: int, status: str, **kw: object) -> DigestEntry:
    fields: dict[str, object] = {
        "flow_id": f"80{n:017d}",
        "status": status,
        "created_at": NOW - timedelta(hours=n + 1),
        "changed_at": NOW - timedelta(minutes=n + 1),
        "permalink": f"https://acme.slack.com/archives/C0SUPPORT/p17723{n:08d}",
        "thread_ts": f"17723{n:05d}.000100",
        **kw,
    }
    return DigestEntry(**fields)  # type: ignore[arg-type]


def test_a_digest_of_200_flows_stays_within_block_kits_limits() -> None:
    still_open = [entry(n, "ING" if n % 2 else "INIT") for n in range(150)]
    finished = [
        entry(n, "FAIL", fail_reason="x" * 3000 + "<!channel>") if n % 3 else entry(n, "SUCCESS")
        for n in range(150, 200)
    ]
    card = render_digest(still_open, finished, now=NOW, unchecked=3)
    assert card is not None
    message = card.to_message()  # validates each block's own limits
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert len(message["text"]) <= 300
    for block in blocks:
        for text in _texts(block):
            assert len(text) <= 3000
    wire = json.dumps(message, ensure_ascii=False)
    assert "<!channel>" not in wire
    assert len(wire.encode()) < 40_000
    words = json.dumps(blocks, ensure_ascii=False)
    # The oldest open flows are listed, the rest counted.
    assert entry(149, "ING").flow_id in words
    assert entry(0, "ING").flow_id not in words
    assert f"and {150 - MAX_OPEN_SHOWN} more still open" in words
    assert "and 10 more finished" in words
    assert "3 more could not be looked up" in words


def test_nothing_to_list_is_no_card() -> None:
    assert render_digest([], [], now=NOW) is None


def test_each_open_flow_has_recheck_and_a_link_to_its_thread() -> None:
    card = render_digest([entry(1, "ING")], [], now=NOW)
    assert card is not None
    [_, _, _, section] = card.to_message()["blocks"]
    assert section["accessory"]["action_id"] == "esign_flow_digest_recheck"
    assert section["accessory"]["value"] == f"{entry(1, 'ING').flow_id}|1772300001.000100"
    assert "<https://acme.slack.com/archives/C0SUPPORT/p1772300000001|thread 讨论>" in str(section)
    assert "opened 2 h ago" in str(section) and "last change 2 min ago" in str(section)
    # A link that is not Slack's https URL is left out rather than echoed.
    odd = render_digest([entry(1, "ING", permalink="javascript:alert(1)")], [], now=NOW)
    assert odd is not None and "javascript" not in str(odd.to_message())


def test_the_answers_name_the_time_and_the_zone_in_both_languages() -> None:
    card = render_digest_set(
        hour=9, minute=30, tz="Asia/Shanghai", first_at=NOW + timedelta(days=1), language="both"
    )
    words = str(card.to_message())
    assert "Daily digest set for 09:30 Asia/Shanghai" in words and "已设置每日摘要" in words
    only_zh = str(render_digest_bad_time("soon", language="zh").to_message())
    assert "时间格式不对" in only_zh and "not a time" not in only_zh


def test_the_home_tab_lists_the_digests_the_person_set() -> None:
    digest = DigestSetting("C0SUPPORT", "T0TEAM", "U0SETTER", 9, 30, "Asia/Shanghai", 0.0)
    view = json.dumps(render_home([], [], digests=[digest]), ensure_ascii=False)
    assert "Your daily digests" in view and "<#C0SUPPORT> · 09:30 Asia/Shanghai" in view
    assert "Could not read your digests" in json.dumps(render_home([], [], digests=None))


def _texts(block: dict[str, object]) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(block)
    return found
