"""The bot's own words for what happened to a request: every note a person can be sent.

Listeners and the delivery path report facts (a `Notice`, an access `Refusal`, where a post
failed); only this module turns them into sentences, so the bot speaks with one voice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from bot.cards.card import Card
from bot.cards.notices import render_note
from bot.slack.access import Refusal
from bot.slack.button_value import ButtonValueError
from bot.slack.ids import COMMAND

EXAMPLE_FLOW_ID: Final = "803719636976683872"


class Notice(StrEnum):
    NO_FLOW_ID_GIVEN = "no_flow_id_given"
    NO_REPLY_ADDRESS = "no_reply_address"
    NO_FLOW_ID_IN_MESSAGE = "no_flow_id_in_message"
    UNSUPPORTED_BUTTON = "unsupported_button"
    LOOKUP_FAILED_UNEXPECTEDLY = "lookup_failed_unexpectedly"
    RESTARTING = "restarting"


_NOTICES: Final[dict[Notice, tuple[str, str]]] = {
    Notice.NO_FLOW_ID_GIVEN: ("No flow id given", f"Try `{COMMAND} help`."),
    Notice.NO_REPLY_ADDRESS: ("Slack sent no reply address", "Please run the command again."),
    Notice.NO_FLOW_ID_IN_MESSAGE: (
        "No e签宝 flow id in that message",
        f"A flow id is a long number such as `{EXAMPLE_FLOW_ID}`. "
        f"You can also type `{COMMAND} <flowId>` in a channel.",
    ),
    Notice.UNSUPPORTED_BUTTON: (
        "That button is not supported",
        "This card may come from an older version of the bot. "
        f"Run `{COMMAND} <flowId>` for a fresh one.",
    ),
    Notice.LOOKUP_FAILED_UNEXPECTEDLY: (
        "Something went wrong on the bot's side",
        "The lookup failed unexpectedly; the details are in the bot's logs.",
    ),
    Notice.RESTARTING: (
        "The bot is restarting",
        "Your request arrived while the bot was shutting down, so it was not looked up. "
        "Please try again in a minute.",
    ),
}


def render_notice(notice: Notice) -> Card:
    title, detail = _NOTICES[notice]
    return render_note(title, detail)


_REFUSALS: Final[dict[Refusal, str]] = {
    Refusal.TEAM: "This workspace is not allowed to use the e签宝 flow bot.",
    Refusal.CHANNEL: "The e签宝 flow bot is not enabled in this channel. Ask in a support channel.",
    Refusal.USER: "You are not on the list of people who may look up e签宝 flows.",
}


def render_refusal(refusal: Refusal) -> Card:
    return render_note("Not allowed here", _REFUSALS[refusal])


def refusal_words(refusal: Refusal) -> str:
    """The refusal as one plain sentence (under a form's field, or a failed workflow step)."""
    return _REFUSALS[refusal]


def render_bad_button(problem: ButtonValueError) -> Card:
    """A click whose button value this bot could not have made (forged, or truncated)."""
    return render_note("That button did not carry a flow id", problem.detail)


class PublicAnswer(StrEnum):
    """Where a card was meant to be posted for everyone to see."""

    THREAD = "thread"  # the message shortcut answers in the message's thread
    SHARE = "share"  # Share posts a private card to its channel


def render_not_posted(
    answer: PublicAnswer, *, not_allowed_here: bool, direct: bool, flow_id: str
) -> Card:
    """Why a card could not be posted publicly, and what would help (shown above the card)."""
    if answer is PublicAnswer.SHARE:
        return render_note(
            "Could not share the card", _why_not_shared(not_allowed_here, direct, flow_id)
        )
    return render_note(
        "Could not answer in the thread", _why_not_in_thread(not_allowed_here, direct)
    )


def _why_not_shared(not_allowed_here: bool, direct: bool, flow_id: str) -> str:
    if not not_allowed_here:
        return "Slack did not take the shared card. Please try Share again in a moment."
    if direct:
        return (
            "I cannot post in a direct message between people. To share this card, run "
            f"`{COMMAND} {flow_id}` in a channel I am in and press Share there."
        )
    return (
        "I am not a member of this channel. Invite me with `/invite @esign-flow`, "
        "then press Share again."
    )


def _why_not_in_thread(not_allowed_here: bool, direct: bool) -> str:
    if not not_allowed_here:
        return "Slack did not take my reply in the thread, so only you can see this card."
    if direct:
        return "I cannot post in a direct message between people, so only you can see this card."
    return (
        "I am not a member of this channel, so only you can see this card. "
        "Invite me with `/invite @esign-flow` to answer in threads here."
    )


def render_incident(incident_id: str) -> Card:
    """What the person sees when a listener failed: an id the operators can find in the logs."""
    return render_note(
        "Something went wrong on the bot's side",
        "The bot could not finish this request. Please try again; if it keeps happening, "
        f"give the bot's operators this error id: {incident_id}",
    )
