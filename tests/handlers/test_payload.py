"""Reading where a Slack request came from, on the payload shapes Slack sends."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cards import PublicAnswer, render_not_posted
from handlers.payload import in_direct_message

FLOW = "803719636976683872"


@pytest.mark.parametrize(
    ("payload", "direct"),
    [
        # message shortcut / block_actions in a DM between two people
        ({"channel": {"id": "D024BE91L", "name": "directmessage"}}, True),
        # a click on an ephemeral card: only the container names the channel
        ({"container": {"type": "message", "channel_id": "D024BE91L"}}, True),
        # slash command in a DM
        ({"channel_id": "D024BE91L", "channel_name": "directmessage"}, True),
        # group DMs: C ids nowadays, named mpdm-…
        ({"channel_id": "C07MPDM01", "channel_name": "mpdm-ann--bo--cy-1"}, True),
        ({"channel": {"id": "C07MPDM01", "name": "mpdm-ann--bo--cy-1"}}, True),
        # channels: public, private (named "privategroup" in payloads), legacy private G id
        ({"channel": {"id": "C0GENERAL", "name": "general"}}, False),
        ({"channel_id": "C0PRIVATE", "channel_name": "privategroup"}, False),
        ({"channel": {"id": "G0LEGACY1", "name": "privategroup"}}, False),
        # malformed: never an exception, never a DM
        ({"channel": "D024BE91L"}, False),
        ({"channel_id": 5, "channel_name": None}, False),
        ({}, False),
        (None, False),
        ("directmessage", False),
    ],
)
def test_direct_messages_are_recognised(payload: Any, direct: bool) -> None:
    assert in_direct_message(payload) is direct


def _why(answer: PublicAnswer, *, not_allowed_here: bool, direct: bool) -> str:
    """The note's text as the person reads it (the card's top-level text)."""
    card = render_not_posted(answer, not_allowed_here=not_allowed_here, direct=direct, flow_id=FLOW)
    return card.text


def test_share_explains_what_would_help() -> None:
    in_a_dm = _why(PublicAnswer.SHARE, not_allowed_here=True, direct=True)
    assert "direct message" in in_a_dm and f"`/esign-flow {FLOW}`" in in_a_dm
    assert "/invite" not in in_a_dm
    assert "/invite @esign-flow" in _why(PublicAnswer.SHARE, not_allowed_here=True, direct=False)
    assert "try Share again" in _why(PublicAnswer.SHARE, not_allowed_here=False, direct=True)
    assert "try Share again" in _why(PublicAnswer.SHARE, not_allowed_here=False, direct=False)


def test_the_shortcut_explains_what_would_help() -> None:
    assert "direct message" in _why(PublicAnswer.THREAD, not_allowed_here=True, direct=True)
    assert "/invite @esign-flow" in _why(PublicAnswer.THREAD, not_allowed_here=True, direct=False)
    assert "did not take my reply" in _why(PublicAnswer.THREAD, not_allowed_here=False, direct=True)
