"""App Home: the Home tab (`app_home_opened`), and its buttons: Recheck, Clear, language, and
"Check a flow" (opens the modal). Each acks, then the tab is redrawn after the change."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.delivery.doors import Doors
from bot.language import as_language
from bot.slack.button_value import ButtonValue
from bot.slack.ids import (
    ACTION_HOME_CLEAR,
    ACTION_HOME_LANGUAGE,
    ACTION_HOME_OPEN_MODAL,
    ACTION_HOME_RECHECK,
    EVENT_APP_HOME_OPENED,
)
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from handlers.context import Click, SlackEvent


def register(app: App, doors: Doors) -> None:
    @app.event(EVENT_APP_HOME_OPENED)
    def on_home_opened(ack: Ack, requester: Requester, slack_event: SlackEvent | None) -> None:
        handle_home_opened(ack, doors, requester, slack_event)

    @app.action(ACTION_HOME_RECHECK)
    def on_home_recheck(ack: Ack, requester: Requester, click: Click) -> None:
        handle_home_recheck(ack, doors, requester, click)

    @app.action(ACTION_HOME_CLEAR)
    def on_home_clear(ack: Ack, requester: Requester) -> None:
        handle_home_clear(ack, doors, requester)

    @app.action(ACTION_HOME_LANGUAGE)
    def on_home_language(ack: Ack, requester: Requester, choice: str | None) -> None:
        handle_home_language(ack, doors, requester, choice)

    @app.action(ACTION_HOME_OPEN_MODAL)
    def on_home_open_modal(ack: Ack, requester: Requester, reply_to: ReplyTarget) -> None:
        handle_home_open_modal(ack, doors, requester, reply_to)


def handle_home_opened(
    ack: Ack, doors: Doors, requester: Requester, slack_event: SlackEvent | None
) -> None:
    ack()
    # The Messages tab opens the same event; only the Home tab has a view to publish.
    if slack_event is not None and slack_event.tab == "home":
        doors.home.opened(requester.user_id)


def handle_home_recheck(ack: Ack, doors: Doors, requester: Requester, click: Click) -> None:
    ack()
    if isinstance(click, ButtonValue):
        doors.home.recheck(click.flow_id, requester)
    else:
        # Not a value this bot made: redraw the tab, which only holds buttons that work.
        doors.home.opened(requester.user_id)


def handle_home_clear(ack: Ack, doors: Doors, requester: Requester) -> None:
    ack()
    doors.home.clear(requester.user_id)


def handle_home_language(ack: Ack, doors: Doors, requester: Requester, choice: str | None) -> None:
    ack()
    language = as_language(choice)
    if language is None:
        doors.home.opened(requester.user_id)
        return
    doors.home.choose_language(requester.user_id, language)


def handle_home_open_modal(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget
) -> None:
    ack()
    doors.modal.open_modal(reply_to.trigger_id, user_id=requester.user_id)
