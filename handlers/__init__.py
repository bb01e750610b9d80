"""The rooms that face Slack: one module per kind of request, each with `register(app, doors)`.

The context middleware runs first and reads each payload into typed facts (`requester`,
`reply_to`, `click`, `request_text`); listeners take those as arguments, ack at once, and hand
the slow part to `doors.delivery`, so an ack never waits on e签宝.
"""

from slack_bolt import App

from bot.delivery.doors import Doors
from bot.slack.access import AccessPolicy
from handlers import (
    access,
    actions,
    commands,
    errors,
    events,
    home,
    messages,
    modal,
    shortcuts,
    steps,
    unfurls,
)
from handlers.context import ListenerContextMiddleware


def register(app: App, doors: Doors, policy: AccessPolicy | None = None) -> None:
    app.use(ListenerContextMiddleware())
    errors.register(app, doors)
    events.register(app, doors)
    access.register(app, doors, policy or AccessPolicy())
    commands.register(app, doors)
    # Right after the command: Bolt tries listeners in order, and channel messages come often.
    messages.register(app, doors)
    unfurls.register(app, doors)
    shortcuts.register(app, doors)
    modal.register(app, doors)
    home.register(app, doors)
    steps.register(app, doors)
    # Last: its catch-all answers buttons no listener above claimed.
    actions.register(app, doors)
