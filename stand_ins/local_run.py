"""`esign-bot` with no Slack settings: the bot and the local Slack playground in one process.

The page at http://127.0.0.1:<PORT>/ stands in for a Slack channel; it sends the same signed
requests Slack would to the bot's real /slack/events route, and plays the response_url and the
Web API for it. With no e签宝 credentials either, it hands the runtime the e签宝 simulator.
"""

from __future__ import annotations

import errno
import secrets
import signal
import threading
from collections.abc import Iterable
from types import FrameType
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.app.runtime import create_runtime
from bot.app.settings import Settings
from bot.app.web.wsgi import BotWsgi
from stand_ins.esign_simulator import SAMPLE_FLOWS
from stand_ins.http_server import WsgiServerThread
from stand_ins.simulated_esign import start_simulated_esign
from stand_ins.slack_playground import Playground

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment


class _OneServer:
    """Routes to the bot once it is built; until then only the playground answers.

    The bot is built after the server starts because Bolt checks its token (auth.test) against
    the playground's Web API at construction.
    """

    def __init__(self, playground: Playground) -> None:
        self.playground = playground
        self.bot: BotWsgi | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self.bot or self.playground.wsgi_app
        return app(environ, start_response)


def _serve(app: _OneServer, port: int) -> WsgiServerThread:
    try:
        return WsgiServerThread(app, host="127.0.0.1", port=port).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        print(f"Port {port} is taken; using a free one instead (set PORT to choose).")
        return WsgiServerThread(app, host="127.0.0.1", port=0).start()


#: What a link to a flow looks like in the playground (example.com: reserved, never a real site).
PLAYGROUND_LINKS = "https://console.example.com/esign/flows/{flow_id}"


def run_local(settings: Settings) -> int:
    signing_secret = secrets.token_hex(16)
    bot_token = f"xoxb-playground-{secrets.token_hex(12)}"
    samples = SAMPLE_FLOWS if not settings.esign_configured else []
    playground = Playground(
        signing_secret=signing_secret,
        bot_token=bot_token,
        sample_flows=[(s.flow_id, s.title) for s in samples],
    )
    one_server = _OneServer(playground)
    server = _serve(one_server, settings.port)
    playground.base_url = server.url
    playground.bot_events_url = f"{server.url}/slack/events"
    runtime = create_runtime(
        settings.model_copy(
            update={
                "slack_bot_token": SecretStr(bot_token),
                "slack_signing_secret": SecretStr(signing_secret),
                "slack_app_token": None,
                "slack_api_url": playground.api_url,
                # The port actually served (PORT may have been taken): callbacks come here.
                "port": server.port,
                # A digest due after "Advance the clock" shows up at once.
                "digest_tick_seconds": 1.0,
                # Links to flows unfurl in the page too, unless a console of your own is set.
                "unfurl_url_patterns": settings.unfurl_url_patterns or [PLAYGROUND_LINKS],
            }
        ),
        simulator=start_simulated_esign,
        clock=playground.clock,
    )
    one_server.bot = BotWsgi(runtime, fallback=playground.wsgi_app)
    print(_banner(server.url, settings, [s.flow_id for s in samples]), flush=True)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    print("Stopping: finishing lookups in flight…", flush=True)
    server.stop()
    runtime.close(timeout=10)
    return 0


def _banner(url: str, settings: Settings, sample_ids: list[str]) -> str:
    esign = (
        f"e签宝 {settings.esign_env} at {settings.esign_url}"
        if settings.esign_configured
        else "built-in e签宝 SIMULATOR (no ESIGN_APP_ID / ESIGN_APP_SECRET set): "
        "every card says 'simulated e签宝 data'"
    )
    lines = [
        "",
        "esign-flow is running locally.",
        f"  Open      {url}/",
        "  Slack     local playground (no SLACK_BOT_TOKEN set): the page plays Slack for the bot",
        f"  e签宝     {esign}",
        f"  Cache     answers reused for {settings.cache_ttl_seconds:g} s",
    ]
    if sample_ids:
        lines.append(
            f"  Try       /esign-flow {sample_ids[0]}   (sample flows are listed on the page)"
        )
    lines.append(
        f"  Links     {(settings.unfurl_url_patterns or [PLAYGROUND_LINKS])[0]} unfurls; "
        "/esign-flow auto on answers ids in messages"
    )
    lines.append("  Stop      Ctrl-C")
    return "\n".join(lines)
