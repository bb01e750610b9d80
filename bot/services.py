"""What the Slack-facing handlers are given to do their work (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery import CardDelivery
from bot.event_receipts import EventReceipts
from bot.home import HomeTab
from bot.workflow_step import FlowStep


@dataclass(frozen=True, slots=True)
class Services:
    delivery: CardDelivery
    #: The Home tab: recent lookups, watches, language (and publishing it).
    home: HomeTab
    #: The Workflow Builder step "Check e签宝 flow".
    step: FlowStep
    #: Drops an Events API delivery Slack sends again.
    events: EventReceipts
    #: Most flow ids looked up for one command or message (Slack allows 5 response_url posts).
    max_ids: int = 5
