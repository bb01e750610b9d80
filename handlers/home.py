"""App Home: the Home tab (`app_home_opened`), and its buttons: Recheck, Clear, language, and
"Check a flow" (opens the modal). Each acks, then the tab is redrawn after the change."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.audit import Requester
from bot.button_value import ButtonValue
from bot.language import as_language
from bot.reply_target import ReplyTarget
from bot.services import Services
from bot.slack_ids import (
    ACTION_HOME_CLEAR,
    ACTION_HOME_LANGUAGE,
    ACTION_HOME_OPEN_MODAL,
    ACTION_HOME_RECHECK,
    EVENT_APP_HOME_OPENED,
)
from handlers.context import Click, SlackEvent


def register(app: App, services: Services) -> None:
    @app.event(EVENT_APP_HOME_OPENED)
    def on_home_opened(ack: Ack, requester: Requester, slack_event: SlackEvent | None) -> None:
        handle_home_opened(ack, services, requester, slack_event)

    @app.action(ACTION_HOME_RECHECK)
    def on_home_recheck(ack: Ack, requester: Requester, click: Click) -> None:
        handle_home_recheck(ack, services, requester, click)

    @app.action(ACTION_HOME_CLEAR)
    def on_home_clear(ack: Ack, requester: Requester) -> None:
        handle_home_clear(ack, services, requester)

    @app.action(ACTION_HOME_LANGUAGE)
    def on_home_language(ack: Ack, requester: Requester, choice: str | None) -> None:
        handle_home_language(ack, services, requester, choice)

    @app.action(ACTION_HOME_OPEN_MODAL)
    def on_home_open_modal(ack: Ack, requester: Requester, reply_to: ReplyTarget) -> None:
        handle_home_open_modal(ack, services, requester, reply_to)


def handle_home_opened(
    ack: Ack, services: Services, requester: Requester, slack_event: SlackEvent | None
) -> None:
    ack()
    # The Messages tab opens the same event; only the Home tab has a view to publish.
    if slack_event is not None and slack_event.tab == "home":
        services.home.opened(requester.user_id)


def handle_home_recheck(ack: Ack, services: Services, requester: Requester, click: Click) -> None:
    ack()
    if isinstance(click, ButtonValue):
        services.home.recheck(click.flow_id, requester)
    else:
        # Not a value this bot made: redraw the tab, which only holds buttons that work.
        services.home.opened(requester.user_id)


def handle_home_clear(ack: Ack, services: Services, requester: Requester) -> None:
    ack()
    services.home.clear(requester.user_id)


def handle_home_language(
    ack: Ack, services: Services, requester: Requester, choice: str | None
) -> None:
    ack()
    language = as_language(choice)
    if language is None:
        services.home.opened(requester.user_id)
        return
    services.home.choose_language(requester.user_id, language)


def handle_home_open_modal(
    ack: Ack, services: Services, requester: Requester, reply_to: ReplyTarget
) -> None:
    ack()
    services.delivery.open_modal(reply_to.trigger_id, user_id=requester.user_id)
