"""The one delivery path, with the real lookup and renderers and a recording stand-in for Slack.

What the person would see is read off the calls Slack would receive."""

from __future__ import annotations

from typing import Any

from bot.audit import Requester
from bot.background import BackgroundWork
from bot.cards import PublicAnswer
from bot.delivery import CardDelivery
from bot.esign.models import FlowOutline
from bot.flow_cards import FlowCards
from bot.lookup import FlowLookup
from bot.replies import PostResult
from bot.reply_target import ReplyTarget

FLOW = "803719636976683872"
HOOK = "https://hooks.slack.com/actions/T0TEAM/1/abc"
THREAD = "1764354000.000100"
ASKER = Requester("T0TEAM", "C0SUPPORT", "U0ASKER")


class Outlines:
    def __init__(self) -> None:
        self.calls = 0

    def get_outline(self, flow_id: str) -> FlowOutline:
        self.calls += 1
        return FlowOutline.model_validate({"flowId": flow_id, "flowStatus": "ING"})


class RecordingSlack:
    """Stands in for SlackReplies: records each call; posts fail with `post_error` when set."""

    def __init__(self, post_error: str | None = None) -> None:
        self.post_error = post_error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def respond(self, response_url: str | None, message: dict[str, Any], **kw: Any) -> bool:
        self.calls.append(("respond", {"url": response_url, **message, **kw}))
        return True

    def post(self, channel: str, message: dict[str, Any], **kw: Any) -> PostResult:
        self.calls.append(("post", {"channel": channel, **message, **kw}))
        if self.post_error:
            return PostResult(ok=False, error=self.post_error)
        return PostResult(ok=True, ts="1764354200.000300")

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> PostResult:
        self.calls.append(("update", {"channel": channel, "ts": ts, **message}))
        return PostResult(ok=True, ts=ts)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]


def _delivery(slack: RecordingSlack, work: BackgroundWork | None = None) -> CardDelivery:
    lookup = FlowLookup(Outlines(), ttl_seconds=30, max_flows=10)
    return CardDelivery(FlowCards(lookup), slack, work or BackgroundWork(2))  # type: ignore[arg-type]


def _finished(work: BackgroundWork) -> None:
    assert work.drain(5.0)


def test_an_acked_lookup_is_never_lost_while_shutting_down() -> None:
    slack = RecordingSlack()
    work = BackgroundWork(1)
    delivery = _delivery(slack, work)
    work.drain(0.0)  # shutting down: the pool takes no more work
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT")
    delivery.private_cards([FLOW], requester=ASKER, reply_to=reply_to)
    delivery.recheck(FLOW, requester=ASKER, reply_to=reply_to, requested_by=None)
    assert slack.kinds() == ["respond", "respond"]
    for _, sent in slack.calls:
        assert sent["url"] == HOOK
        assert "The bot is restarting" in sent["text"] and "try again" in sent["text"]


def test_share_posts_publicly_then_removes_the_private_card() -> None:
    slack = RecordingSlack()
    work = BackgroundWork(2)
    reply_to = ReplyTarget(
        response_url=HOOK, channel_id="C0SUPPORT", thread_ts=THREAD, ephemeral=True
    )
    _delivery(slack, work).public_cards(
        [FLOW], requester=ASKER, reply_to=reply_to, answer=PublicAnswer.SHARE
    )
    _finished(work)
    assert slack.kinds() == ["post", "respond"]
    posted, removed = (sent for _, sent in slack.calls)
    assert posted["channel"] == "C0SUPPORT" and posted["thread_ts"] == THREAD
    assert "requested by <@U0ASKER>" in str(posted["blocks"])
    assert removed == {"url": HOOK, "delete_original": True}


def test_a_refused_share_replaces_the_private_card_with_the_reason_and_the_card() -> None:
    slack = RecordingSlack(post_error="not_in_channel")
    work = BackgroundWork(2)
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ephemeral=True)
    _delivery(slack, work).public_cards(
        [FLOW], requester=ASKER, reply_to=reply_to, answer=PublicAnswer.SHARE
    )
    _finished(work)
    assert slack.kinds() == ["post", "respond"]
    answer = slack.calls[1][1]
    assert answer["replace_original"] is True and answer["thread_ts"] is None
    assert "Could not share the card" in answer["text"] and "/invite @esign-flow" in answer["text"]
    assert FLOW in answer["text"]  # the card itself follows the note


def test_a_refused_thread_answer_comes_privately_in_the_thread() -> None:
    slack = RecordingSlack(post_error="request_failed")
    work = BackgroundWork(2)
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", thread_ts=THREAD)
    _delivery(slack, work).public_cards(
        [FLOW], requester=ASKER, reply_to=reply_to, answer=PublicAnswer.THREAD
    )
    _finished(work)
    answer = slack.calls[1][1]
    assert answer["replace_original"] is False and answer["thread_ts"] == THREAD
    assert "did not take my reply in the thread" in answer["text"]


def test_recheck_edits_a_posted_card_and_replaces_a_private_one() -> None:
    slack = RecordingSlack()
    work = BackgroundWork(2)
    delivery = _delivery(slack, work)
    posted = ReplyTarget(
        response_url=HOOK, channel_id="C0SUPPORT", thread_ts=THREAD, message_ts="1.2"
    )
    delivery.recheck(FLOW, requester=ASKER, reply_to=posted, requested_by="U0ORIGINAL")
    _finished(work)
    assert slack.kinds() == ["update"]
    assert "requested by <@U0ORIGINAL>" in str(slack.calls[0][1]["blocks"])

    slack.calls.clear()
    work = BackgroundWork(2)
    private = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ephemeral=True)
    _delivery(slack, work).recheck(FLOW, requester=ASKER, reply_to=private, requested_by=None)
    _finished(work)
    assert slack.kinds() == ["respond"]
    assert slack.calls[0][1]["replace_original"] is True
