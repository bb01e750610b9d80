"""What the Slack-facing handlers are given to do their work (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery import CardDelivery


@dataclass(frozen=True, slots=True)
class Services:
    delivery: CardDelivery
    #: Most flow ids looked up for one command or message (Slack allows 5 response_url posts).
    max_ids: int = 5
