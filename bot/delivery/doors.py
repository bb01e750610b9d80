"""The doors, as the Slack-facing handlers are handed them (built by the composition root): how
an answer reaches a person from each way in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery.channels import ChannelDelivery
from bot.delivery.digests import DigestDelivery
from bot.delivery.home import HomeTab
from bot.delivery.messages import MessageDelivery
from bot.delivery.modal import ModalDelivery
from bot.delivery.watches import WatchDelivery
from bot.delivery.workflow_step import FlowStep
from bot.state.event_receipts import EventReceipts


@dataclass(frozen=True, slots=True)
class Doors:
    #: The slash command's cards, the shortcut's and Share's posts, Recheck, private notes.
    messages: MessageDelivery
    #: Watch, Unwatch and the list of watches.
    watches: WatchDelivery
    #: The "check a flow" form and its cards.
    modal: ModalDelivery
    #: The Home tab: recent lookups, watches, language (and publishing it).
    home: HomeTab
    #: The Workflow Builder step "Check e签宝 flow".
    step: FlowStep
    #: Drops an Events API delivery Slack sends again.
    events: EventReceipts
    #: The daily digest: `/esign-flow digest …` and Recheck on a digest (None: not offered).
    digests: DigestDelivery | None = None
    #: Most flow ids looked up for one command or message (Slack allows 5 response_url posts).
    max_ids: int = 5
    #: Channel messages answered in their thread, link unfurls, and the setting for both.
    channels: ChannelDelivery | None = None
