"""`/esign-flow digest …`: a malformed time is refused on the ack (nothing handed over); a time,
`off` or nothing is acked at once and handed to the digest door."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.cards import Card
from bot.cards.digest import render_digest_bad_time
from bot.delivery.doors import Doors
from bot.language import Language
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from handlers.commands import handle_command
from tests.handlers.conftest import ASKER, HOOK, FakeAck, Journal

REPLY = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ack_is_shown=True)


class FakeDigests:
    """Records what the command asked of the digest door; refuses like the real one."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def command_refusal(self, argument: str, language: Language) -> Card | None:
        if argument in ("", "off") or (":" in argument and argument[0].isdigit()):
            return None
        return render_digest_bad_time(argument, language=language)

    def command(self, argument: str, *, requester: Requester, reply_to: ReplyTarget) -> None:
        self._journal.events.append(("digest", {"argument": argument}))


def with_digests(doors: Doors, journal: Journal) -> Doors:
    fake: Any = FakeDigests(journal)
    return dataclasses.replace(doors, digests=fake)


def test_a_time_off_or_nothing_is_acked_then_handed_to_the_digest_door(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    digest_doors = with_digests(doors, journal)
    for text, argument in (("digest 09:30", "09:30"), ("digest off", "off"), ("digest", "")):
        journal.events.clear()
        handle_command(ack, digest_doors, ASKER, REPLY, text)
        assert journal.names() == ["ack", "digest"]
        assert journal.only("digest")["argument"] == argument


def test_a_malformed_time_is_refused_on_the_ack_and_nothing_changes(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_command(ack, with_digests(doors, journal), ASKER, REPLY, "digest soon")
    assert journal.names() == ["ack"]
    assert "not a time of day" in ack.text or "时间格式不对" in ack.text
