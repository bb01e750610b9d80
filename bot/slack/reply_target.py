"""Where an answer goes: the facts a listener's payload gives about its conversation.

Built once per request by the handlers' context middleware; the delivery path reads nothing
else, so every way in (command, shortcut, button) answers by the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class ViewRef:
    """A modal or Home tab the request came from, which views.update / views.publish change."""

    view_id: str
    kind: Literal["modal", "home"]
    #: Slack's version of the view; an update with it fails rather than overwrite a newer one.
    hash: str | None = None
    #: The flows the modal shows (kept in its private_metadata), so a Recheck redraws them all.
    flow_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    #: The payload's own reply address; private answers go there.
    response_url: str | None = None
    channel_id: str | None = None
    #: The thread a public answer belongs in (a message shortcut's, or a card's own thread).
    thread_ts: str | None = None
    #: The posted message a click came from, which chat.update can change.
    message_ts: str | None = None
    #: The person acted on a private (ephemeral) card: answers replace it.
    ephemeral: bool = False
    #: A DM or group DM between people: no bot can be invited to post there.
    direct_message: bool = False
    #: Slack shows the ack's own message to the person (slash commands), so an answer that is
    #: ready at once can ride on the ack instead of spending one of the response_url's posts.
    ack_is_shown: bool = False
    #: The modal or Home tab acted on (a modal's cards are redrawn there, not sent as messages).
    view: ViewRef | None = None
    #: A modal's submission: its ack can refuse next to a field (response_action: errors).
    form_submission: bool = False
    #: The slash-command-less doors (global shortcut, Home tab) open modals with this; 3 s.
    trigger_id: str | None = None

    @property
    def posted_message(self) -> tuple[str, str] | None:
        """(channel, ts) of a posted card that chat.update can change; None when ephemeral."""
        if self.ephemeral or not self.channel_id or not self.message_ts:
            return None
        return (self.channel_id, self.message_ts)

    @property
    def can_share(self) -> bool:
        """Whether posting to this conversation could work at all (a Share button's premise)."""
        return not self.direct_message
