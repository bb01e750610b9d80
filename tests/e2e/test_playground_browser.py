"""The README's run command with nothing configured, clicked through in headless Chromium.

Starts `esign-bot` (the bot, the local Slack playground and the built-in e签宝 simulator in one
process) and uses the page as a newcomer would. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.chromium import ARTIFACTS, CHROMIUM, browsing

STATUS_FLOWS = {
    "2987365012874563584": "Started",
    "2987365134507291136": "In progress",
    "2987366201948372992": "Succeeded",
    "2987366388415348736": "Failed",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


def test_newcomer_clicks_through_the_playground(local_run: str) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    assert httpx.get(f"{local_run}/healthz").json()["simulated_esign"] is True
    with browsing(f"{local_run}/") as (page, errors):
        expect(page.locator(".sample-flow").first).to_be_visible()
        assert page.locator(".sample-flow").count() >= 13

        for flow_id, status in STATUS_FLOWS.items():
            page.fill("#composer-input", f"/esign-flow {flow_id}")
            page.press("#composer-input", "Enter")
            card = page.locator(".message.ephemeral").filter(has_text=f"Flow {flow_id}")
            expect(card.locator(".bk-header")).to_contain_text(status)
            expect(card).to_contain_text("Simulated e签宝 data")
            assert "<!date" not in card.inner_text()
        page.screenshot(path=str(ARTIFACTS / "local-run-1-statuses.png"), full_page=True)

        success = page.locator(".message.ephemeral").filter(has_text="2987366201948372992")
        success.get_by_role("button", name="Recheck").click()
        expect(success.locator(".bk-context").last).to_contain_text("cached")
        page.screenshot(path=str(ARTIFACTS / "local-run-2-recheck.png"))

        failed = page.locator(".message.ephemeral").filter(has_text="2987366388415348736")
        failed.get_by_role("button", name="Share").click()
        shared = page.locator(".message.from-bot:not(.ephemeral)").filter(
            has_text="Flow 2987366388415348736"
        )
        expect(shared).to_have_count(1)
        expect(shared).to_contain_text("银行卡四要素比对不一致")
        expect(
            page.locator(".message.ephemeral").filter(has_text="2987366388415348736")
        ).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "local-run-3-shared.png"))

        page.get_by_role("button", name="1 reply").click()
        pane = page.locator("#thread-pane")
        expect(pane).to_be_visible()
        reply = pane.locator(".message").filter(has_text="Same company")
        reply.hover()
        reply.get_by_role("button", name="More actions").click()
        page.get_by_role("menuitem").filter(has_text="Run message shortcut").click()
        answer = pane.locator(".message.from-bot").filter(has_text="Flow 2987365012874563584")
        expect(answer.locator(".bk-header")).to_contain_text("Started")
        expect(answer).not_to_have_class("ephemeral")
        page.screenshot(path=str(ARTIFACTS / "local-run-4-thread-shortcut.png"))
        assert errors == []


def test_the_shortcut_form_the_home_tab_and_the_workflow_step(local_run: str) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    with browsing(f"{local_run}/") as (page, errors):
        expect(page.locator(".sample-flow").first).to_be_visible()

        # ⚡ → the form; a bad id is refused under its field.
        page.get_by_role("button", name="Shortcuts: Check an e签宝 flow").click()
        modal = page.locator("#modal")
        expect(modal).to_be_visible()
        expect(modal.locator("#modal-title")).to_contain_text("e签宝")
        modal.locator("[data-block-id=esign_flow_ids]").fill("12345 ../etc/passwd")
        page.locator("#modal-submit").click()
        expect(modal.locator(".bk-error")).to_contain_text("Not flow ids")

        # Good ids, posted to #general too: the cards come into the form.
        modal.locator("[data-block-id=esign_flow_ids]").fill("2987366201948372992")
        modal.locator("[data-block-id=esign_flow_also_post]").select_option("C0GENERAL")
        page.locator("#modal-submit").click()
        expect(modal.locator(".bk-header")).to_contain_text("Succeeded")
        expect(modal).to_contain_text("Also posted to")
        page.screenshot(path=str(ARTIFACTS / "local-run-5-modal.png"))
        modal.get_by_role("button", name="Recheck").click()
        expect(modal.locator(".bk-context").filter(has_text="Fetched")).to_contain_text("cached")
        page.locator("#modal-close").click()
        expect(page.locator("#modal-backdrop")).to_be_hidden()
        posted = page.locator(".message.from-bot:not(.ephemeral)").filter(
            has_text="Flow 2987366201948372992"
        )
        expect(posted).to_have_count(1)

        # The Home tab lists that lookup; the language switch makes it 中文 only.
        page.locator("#home-link").click()
        home = page.locator("#home-view")
        expect(home).to_contain_text("2987366201948372992")
        expect(home).to_contain_text("Your recent lookups")
        home.get_by_role("radio", name="中文", exact=True).check()
        expect(home).to_contain_text("最近查询")
        expect(home).not_to_contain_text("Your recent lookups")
        page.screenshot(path=str(ARTIFACTS / "local-run-6-home.png"))

        # The workflow step: outputs for a known flow, a plain failure for an unknown one.
        page.fill("#step-flow-id", "2987366388415348736")
        page.locator("#step-run").click()
        result = page.locator("#step-result")
        expect(result.locator("[data-output=flow_status]")).to_have_text("FAIL")
        expect(result.locator("[data-output=is_final]")).to_have_text("true")
        expect(result).to_contain_text("workflow's own token")
        page.fill("#step-flow-id", "2987390000030500001")
        page.locator("#step-run").click()
        expect(result.locator(".step-state")).to_contain_text("failed")
        expect(result).to_contain_text("does not know flow")
        page.screenshot(path=str(ARTIFACTS / "local-run-7-step.png"))
        assert errors == []


def test_a_channel_that_answers_itself_and_a_link_that_unfurls(local_run: str) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    with browsing(f"{local_run}/") as (page, errors):
        expect(page.locator(".sample-flow").first).to_be_visible()

        # Turned on for the channel: a private answer, in the viewer's language (an earlier
        # test may have chosen 中文 on the Home tab).
        page.fill("#composer-input", "/esign-flow auto on")
        page.press("#composer-input", "Enter")
        note = page.locator(".message.ephemeral").filter(has_text=re.compile("自动回复"))
        expect(note).to_contain_text("已开启")

        # A message naming a flow is answered in its own thread, not in the channel.
        page.fill("#composer-input", "客户 2987366201948372992 一直卡着")
        page.press("#composer-input", "Enter")
        asked = page.locator(".message:not(.from-bot)").filter(has_text="一直卡着").last
        asked.get_by_role("button", name="1 reply").click()
        pane = page.locator("#thread-pane")
        answer = pane.locator(".message.from-bot").filter(has_text="Flow 2987366201948372992")
        expect(answer.locator(".bk-header")).to_contain_text("Succeeded")
        expect(
            page.locator("#messages .message.from-bot:not(.ephemeral)").filter(has_text="一直卡着")
        ).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "local-run-8-auto-answer.png"))

        # A link to a flow unfurls under its message.
        page.fill(
            "#composer-input", "see https://console.example.com/esign/flows/2987366388415348736"
        )
        page.press("#composer-input", "Enter")
        linked = page.locator(".message").filter(has_text="console.example.com").last
        unfurl = linked.locator(".unfurl")
        expect(unfurl).to_contain_text("2987366388415348736")
        expect(unfurl).to_contain_text("Failed")
        page.screenshot(path=str(ARTIFACTS / "local-run-9-unfurl.png"))
        assert errors == []
