"""The rooms that face Slack: one module per kind of request, each with `register(app, services)`.

Handlers read the payload, ack at once, and hand the slow part (the e签宝 lookup and the reply)
to the background pool, so an ack never waits on e签宝.
"""

from slack_bolt import App

from bot.access import AccessPolicy
from bot.services import Services
from handlers import access, actions, commands, shortcuts


def register(app: App, services: Services, policy: AccessPolicy | None = None) -> None:
    access.register(app, services, policy or AccessPolicy())
    commands.register(app, services)
    shortcuts.register(app, services)
    actions.register(app, services)
