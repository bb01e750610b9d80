"""Card buttons: Recheck refreshes the card in place; Share posts it for everyone to see;
Watch and Unwatch start and stop telling the thread (or the person) when the flow moves."""

from __future__ import annotations

import re
from functools import partial

from slack_bolt import Ack, App

from bot.cards import Notice, PublicAnswer, render_bad_button, render_notice
from bot.delivery.channels import AnswerShown
from bot.delivery.doors import Doors
from bot.slack.button_value import ButtonValue
from bot.slack.ids import (
    ACTION_DIGEST_RECHECK,
    ACTION_RECHECK,
    ACTION_SHARE,
    ACTION_UNWATCH,
    ACTION_WATCH,
)
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from handlers.context import Click


def register(app: App, doors: Doors) -> None:
    @app.action(ACTION_RECHECK)
    def on_recheck(
        ack: Ack,
        requester: Requester,
        reply_to: ReplyTarget,
        click: Click,
        answer_shown: AnswerShown | None,
    ) -> None:
        handle_recheck(ack, doors, requester, reply_to, click, answer_shown)

    @app.action(ACTION_DIGEST_RECHECK)
    def on_digest_recheck(
        ack: Ack, requester: Requester, reply_to: ReplyTarget, click: Click
    ) -> None:
        handle_digest_recheck(ack, doors, requester, reply_to, click)

    @app.action(ACTION_SHARE)
    def on_share(ack: Ack, requester: Requester, reply_to: ReplyTarget, click: Click) -> None:
        handle_share(ack, doors, requester, reply_to, click)

    @app.action(ACTION_WATCH)
    def on_watch(
        ack: Ack,
        requester: Requester,
        reply_to: ReplyTarget,
        click: Click,
        answer_shown: AnswerShown | None,
    ) -> None:
        handle_watch(ack, doors, requester, reply_to, click, answer_shown)

    @app.action(ACTION_UNWATCH)
    def on_unwatch(ack: Ack, requester: Requester, reply_to: ReplyTarget, click: Click) -> None:
        handle_unwatch(ack, doors, requester, reply_to, click)

    # Registered last, so it only sees actions no listener above claimed: buttons from an older
    # version of the bot, or a crafted payload. The person still gets an answer.
    @app.action(re.compile(".*"))
    def on_unknown_action(ack: Ack, requester: Requester, reply_to: ReplyTarget) -> None:
        handle_unknown_action(ack, doors, requester, reply_to)


def handle_recheck(
    ack: Ack,
    doors: Doors,
    requester: Requester,
    reply_to: ReplyTarget,
    click: Click,
    answer_shown: AnswerShown | None = None,
) -> None:
    value = _acked_value(ack, doors, requester, reply_to, click)
    if value is not None and answer_shown is not None and doors.channels is not None:
        # An automatic answer holding several flows: redrawn whole, not turned into one card.
        doors.channels.recheck_answer(answer_shown, requester=requester, reply_to=reply_to)
    elif value is not None:
        doors.messages.recheck(
            value.flow_id,
            requester=requester,
            reply_to=reply_to,
            requested_by=value.requested_by,
        )


def handle_digest_recheck(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget, click: Click
) -> None:
    value = _acked_value(ack, doors, requester, reply_to, click)
    if value is not None and doors.digests is not None:
        doors.digests.recheck(value.flow_id, requester=requester, reply_to=reply_to)


def handle_share(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget, click: Click
) -> None:
    value = _acked_value(ack, doors, requester, reply_to, click)
    if value is not None:
        doors.messages.public_cards(
            [value.flow_id], requester=requester, reply_to=reply_to, answer=PublicAnswer.SHARE
        )


def handle_watch(
    ack: Ack,
    doors: Doors,
    requester: Requester,
    reply_to: ReplyTarget,
    click: Click,
    answer_shown: AnswerShown | None = None,
) -> None:
    value = _acked_value(ack, doors, requester, reply_to, click)
    if value is not None and answer_shown is not None and doors.channels is not None:
        doors.channels.watch_from_answer(value.flow_id, requester=requester, reply_to=reply_to)
    elif value is not None:
        doors.watches.watch(
            value.flow_id, requester=requester, reply_to=reply_to, requested_by=value.requested_by
        )


def handle_unwatch(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget, click: Click
) -> None:
    value = _acked_value(ack, doors, requester, reply_to, click)
    if value is None:
        return
    if reply_to.view is not None and reply_to.view.kind == "home":
        # The Home tab lists watches away from their cards: found by person, flow and thread.
        doors.home.unwatch(value.flow_id, requester, value.thread_ts)
        return
    doors.watches.unwatch(
        value.flow_id, requester=requester, reply_to=reply_to, requested_by=value.requested_by
    )


def handle_unknown_action(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget
) -> None:
    ack()
    doors.messages.tell(
        reply_to, partial(render_notice, Notice.UNSUPPORTED_BUTTON), user_id=requester.user_id
    )


def _acked_value(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget, click: Click
) -> ButtonValue | None:
    """Ack, then the button's value; a value we did not make gets a note instead."""
    ack()
    if isinstance(click, ButtonValue):
        return click
    doors.messages.tell(reply_to, partial(render_bad_button, click), user_id=requester.user_id)
    return None
