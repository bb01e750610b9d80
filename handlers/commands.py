"""`/esign-flow <flowId> [more ids]`: ephemeral cards, one per flow, through the response_url."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.cards import Card, Notice, render_help, render_notice, render_request_problems
from bot.delivery.channels import AutoVerb
from bot.delivery.doors import Doors
from bot.flows.ids import parse_auto_request, parse_command_text
from bot.slack.ids import COMMAND
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester


def register(app: App, doors: Doors) -> None:
    @app.command(COMMAND)
    def on_command(
        ack: Ack, requester: Requester, reply_to: ReplyTarget, request_text: str | None
    ) -> None:
        handle_command(ack, doors, requester, reply_to, request_text)


def handle_command(
    ack: Ack,
    doors: Doors,
    requester: Requester,
    reply_to: ReplyTarget,
    request_text: str | None,
) -> None:
    is_auto, switch = parse_auto_request(request_text)
    if is_auto and doors.channels is not None:
        ack()
        verb: AutoVerb = "on" if switch == "on" else "off" if switch == "off" else None
        doors.channels.auto_setting(verb, requester=requester, reply_to=reply_to)
        return
    request = parse_command_text(request_text, cap=doors.max_ids)
    # The ack carries words only in a language known now; nothing may be asked before it.
    language = doors.messages.ack_language(requester.user_id)
    if request.wants_help:
        ack(**render_help(COMMAND, language).to_message())
        return
    if request.verb == "watching":
        ack()
        doors.watches.list_watches(requester=requester, reply_to=reply_to)
        return
    if request.verb == "digest" and doors.digests is not None:
        refusal = doors.digests.command_refusal(request.argument, language)
        _ack_with(ack, refusal)
        if refusal is None:
            doors.digests.command(request.argument, requester=requester, reply_to=reply_to)
        return
    problems = render_request_problems(
        request.rejected, over_cap=request.over_cap, cap=doors.max_ids, language=language
    )
    if not request.flow_ids:
        ack(**(problems or render_notice(Notice.NO_FLOW_ID_GIVEN, language)).to_message())
        return
    if reply_to.response_url is None:
        ack(**render_notice(Notice.NO_REPLY_ADDRESS, language).to_message())
        return
    if request.verb is None:
        # A cached flow's card rides on the ack, so it lands with it; problems take its place
        # there (the response_url takes only five posts).
        now = doors.messages.private_cards(
            request.flow_ids,
            requester=requester,
            reply_to=reply_to,
            ack_may_carry=problems is None,
        )
        _ack_with(ack, problems or now)
        return
    _ack_with(ack, problems)
    if request.verb == "watch":
        for flow_id in request.flow_ids:
            doors.watches.watch(flow_id, requester=requester, reply_to=reply_to, requested_by=None)
    else:
        doors.watches.unwatch_flows(request.flow_ids, requester=requester, reply_to=reply_to)


def _ack_with(ack: Ack, card: Card | None) -> None:
    if card is None:
        ack()
    else:
        ack(**card.to_message())
