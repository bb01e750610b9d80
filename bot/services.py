"""What the Slack-facing handlers are given to do their work (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.background import BackgroundWork
from bot.flow_cards import FlowCards
from bot.replies import SlackReplies


@dataclass(frozen=True, slots=True)
class Services:
    cards: FlowCards
    replies: SlackReplies
    work: BackgroundWork
    #: Most flow ids looked up for one command or message (Slack allows 5 response_url posts).
    max_ids: int = 5
