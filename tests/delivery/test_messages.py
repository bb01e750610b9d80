"""The messages and modal doors, with the real lookup and renderers and a recording Slack.

What the person would see is read off the calls Slack would receive."""

from __future__ import annotations

import threading
from typing import Any

from bot.cards import PublicAnswer
from bot.delivery.answering import LanguageOf
from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.delivery.messages import MessageDelivery
from bot.delivery.modal import ModalDelivery
from bot.esign.models import FlowOutline
from bot.flows.cache import FlowLookup
from bot.language import Language
from bot.slack.replies import PostResult, ViewResult
from bot.slack.reply_target import ReplyTarget, ViewRef
from bot.slack.requester import Requester

FLOW = "803719636976683872"
HOOK = "https://hooks.slack.com/actions/T0TEAM/1/abc"
THREAD = "1764354000.000100"
ASKER = Requester("T0TEAM", "C0SUPPORT", "U0ASKER")


class AllDoors:
    """The messages and modal doors over one recording Slack, wired as the runtime wires them."""

    def __init__(
        self,
        cards: FlowCards,
        slack: Any,
        work: BackgroundWork,
        *,
        languages: LanguageOf | None = None,
        views: BackgroundWork | None = None,
    ) -> None:
        self.modal = ModalDelivery(cards, slack, work, views=views, languages=languages)
        self.messages = MessageDelivery(cards, slack, work, modal=self.modal, languages=languages)


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


def _delivery(slack: RecordingSlack, work: BackgroundWork | None = None) -> AllDoors:
    lookup = FlowLookup(Outlines(), ttl_seconds=30, max_flows=10)
    return AllDoors(FlowCards(lookup), slack, work or BackgroundWork(2))  # type: ignore[arg-type]


def _finished(work: BackgroundWork) -> None:
    assert work.drain(5.0)


def test_an_acked_lookup_is_never_lost_while_shutting_down() -> None:
    slack = RecordingSlack()
    work = BackgroundWork(1)
    delivery = _delivery(slack, work)
    work.drain(0.0)  # shutting down: the pool takes no more work
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT")
    delivery.messages.private_cards([FLOW], requester=ASKER, reply_to=reply_to)
    delivery.messages.recheck(FLOW, requester=ASKER, reply_to=reply_to, requested_by=None)
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
    _delivery(slack, work).messages.public_cards(
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
    _delivery(slack, work).messages.public_cards(
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
    _delivery(slack, work).messages.public_cards(
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
    delivery.messages.recheck(FLOW, requester=ASKER, reply_to=posted, requested_by="U0ORIGINAL")
    _finished(work)
    assert slack.kinds() == ["update"]
    assert "requested by <@U0ORIGINAL>" in str(slack.calls[0][1]["blocks"])

    slack.calls.clear()
    work = BackgroundWork(2)
    private = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ephemeral=True)
    _delivery(slack, work).messages.recheck(
        FLOW, requester=ASKER, reply_to=private, requested_by=None
    )
    _finished(work)
    assert slack.kinds() == ["respond"]
    assert slack.calls[0][1]["replace_original"] is True


class RecordingViews(RecordingSlack):
    """Also records views.open / views.update, answering like Slack."""

    def views_open(self, trigger_id: str, view: dict[str, Any]) -> ViewResult:
        self.calls.append(("views_open", {"trigger_id": trigger_id, "view": view}))
        return ViewResult(ok=True, view_id="V0MODAL", hash="h1")

    def views_update(
        self, view_id: str, view: dict[str, Any], *, hash: str | None = None
    ) -> ViewResult:
        self.calls.append(("views_update", {"view_id": view_id, "view": view, "hash": hash}))
        return ViewResult(ok=True, view_id=view_id, hash="h2")


class Chinese:
    def language(self, user_id: str | None) -> Language:
        return "zh" if user_id == "U0ASKER" else "both"

    def known_language(self, user_id: str | None) -> Language | None:
        return self.language(user_id)


def _modal_delivery(slack: RecordingSlack, work: BackgroundWork) -> tuple[AllDoors, Outlines]:
    outlines = Outlines()
    lookup = FlowLookup(outlines, ttl_seconds=30, max_flows=10)
    delivery = AllDoors(FlowCards(lookup), slack, work, languages=Chinese())  # type: ignore[arg-type]
    return delivery, outlines


MODAL = ViewRef(view_id="V0MODAL", kind="modal", hash="h1", flow_ids=(FLOW,))


def test_the_modal_opens_in_the_persons_language() -> None:
    slack = RecordingViews()
    work = BackgroundWork(1)
    delivery, _ = _modal_delivery(slack, work)
    assert delivery.modal.open_modal("1.2.abc", user_id="U0ASKER")
    assert not delivery.modal.open_modal(None, user_id="U0ASKER")
    assert work.drain(5)
    [(kind, sent)] = slack.calls
    assert kind == "views_open" and sent["trigger_id"] == "1.2.abc"
    assert sent["view"]["title"]["text"] == "查询流程"


def test_the_modal_opens_while_every_lookup_thread_waits_on_esign() -> None:
    slack = RecordingViews()
    work, views = BackgroundWork(1), BackgroundWork(1, name="views")
    outlines = Outlines()
    delivery = AllDoors(
        FlowCards(FlowLookup(outlines, ttl_seconds=30, max_flows=10)),
        slack,  # type: ignore[arg-type]
        work,
        views=views,
    )
    esign_answers = threading.Event()
    assert work.submit(esign_answers.wait)  # the one lookup thread, busy
    try:
        assert delivery.modal.open_modal("1.2.abc", user_id="U0ASKER")
        assert views.drain(5)
        assert [kind for kind, _ in slack.calls] == ["views_open"]
    finally:
        esign_answers.set()
        work.drain(5)


def test_submitted_flows_fill_the_modal_and_the_picked_conversation() -> None:
    slack = RecordingViews()
    work = BackgroundWork(2)
    delivery, outlines = _modal_delivery(slack, work)
    picked = ReplyTarget(response_url=HOOK, channel_id="C0PICKED", view=MODAL)
    assert delivery.modal.cached_modal([FLOW], requester=ASKER, reply_to=picked) is None
    delivery.modal.modal_cards([FLOW], requester=ASKER, reply_to=picked)
    _finished(work)
    assert outlines.calls == 1
    assert sorted(slack.kinds()) == ["respond", "views_update"]
    update = next(sent for kind, sent in slack.calls if kind == "views_update")
    assert update["view_id"] == "V0MODAL" and update["hash"] is None
    shown = str(update["view"]["blocks"])
    assert f"流程 {FLOW}" in shown and "In progress" not in shown  # the asker reads 中文
    assert "已同时发到 <#C0PICKED>" in shown
    assert update["view"]["private_metadata"] == FLOW
    posted = next(sent for kind, sent in slack.calls if kind == "respond")
    # Everyone in the picked conversation reads it: bilingual, naming who asked.
    assert posted["url"] == HOOK and posted["in_channel"] is True
    assert "In progress" in str(posted["blocks"]) and "进行中" in str(posted["blocks"])
    assert "requested by <@U0ASKER>" in str(posted["blocks"])


def test_cached_flows_come_back_for_the_ack_without_a_call() -> None:
    slack = RecordingViews()
    work = BackgroundWork(2)
    delivery, outlines = _modal_delivery(slack, work)
    delivery.modal.modal_cards([FLOW], requester=ASKER, reply_to=ReplyTarget(view=MODAL))
    _finished(work)
    slack.calls.clear()
    view = delivery.modal.cached_modal([FLOW], requester=ASKER, reply_to=ReplyTarget(view=MODAL))
    assert view is not None and view["type"] == "modal" and FLOW in str(view["blocks"])
    assert outlines.calls == 1 and slack.calls == []


def test_recheck_in_the_modal_redraws_it_with_its_hash() -> None:
    slack = RecordingViews()
    work = BackgroundWork(2)
    delivery, outlines = _modal_delivery(slack, work)
    delivery.messages.recheck(
        FLOW, requester=ASKER, reply_to=ReplyTarget(view=MODAL), requested_by=None
    )
    _finished(work)
    [(kind, sent)] = slack.calls
    assert kind == "views_update" and sent["view_id"] == "V0MODAL" and sent["hash"] == "h1"
    actions = [b for b in sent["view"]["blocks"] if b["type"] == "actions"]
    assert [b["block_id"] for b in actions] == ["esign_flow_actions_0"]
    # Recheck only: no Share, and no Watch (a watch lives on a message, not in a modal).
    assert [e["action_id"] for b in actions for e in b["elements"]] == ["esign_flow_recheck"]
    assert outlines.calls == 1


class LanguageNotYetKnown:
    """A reader whose language this process has not read from the store yet."""

    def language(self, user_id: str | None) -> Language:
        return "zh"

    def known_language(self, user_id: str | None) -> Language | None:
        return None


def test_a_cached_flows_card_is_offered_to_the_ack_and_the_rest_follow() -> None:
    slack = RecordingSlack()
    work = BackgroundWork(2)
    outlines = Outlines()
    lookup = FlowLookup(outlines, ttl_seconds=30, max_flows=10)
    delivery = AllDoors(FlowCards(lookup), slack, work)  # type: ignore[arg-type]
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT")
    other = "802965095964494307"

    # Nothing cached: the ack carries nothing and both cards come through the response_url.
    assert (
        delivery.messages.private_cards(
            [FLOW, other], requester=ASKER, reply_to=reply_to, ack_may_carry=True
        )
        is None
    )
    _finished(work)
    assert slack.kinds() == ["respond", "respond"] and outlines.calls == 2

    slack.calls.clear()
    work = BackgroundWork(2)
    delivery = AllDoors(FlowCards(lookup), slack, work)  # type: ignore[arg-type]
    card = delivery.messages.private_cards(
        [FLOW, other], requester=ASKER, reply_to=reply_to, ack_may_carry=True
    )
    assert card is not None and FLOW in card.text
    assert "cached" in str(card.to_message()["blocks"])
    _finished(work)
    [(kind, sent)] = slack.calls  # only the second flow's card
    assert kind == "respond" and other in sent["text"]
    assert outlines.calls == 2  # both from the cache

    # Not allowed (the ack says something else): every card through the response_url.
    slack.calls.clear()
    work = BackgroundWork(2)
    delivery = AllDoors(FlowCards(lookup), slack, work)  # type: ignore[arg-type]
    assert delivery.messages.private_cards([FLOW], requester=ASKER, reply_to=reply_to) is None
    _finished(work)
    assert slack.kinds() == ["respond"]


def test_the_ack_waits_for_no_store_to_learn_the_readers_language() -> None:
    slack = RecordingSlack()
    work = BackgroundWork(2)
    lookup = FlowLookup(Outlines(), ttl_seconds=30, max_flows=10)
    lookup.get(FLOW)
    delivery = AllDoors(
        FlowCards(lookup),
        slack,
        work,
        languages=LanguageNotYetKnown(),  # type: ignore[arg-type]
    )
    reply_to = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT")
    assert (
        delivery.messages.private_cards(
            [FLOW], requester=ASKER, reply_to=reply_to, ack_may_carry=True
        )
        is None
    )
    _finished(work)
    [(kind, sent)] = slack.calls
    assert kind == "respond" and "进行中" in sent["text"] and "In progress" not in sent["text"]
