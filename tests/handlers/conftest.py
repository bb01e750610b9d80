"""Listener tests: each listener called as Bolt calls it, with a fake ack, fake doors and
the typed context the middleware would have built; no server, no Slack, no e签宝."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.cards import Card, Note
from bot.delivery.doors import Doors
from bot.delivery.workflow_step import StepRequest
from bot.language import Language
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.event_receipts import EventReceipts

FLOW = "803719636976683872"
OTHER_FLOW = "802965095964494307"
HOOK = "https://hooks.slack.com/commands/T0TEAM/1/abc"
ASKER = Requester(team_id="T0TEAM", channel_id="C0SUPPORT", user_id="U0ASKER")


@dataclass
class Journal:
    """What happened, in order: acks and every delivery call."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def only(self, name: str) -> dict[str, Any]:
        found = [args for event, args in self.events if event == name]
        assert len(found) == 1, f"expected one {name}, got {self.names()}"
        return found[0]


class FakeAck:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def __call__(self, **message: Any) -> None:
        self._journal.events.append(("ack", message))

    @property
    def text(self) -> str:
        acks = [args for name, args in self._journal.events if name == "ack"]
        assert len(acks) == 1, "a listener acks exactly once"
        return str(acks[0].get("text", ""))


class FakeDelivery:
    """Records what a listener asked the doors (messages, watches, modal) to do."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def tell(self, reply_to: ReplyTarget, note: Note, *, user_id: str | None = None) -> None:
        # Rendered as the real delivery would, in the person's language (after the ack).
        text = note(self.language).text
        self._journal.events.append(("tell", {"reply_to": reply_to, "text": text, "user": user_id}))

    def ack_language(self, user_id: str | None) -> Language:
        # Not journaled: asking costs nothing and is no delivery.
        return self.known

    def private_cards(self, flow_ids: list[str], **kwargs: Any) -> Card | None:
        self._journal.events.append(("private_cards", {"flow_ids": list(flow_ids), **kwargs}))
        return self.card_for_ack if kwargs.get("ack_may_carry") else None

    def public_cards(self, flow_ids: list[str], **kwargs: Any) -> None:
        self._journal.events.append(("public_cards", {"flow_ids": list(flow_ids), **kwargs}))

    def recheck(self, flow_id: str, **kwargs: Any) -> None:
        self._journal.events.append(("recheck", {"flow_id": flow_id, **kwargs}))

    def watch(self, flow_id: str, **kwargs: Any) -> None:
        self._journal.events.append(("watch", {"flow_id": flow_id, **kwargs}))

    def unwatch(self, flow_id: str, **kwargs: Any) -> None:
        self._journal.events.append(("unwatch", {"flow_id": flow_id, **kwargs}))

    def unwatch_flows(self, flow_ids: list[str], **kwargs: Any) -> None:
        self._journal.events.append(("unwatch_flows", {"flow_ids": list(flow_ids), **kwargs}))

    def list_watches(self, **kwargs: Any) -> None:
        self._journal.events.append(("list_watches", kwargs))

    def open_modal(self, trigger_id: str | None, **kwargs: Any) -> bool:
        self._journal.events.append(("open_modal", {"trigger_id": trigger_id, **kwargs}))
        return True

    def cached_modal(self, flow_ids: list[str], **kwargs: Any) -> dict[str, Any] | None:
        self._journal.events.append(("cached_modal", {"flow_ids": list(flow_ids), **kwargs}))
        return self.cached_view

    def open_note(self, trigger_id: str | None, note: Note, *, user_id: str | None = None) -> bool:
        text = note(self.language).text
        self._journal.events.append(
            ("open_note", {"trigger_id": trigger_id, "text": text, "user": user_id})
        )
        return True

    def modal_cards(self, flow_ids: list[str], **kwargs: Any) -> None:
        self._journal.events.append(("modal_cards", {"flow_ids": list(flow_ids), **kwargs}))

    #: The person's language once asked (after the ack), and the one known at the ack.
    language: Language = "both"
    known: Language = "both"
    #: What cached_modal answers: a view when "all flows are cached".
    cached_view: dict[str, Any] | None = None
    #: What private_cards offers the ack, when it may: a card when "the first flow is cached".
    card_for_ack: Card | None = None


class FakeHome:
    """Records what a listener asked of the Home tab."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self.chosen: Language = "both"

    def language(self, user_id: str | None) -> Language:
        return self.chosen

    def opened(self, user_id: str | None) -> None:
        self._journal.events.append(("home_opened", {"user_id": user_id}))

    def recheck(self, flow_id: str, requester: Requester) -> None:
        self._journal.events.append(("home_recheck", {"flow_id": flow_id, "requester": requester}))

    def clear(self, user_id: str | None) -> None:
        self._journal.events.append(("home_clear", {"user_id": user_id}))

    def choose_language(self, user_id: str | None, language: Language) -> None:
        self._journal.events.append(("home_language", {"user_id": user_id, "language": language}))


class FakeStep:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def run(self, step: StepRequest, **kwargs: Any) -> None:
        self._journal.events.append(("step", {"step": step, **kwargs}))

    def refuse(self, fail: Any, message: str) -> None:
        self._journal.events.append(("step_refused", {"fail": fail, "message": message}))


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def ack(journal: Journal) -> FakeAck:
    return FakeAck(journal)


@pytest.fixture
def delivery(journal: Journal) -> FakeDelivery:
    return FakeDelivery(journal)


@pytest.fixture
def doors(journal: Journal, delivery: FakeDelivery) -> Doors:
    return Doors(
        # One recorder plays every door: the journal keeps the order across them.
        messages=delivery,  # type: ignore[arg-type]
        watches=delivery,  # type: ignore[arg-type]
        modal=delivery,  # type: ignore[arg-type]
        home=FakeHome(journal),  # type: ignore[arg-type]
        step=FakeStep(journal),  # type: ignore[arg-type]
        events=EventReceipts(None),
        max_ids=5,
    )
