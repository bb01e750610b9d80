"""The Slack playground against a tiny real Bolt app over real HTTP on loopback.

The test bot is deliberately small (not the product's handlers): it exercises exactly the Slack
behaviours the product relies on, so these tests pin the stand-in's faithfulness.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import httpx
import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.ids import ACTION_RECHECK, ACTION_SHARE, COMMAND, SHORTCUT_LOOKUP_IN_MESSAGE
from stand_ins.http_server import WsgiServerThread
from stand_ins.slack_playground import Message, Playground
from stand_ins.slack_playground.slack_requests import RequestSigner, block_actions_payload
from tests.chromium import ARTIFACTS, CHROMIUM, launch, open_page

SIGNING_SECRET = "playground-test-signing-secret"
BOT_TOKEN = "xoxb-playground-test-token"
FLOW_ID = "8037123456789012345"
OTHER_FLOW_ID = "8037999988887777666"
#: 2025-11-28 18:20:00 UTC
WHEN = 1764354000


# ---------------------------------------------------------------------- the test bot


def flow_card(flow_id: str, *, rechecked: bool = False) -> list[dict[str, Any]]:
    status = "Rechecked just now" if rechecked else "First look"
    return [
        {"type": "header", "text": {"type": "plain_text", "text": f"Flow {flow_id} :seedling:"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    ":hourglass_flowing_sand: *In progress* — face check _pending_\n"
                    f"Created <!date^{WHEN}^{{date_short_pretty}} {{time}}|2025-11-28 18:20 UTC>\n"
                    f"Exact: <!date^{WHEN}^{{date_num}} {{time}}|2025-11-28 18:20 UTC>\n"
                    "Echo: `&lt;!channel&gt;` &amp; <https://example.com/flows|details>"
                ),
            },
            "fields": [
                {"type": "mrkdwn", "text": "*Subject*\n:office: Acme Ltd."},
                {"type": "mrkdwn", "text": "*Sub-flows*\n1 of 2 succeeded"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": status}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_RECHECK,
                    "text": {"type": "plain_text", "text": "Recheck"},
                    "value": flow_id,
                },
                {
                    "type": "button",
                    "action_id": ACTION_SHARE,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Share"},
                    "value": flow_id,
                },
            ],
        },
    ]


def build_test_bot(api_url: str, *, signing_secret: str = SIGNING_SECRET) -> App:
    client = WebClient(
        base_url=api_url,
        token=BOT_TOKEN,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    app = App(signing_secret=signing_secret, client=client, token_verification_enabled=False)

    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = command["text"].strip()
        if text == "slow":
            time.sleep(3.1)  # past Slack's 3-second deadline
            ack()
            return
        if text == "ack-text":
            ack("Looking it up…")
            return
        ack()
        if text.startswith("say "):
            respond(text=text.removeprefix("say "), response_type="in_channel")
        elif text == "post-here":
            try:
                client.chat_postMessage(channel=command["channel_id"], text="posted by the bot")
            except SlackApiError as refusal:
                respond(text=f"I cannot post here: {refusal.response['error']}")
        else:
            respond(text=f"Flow {text}", blocks=flow_card(text))

    @app.shortcut(SHORTCUT_LOOKUP_IN_MESSAGE)
    def on_shortcut(
        ack: Ack, shortcut: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        message = shortcut["message"]
        found = re.findall(r"\d{16,}", message.get("text", ""))
        flow_id = found[0] if found else "none"
        try:
            client.chat_postMessage(
                channel=shortcut["channel"]["id"],
                thread_ts=message.get("thread_ts") or message["ts"],
                text=f"Flow {flow_id}",
                blocks=flow_card(flow_id),
            )
        except SlackApiError as refusal:
            respond(text=f"I cannot post in this channel ({refusal.response['error']})")

    @app.action(ACTION_RECHECK)
    def on_recheck(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        flow_id = body["actions"][0]["value"]
        respond(
            replace_original=True, text=f"Flow {flow_id}", blocks=flow_card(flow_id, rechecked=True)
        )

    @app.action(ACTION_SHARE)
    def on_share(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        flow_id = body["actions"][0]["value"]
        container = body["container"]
        respond(delete_original=True)
        client.chat_postMessage(
            channel=container["channel_id"],
            thread_ts=container.get("thread_ts"),
            text=f"Flow {flow_id}",
            blocks=flow_card(flow_id),
        )

    return app


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def playground() -> Iterator[Playground]:
    with Playground(
        signing_secret=SIGNING_SECRET,
        bot_token=BOT_TOKEN,
        sample_flows=[(FLOW_ID, "in progress, face check pending"), (OTHER_FLOW_ID, "failed")],
    ) as running:
        bot_server = WsgiServerThread(SlackRequestHandler(build_test_bot(running.api_url)))
        bot_server.start()
        running.bot_events_url = f"{bot_server.url}/slack/events"
        yield running
        bot_server.stop()


@pytest.fixture(autouse=True)
def empty_workspace(playground: Playground) -> None:
    playground.workspace.reset()


def ephemeral_cards(to: str = "U0PLAYER1") -> Callable[[list[Message]], list[Message] | None]:
    def found(messages: list[Message]) -> list[Message] | None:
        cards = [m for m in messages if m.ephemeral_to == to and m.blocks]
        return cards or None

    return found


# ---------------------------------------------------------------------- Slack requests


def test_signed_slash_command_is_accepted_and_answered_ephemerally(playground: Playground) -> None:
    exchange = playground.slash_command(FLOW_ID)

    assert exchange.status == 200
    assert exchange.acked_in_time
    [card] = playground.workspace.wait_for(ephemeral_cards())
    assert card.channel_id == "C0GENERAL"
    assert card.thread_ts is None
    assert card.bot
    assert card.response_url is not None
    assert f"Flow {FLOW_ID}" in card.visible_text()
    assert card.action_ids() == [ACTION_RECHECK, ACTION_SHARE]
    assert all(block.get("block_id") for block in card.blocks), "Slack adds block ids"
    assert playground.workspace.messages(include_ephemeral=False) == []


def test_forged_or_stale_signatures_are_refused_by_bolt(playground: Playground) -> None:
    body = b"token=x&team_id=T0PLAYGRND&command=%2Fesign-flow&text=8037&user_id=U0PLAYER1"
    forged = RequestSigner("not-the-signing-secret").sign(body)
    stale = playground.sign(body, timestamp=int(time.time()) - 6 * 60)
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    assert playground.send_raw(body, {**form, **forged}).status == 401
    assert playground.send_raw(body, {**form, **stale}).status == 401
    assert playground.send_raw(body, form).status == 401
    time.sleep(0.2)
    assert playground.workspace.calls() == []
    assert playground.workspace.messages() == []


def test_in_channel_response_and_ack_message(playground: Playground) -> None:
    playground.slash_command("say hello <!channel> team")
    shared = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.text.startswith("hello")), None)
    )
    assert shared.ephemeral_to is None
    assert shared.channel_id == "C0GENERAL"

    exchange = playground.slash_command("ack-text")
    assert exchange.body == "Looking it up…"  # Bolt acks a plain string as text/plain
    note = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.text == "Looking it up…"), None)
    )
    assert note.ephemeral_to == "U0PLAYER1"


def test_message_shortcut_answers_in_the_thread(playground: Playground) -> None:
    parent = playground.post_user_message("Anyone looked at this customer?")
    reply = playground.post_user_message(f"flow {FLOW_ID}, phone 13800138000", thread_ts=parent.ts)

    assert playground.message_shortcut(reply.ts).status == 200
    answer = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.bot and m.thread_ts == parent.ts), None)
    )
    assert answer.ephemeral_to is None
    assert f"Flow {FLOW_ID}" in answer.visible_text()
    [call] = [c for c in playground.workspace.calls() if c.method == "chat.postMessage"]
    assert call.payload["thread_ts"] == parent.ts
    assert call.response["ok"] is True

    top_level = playground.post_user_message(f"and {OTHER_FLOW_ID}?")
    playground.message_shortcut(top_level.ts)
    own_thread = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.bot and m.thread_ts == top_level.ts), None)
    )
    assert f"Flow {OTHER_FLOW_ID}" in own_thread.visible_text()


def test_private_channel_refusal_falls_back_to_an_ephemeral_in_the_thread(
    playground: Playground,
) -> None:
    parent = playground.post_user_message("ops only", channel_id="C0PRIVATE")
    reply = playground.post_user_message(
        f"stuck: {FLOW_ID}", channel_id="C0PRIVATE", thread_ts=parent.ts
    )

    playground.message_shortcut(reply.ts, channel_id="C0PRIVATE")
    fallback = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ephemeral_to == "U0PLAYER1"), None)
    )
    assert fallback.thread_ts == parent.ts
    assert fallback.channel_id == "C0PRIVATE"
    assert "not_in_channel" in fallback.text
    refused = [c for c in playground.workspace.calls() if c.method == "chat.postMessage"]
    assert [c.error for c in refused] == ["not_in_channel"]

    playground.slash_command("post-here", channel_id="C0PUBLIC2")  # chat:write.public
    playground.workspace.wait_for(
        lambda ms: any(m.text == "posted by the bot" and m.channel_id == "C0PUBLIC2" for m in ms)
    )


def test_recheck_replaces_the_ephemeral_card_in_place(playground: Playground) -> None:
    playground.slash_command(FLOW_ID)
    [card] = playground.workspace.wait_for(ephemeral_cards())

    assert playground.click(card, ACTION_RECHECK).status == 200
    replaced = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.edited and "Rechecked" in m.visible_text()), None)
    )
    assert replaced.ts == card.ts
    assert replaced.ephemeral_to == "U0PLAYER1"
    assert len(playground.workspace.messages()) == 1


def test_share_deletes_the_ephemeral_and_posts_to_the_channel(playground: Playground) -> None:
    playground.slash_command(FLOW_ID)
    [card] = playground.workspace.wait_for(ephemeral_cards())

    playground.click(card, ACTION_SHARE)
    shared = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.blocks and not m.is_ephemeral), None)
    )
    playground.workspace.wait_for(lambda ms: all(not m.is_ephemeral for m in ms))
    assert shared.channel_id == "C0GENERAL"
    [gone] = [m for m in playground.workspace.messages(include_deleted=True) if m.deleted]
    assert gone.ts == card.ts
    with pytest.raises(LookupError):
        playground.click(card, ACTION_RECHECK)


def test_block_actions_payload_has_slack_shape(playground: Playground) -> None:
    playground.slash_command(FLOW_ID)
    [card] = playground.workspace.wait_for(ephemeral_cards())

    payload = block_actions_payload(
        team_id="T0PLAYGRND",
        team_domain="playground",
        channel=playground.workspace.channels["C0GENERAL"],
        user=playground.workspace.users["U0PLAYER1"],
        message=card,
        action_id=ACTION_SHARE,
        response_url="http://127.0.0.1/response/x",
    )

    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": "C0GENERAL",
        "is_ephemeral": True,
    }
    assert "message" not in payload, "Slack sends no message for ephemeral containers"
    [action] = payload["actions"]
    assert action["action_id"] == ACTION_SHARE
    assert action["value"] == FLOW_ID
    assert action["type"] == "button"
    assert action["block_id"] == card.blocks[-1]["block_id"]


def test_response_url_serves_five_times_then_refuses(playground: Playground) -> None:
    playground.slash_command(FLOW_ID)
    playground.workspace.wait_for(ephemeral_cards())
    [first] = [c for c in playground.workspace.calls() if c.kind == "response_url"]
    url = f"{playground.base_url}{first.endpoint}"

    answers = [httpx.post(url, json={"text": f"again {n}"}) for n in range(5)]

    assert [(a.status_code, a.text) for a in answers[:4]] == [(200, "ok")] * 4
    assert (answers[4].status_code, answers[4].text) == (404, "used_url")
    assert (
        httpx.post(f"{playground.base_url}/response/unknown", json={"text": "x"}).status_code == 404
    )


def test_delete_original_through_a_slash_command_url(playground: Playground) -> None:
    playground.slash_command(FLOW_ID)
    [card] = playground.workspace.wait_for(ephemeral_cards())
    url = card.response_url
    assert url is not None

    assert httpx.post(url, json={"delete_original": True}).text == "ok"
    assert playground.workspace.messages() == []


def test_rate_limit_is_answered_429_then_served(playground: Playground) -> None:
    playground.workspace.inject_fault("chat.postMessage", 429, retry_after=1)
    message = playground.post_user_message(f"look at {FLOW_ID}")

    started = time.monotonic()
    playground.message_shortcut(message.ts)
    answer = playground.workspace.wait_for(
        lambda ms: next((m for m in ms if m.bot and m.thread_ts == message.ts), None), timeout=8
    )

    assert answer.ephemeral_to is None
    assert time.monotonic() - started >= 1.0, "the bot waited for Retry-After"
    calls = [c for c in playground.workspace.calls() if c.method == "chat.postMessage"]
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].error == "ratelimited"


def test_response_url_outage_is_recorded(playground: Playground) -> None:
    playground.workspace.inject_fault("response_url", 503, body="upstream down")
    playground.slash_command(FLOW_ID)

    call = playground.workspace.wait_for(lambda ms: next(iter(playground.workspace.calls()), None))
    assert (call.kind, call.status, call.response) == ("response_url", 503, "upstream down")
    assert playground.workspace.messages() == []


def test_late_ack_shows_slacks_timeout_error(playground: Playground) -> None:
    exchange = playground.slash_command("slow")

    # Bolt itself gives up at 3 s (HTTP 404); Slack has stopped waiting by then anyway.
    assert exchange.elapsed > 3.0
    assert not exchange.acked_in_time
    [note] = playground.workspace.messages()
    assert note.user_id == "USLACKBOT"
    assert note.text == f'{COMMAND} failed with the error "operation_timeout"'


def test_wait_for_times_out_with_a_useful_dump(playground: Playground) -> None:
    playground.post_user_message("nothing for the bot here")

    def bot_replied(messages: list[Message]) -> bool:
        return any(m.bot for m in messages)

    started = time.monotonic()
    with pytest.raises(TimeoutError) as timeout:
        playground.workspace.wait_for(bot_replied, timeout=0.3)

    assert time.monotonic() - started < 2
    report = str(timeout.value)
    assert "bot_replied" in report
    assert "nothing for the bot here" in report
    assert "calls (0)" in report


# ---------------------------------------------------------------------- the Web API


def test_web_api_checks_auth_and_reads_json_and_forms(playground: Playground) -> None:
    api = playground.api_url
    bearer = {"Authorization": f"Bearer {BOT_TOKEN}"}

    wrong = httpx.post(f"{api}chat.postMessage", headers={"Authorization": "Bearer xoxb-no"})
    assert (wrong.status_code, wrong.json()) == (200, {"ok": False, "error": "invalid_auth"})
    assert httpx.post(f"{api}auth.test").json()["error"] == "not_authed"
    assert httpx.post(f"{api}no.such", headers=bearer).json()["error"] == "unknown_method"
    auth = httpx.post(f"{api}auth.test", data={"token": BOT_TOKEN}).json()
    assert (auth["ok"], auth["user_id"], auth["team_id"]) == (True, "U0BOTUSER", "T0PLAYGRND")

    blocks = json.dumps(flow_card(FLOW_ID))
    posted = httpx.post(
        f"{api}chat.postMessage",
        headers=bearer,
        data={"channel": "#general", "text": "form post", "blocks": blocks},
    ).json()
    assert posted["ok"] and posted["channel"] == "C0GENERAL"
    assert posted["message"]["blocks"][0]["type"] == "header"

    updated = httpx.post(
        f"{api}chat.update",
        headers=bearer,
        json={"channel": "C0GENERAL", "ts": posted["ts"], "text": "updated"},
    ).json()
    assert updated["ok"] and updated["text"] == "updated"
    [message] = playground.workspace.messages()
    assert (message.text, message.edited, len(message.blocks)) == ("updated", 1, 5)

    def error_of(method: str, **payload: Any) -> str:
        answer = httpx.post(f"{api}{method}", headers=bearer, json=payload).json()
        assert answer["ok"] is False
        return str(answer["error"])

    assert error_of("chat.postMessage", channel="C0NOWHERE", text="x") == "channel_not_found"
    assert error_of("chat.postMessage", channel="C0GENERAL") == "no_text"
    too_many = [{"type": "divider"}] * 51
    assert error_of("chat.postMessage", channel="C0GENERAL", blocks=too_many) == "invalid_blocks"
    ephemeral = httpx.post(
        f"{api}chat.postEphemeral",
        headers=bearer,
        json={"channel": "C0GENERAL", "user": "U0PLAYER1", "text": "psst"},
    ).json()
    assert error_of("chat.update", channel="C0GENERAL", ts=ephemeral["message_ts"], text="x") == (
        "message_not_found"
    )
    person = playground.post_user_message("mine")
    assert error_of("chat.delete", channel="C0GENERAL", ts=person.ts) == "cant_delete_message"
    deleted = httpx.post(
        f"{api}chat.delete", headers=bearer, data={"channel": "C0GENERAL", "ts": posted["ts"]}
    ).json()
    assert deleted == {"ok": True, "channel": "C0GENERAL", "ts": posted["ts"]}


def test_page_endpoints_refuse_cross_site_posts(playground: Playground) -> None:
    url = f"{playground.base_url}/playground/message"
    body = json.dumps({"channel_id": "C0GENERAL", "text": "hi"})

    assert httpx.post(url, content=body, headers={"Content-Type": "text/plain"}).status_code == 415
    evil = {"Content-Type": "application/json", "Origin": "https://evil.example"}
    assert httpx.post(url, content=body, headers=evil).status_code == 403
    cross = {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}
    assert httpx.post(url, content=body, headers=cross).status_code == 403
    assert playground.workspace.messages() == []

    ok = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert ok.status_code == 200
    [message] = playground.workspace.messages()
    assert (message.user_id, message.text) == ("U0PLAYER1", "hi")


def test_wsgi_app_mounts_next_to_the_bot_in_one_server() -> None:
    mounted = Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    routes: dict[str, Any] = {}

    def dispatch(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO") == "/slack/events":
            return routes["bot"](environ, start_response)
        return mounted.wsgi_app(environ, start_response)

    server = WsgiServerThread(dispatch)
    try:
        mounted.base_url = server.url
        mounted.bot_events_url = f"{server.url}/slack/events"
        routes["bot"] = SlackRequestHandler(build_test_bot(mounted.api_url))
        server.start()

        mounted.slash_command(FLOW_ID)
        [card] = mounted.workspace.wait_for(ephemeral_cards())
        assert card.response_url is not None
        assert card.response_url.startswith(server.url)
        assert httpx.get(f"{server.url}/").status_code == 200
    finally:
        mounted.stop()
        server.stop()


# ---------------------------------------------------------------------- the browser page


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_browser_playground_renders_cards_buttons_and_threads(playground: Playground) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    playground.seed_conversation()
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_api.sync_playwright() as driver:
        browser = launch(driver)
        try:
            page, page_errors = open_page(
                browser, f"{playground.base_url}/", width=1360, height=860
            )
            expect = sync_api.expect
            expect(page.locator("#channel-title")).to_have_text("#general")
            expect(page.locator(".sample-flow")).to_have_count(2)

            # A slash command: the ephemeral card, rendered.
            page.fill("#composer-input", f"{COMMAND} {FLOW_ID}")
            page.press("#composer-input", "Enter")
            card = page.locator(".message.ephemeral").filter(has_text=f"Flow {FLOW_ID}")
            expect(card.locator(".bk-header")).to_have_text(f"Flow {FLOW_ID} 🌱")
            expect(card.locator(".ephemeral-note")).to_contain_text("Only visible to you")
            dates = card.locator(".bk-date")
            expect(dates).to_have_count(2)
            # 18:20 UTC is 02:20 the next day in Shanghai: the browser's zone, not UTC.
            expect(dates.nth(1)).to_have_text("2025-11-29 2:20 AM")
            assert "<!date" not in card.inner_text()
            assert "2:20 AM" in dates.nth(0).inner_text()
            expect(card.locator("strong").first).to_have_text("In progress")
            expect(card.locator("em").first).to_have_text("pending")
            expect(card.locator("code").first).to_have_text("<!channel>")
            expect(card.locator("a[href='https://example.com/flows']")).to_have_text("details")
            page.screenshot(path=str(ARTIFACTS / "playground-1-slash-command.png"))

            # Recheck: the same card, replaced in place.
            card.get_by_role("button", name="Recheck").click()
            expect(card.locator(".bk-context")).to_have_text("Rechecked just now")
            expect(page.locator(".message.ephemeral")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "playground-2-recheck.png"))

            # Share: the ephemeral card goes, a channel message comes.
            card.get_by_role("button", name="Share").click()
            expect(page.locator(".message.ephemeral")).to_have_count(0)
            shared = page.locator(".message.from-bot").filter(has_text=f"Flow {FLOW_ID}")
            expect(shared).to_have_count(1)

            # A message shortcut on a thread reply: the answer lands in the thread pane.
            page.get_by_role("button", name="1 reply").click()
            pane = page.locator("#thread-pane")
            expect(pane).to_be_visible()
            reply = pane.locator(".message").filter(has_text="Same company")
            reply.hover()
            reply.get_by_role("button", name="More actions").click()
            page.get_by_role("menuitem").filter(has_text="Run message shortcut").click()
            expect(pane.locator(".bk-header")).to_have_text(f"Flow {OTHER_FLOW_ID} 🌱")
            page.screenshot(path=str(ARTIFACTS / "playground-3-thread-shortcut.png"))
            page.locator("#thread-close").click()

            # Typed text is shown literally: markup never becomes markup.
            hostile = "<img src=x onerror=alert(1)> *bold* <@U0PLAYER2> :x: :no_such_emoji:"
            page.fill("#composer-input", hostile)
            page.press("#composer-input", "Enter")
            mine = page.locator(".message.from-person").filter(has_text="onerror")
            expect(mine.locator(".bk-text")).to_have_text(
                "<img src=x onerror=alert(1)> bold <@U0PLAYER2> ❌ :no_such_emoji:"
            )
            expect(mine.locator("img")).to_have_count(0)
            expect(mine.locator("strong")).to_have_text("bold")

            # A sample flow runs the command; Dismiss hides the ephemeral answer.
            page.locator(".sample-flow").filter(has_text=OTHER_FLOW_ID).click()
            other = page.locator(".message.ephemeral").filter(has_text=f"Flow {OTHER_FLOW_ID}")
            expect(other).to_have_count(1)
            other.get_by_role("button", name="Dismiss").click()
            expect(page.locator(".message.ephemeral")).to_have_count(0)
            assert page_errors == []
        finally:
            browser.close()
