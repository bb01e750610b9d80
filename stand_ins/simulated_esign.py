"""The built-in e签宝 simulator, started inside a bot process that has no e签宝 credentials:
the local run, `esign-bot check`, and `serve` / `socket` with ESIGN_SIMULATOR=1 (a real Slack
app on made-up flows, e.g. a trial workspace).

The bot's composition root never imports this: these callers hand `start_simulated_esign` in,
so a production process does not load a stand-in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.app.lookup_stack import EsignEndpoint
from bot.app.settings import Settings
from bot.esign.callbacks import CALLBACK_PATH
from stand_ins.esign_simulator import EsignSimulator

if TYPE_CHECKING:
    from bot.app.web.asgi import BotAsgi

log = logging.getLogger(__name__)

#: granian's app factory for `serve` with ESIGN_SIMULATOR=1 (see `serving_app`).
SIMULATED_APP_FACTORY = "stand_ins.simulated_esign:serving_app"


def start_simulated_esign(settings: Settings) -> tuple[EsignEndpoint, Callable[[], None]]:
    """Start a simulator for this process: where it answers, and how to stop it."""
    # Its scripted flows tell this bot when they end, as e签宝 would tell a deployed one.
    simulator = EsignSimulator(
        callback_url=f"http://127.0.0.1:{settings.port}{CALLBACK_PATH}",
        script_seconds=settings.simulated_flow_seconds,
    ).start()
    why = (
        "ESIGN_SIMULATOR=1"
        if settings.esign_simulator
        else "NO e签宝 CREDENTIALS (ESIGN_APP_ID / ESIGN_APP_SECRET)"
    )
    log.warning(
        "%s: answering from the built-in e签宝 SIMULATOR at %s. "
        "Every card says 'simulated e签宝 data'.",
        why,
        simulator.base_url,
    )
    endpoint = EsignEndpoint(
        simulator.base_url, simulator.app_id, simulator.app_secret, simulated=True
    )
    return endpoint, simulator.stop


def serving_app() -> BotAsgi:
    """The web workers' app with a simulator each, as `bot.app.web.server.serving_app` otherwise."""
    from bot.app.web.server import serving_app as bot_serving_app

    return bot_serving_app(simulator=start_simulated_esign)
