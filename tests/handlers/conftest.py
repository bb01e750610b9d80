"""Listener tests: each listener called as Bolt calls it, with a fake ack, fake services and
the typed context the middleware would have built; no server, no Slack, no e签宝."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.audit import Requester
from bot.cards import Card
from bot.reply_target import ReplyTarget
from bot.services import Services

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
    """Records what a listener asked the delivery path to do."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def tell(self, reply_to: ReplyTarget, card: Card) -> None:
        self._journal.events.append(("tell", {"reply_to": reply_to, "text": card.text}))

    def private_cards(self, flow_ids: list[str], **kwargs: Any) -> None:
        self._journal.events.append(("private_cards", {"flow_ids": list(flow_ids), **kwargs}))

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


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def ack(journal: Journal) -> FakeAck:
    return FakeAck(journal)


@pytest.fixture
def services(journal: Journal) -> Services:
    return Services(delivery=FakeDelivery(journal), max_ids=5)  # type: ignore[arg-type]
