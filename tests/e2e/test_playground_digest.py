"""The daily digest in the browser playground: a card shared to the channel, the digest set a
minute ahead from the page, the bot's clock advanced, and the digest appears at the top of the
channel (the local run: bot, playground and e签宝 simulator in one process)."""

from __future__ import annotations

import pytest

from tests.chromium import ARTIFACTS, CHROMIUM, browsing

IN_PROGRESS = "2987365134507291136"
FAILED = "2987366388415348736"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


def test_a_person_sees_a_digest_without_waiting_a_day(local_run: str) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    with browsing(f"{local_run}/") as (page, errors):
        for flow_id in (IN_PROGRESS, FAILED):
            page.fill("#composer-input", f"/esign-flow {flow_id}")
            page.press("#composer-input", "Enter")
            card = page.locator(".message.ephemeral").filter(has_text=f"Flow {flow_id}")
            card.get_by_role("button", name="Share").click()
            shared = page.locator(".message.from-bot:not(.ephemeral)").filter(
                has_text=f"Flow {flow_id}"
            )
            expect(shared).to_have_count(1)

        page.get_by_role("button", name="Digest in a minute").click()
        expect(
            page.locator(".message.ephemeral").filter(has_text="Daily digest set for")
        ).to_contain_text("Asia/Shanghai")
        page.get_by_role("button", name="Advance the clock 1 min").click()
        expect(page.locator("#clock-now")).to_contain_text("+1 min")

        digest = page.locator(".message.from-bot:not(.ephemeral)").filter(
            has_text="Daily e签宝 digest"
        )
        expect(digest).to_have_count(1, timeout=15_000)
        expect(digest).to_contain_text(IN_PROGRESS)
        expect(digest).to_contain_text(FAILED)
        expect(digest).to_contain_text("Still open")
        expect(digest.get_by_role("link", name="thread 讨论").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "local-run-digest.png"), full_page=True)

        digest.get_by_role("button", name="Recheck").first.click()
        expect(
            page.locator(".message.ephemeral").filter(has_text=f"Flow {IN_PROGRESS}")
        ).to_have_count(1)
        assert errors == []
