"""The rooms that face Slack: one module per kind of request, each with `register(app, services)`.

The context middleware runs first and reads each payload into typed facts (`requester`,
`reply_to`, `click`, `request_text`); listeners take those as arguments, ack at once, and hand
the slow part to `services.delivery`, so an ack never waits on e签宝.
"""

from slack_bolt import App

from bot.access import AccessPolicy
from bot.services import Services
from handlers import access, actions, commands, errors, events, home, modal, shortcuts, steps
from handlers.context import ListenerContextMiddleware


def register(app: App, services: Services, policy: AccessPolicy | None = None) -> None:
    app.use(ListenerContextMiddleware())
    errors.register(app, services)
    events.register(app, services)
    access.register(app, services, policy or AccessPolicy())
    commands.register(app, services)
    shortcuts.register(app, services)
    modal.register(app, services)
    home.register(app, services)
    steps.register(app, services)
    # Last: its catch-all answers buttons no listener above claimed.
    actions.register(app, services)
