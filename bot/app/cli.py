"""`esign-bot`: run the bot (the local playground when Slack is not configured), serve it over
HTTP or Socket Mode, look a flow up from a terminal, or run the e签宝 simulator."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from bot.app.local_extra import install_hint, missing_local_modules
from bot.app.logs import JsonFormatter, configure_logging
from bot.app.lookup_stack import StartSimulator, build_lookup_stack
from bot.app.runtime import create_runtime
from bot.app.settings import ConfigError, Settings, load_settings, log_format_when_refused
from bot.app.start_checks import serving_problem, worker_problem
from bot.cards.terminal import card_to_text
from bot.slack.requester import Requester

log = logging.getLogger("esign_flow")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="esign-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot; with no Slack settings, the local playground")
    commands.add_parser("serve", help="HTTP mode (the Procfile's web process)")
    commands.add_parser("socket", help="Socket Mode (the Procfile's worker process)")
    check = commands.add_parser("check", help="look flows up from a terminal")
    check.add_argument("flow_ids", nargs="+", metavar="flowId")
    check.add_argument("--json", action="store_true", help="print Block Kit, ready for Builder")
    commands.add_parser(
        "simulator", help="run the local e签宝 simulator (see `esign-bot simulator --help`)"
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulator"]:
        # The simulator has its own options; it is a stand-in, not part of the bot.
        from stand_ins.esign_simulator.cli import run_simulator

        return run_simulator(argv[1:])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        # No secret is known yet, and none is in the message: it never quotes a value.
        configure_logging("INFO", (), log_format_when_refused())
        return _refuse(str(exc))
    configure_logging(settings.log_level, settings.secret_values(), settings.log_format)
    if args.command == "check":
        return _check(settings, args.flow_ids, as_json=args.json)
    if args.command == "serve":
        return _serve(settings)
    if args.command == "socket":
        return _socket_mode(settings)
    if not settings.slack_configured:
        missing = missing_local_modules()
        if missing:
            return _refuse(install_hint(missing))
        from stand_ins.local_run import run_local

        return run_local(settings)
    return _socket_mode(settings) if settings.slack_app_token else _serve(settings)


def _serve(settings: Settings) -> int:
    from bot.app.web.server import serve

    # Checked once here, before granian starts workers that it would respawn on every failure.
    problem = settings.esign_missing() or serving_problem(settings)
    if problem is not None:
        return _refuse(problem)
    if settings.esign_simulator:
        from stand_ins.simulated_esign import SIMULATED_APP_FACTORY

        return serve(settings, app_factory=SIMULATED_APP_FACTORY)
    return serve(settings)


def _refuse(problem: str) -> int:
    """Say why the process will not start, and its exit code.

    With the human format, the plain lines as ever (they are what a deploy's log shows first);
    with LOG_FORMAT=json, one error line each through logging, since every line must parse.
    """
    if any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers):
        for line in problem.splitlines():
            log.error(line)
    else:
        print(problem, file=sys.stderr)
    return 2


def _simulator_if_asked(settings: Settings) -> StartSimulator | None:
    """The built-in simulator when no e签宝 is configured (a stand-in: imported only then)."""
    if settings.esign_configured:
        return None
    from stand_ins.simulated_esign import start_simulated_esign

    return start_simulated_esign


def _refused_start(settings: Settings) -> int | None:
    """The Socket Mode worker's checks before it builds anything: an exit code, or None."""
    try:
        problem = worker_problem(settings)
    except KeyboardInterrupt:  # stopped while waiting for Slack
        return 130
    if problem is None:
        return None
    return _refuse(problem)


def _socket_mode(settings: Settings) -> int:
    from slack_sdk.errors import SlackApiError

    from bot.app.metrics import METRICS_PATH
    from bot.app.socket_mode.endpoints import Route, WorkerEndpoint
    from bot.app.socket_mode.health import health_route
    from bot.app.socket_mode.link import SocketModeLink
    from bot.app.startup_heap import freeze_startup_heap
    from bot.state.event_receipts import EventReceipts

    if (missing := settings.esign_missing()) is not None:
        return _refuse(missing)
    if not settings.slack_app_token:
        return _refuse("SLACK_APP_TOKEN (xapp-…) is needed for Socket Mode.")
    if (refused := _refused_start(settings)) is not None:
        return refused
    runtime = create_runtime(settings, socket_mode=True, simulator=_simulator_if_asked(settings))
    handler = SocketModeLink(
        runtime.app,
        settings.slack_app_token.get_secret_value(),
        # Envelopes delivered again are answered once, across workers sharing the store.
        receipts=EventReceipts(runtime.store),
        ping_interval=settings.socket_mode_ping_interval,
        on_ack=runtime.metrics.socket_mode_acked if runtime.metrics else None,
    )
    freeze_startup_heap()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        handler.open()
    except SlackApiError as refusal:
        # apps.connections.open refused the token: retrying (or restarting) will not help.
        handler.shut()
        runtime.close()
        return _refuse(
            f"Slack refused SLACK_APP_TOKEN ({refusal.response.get('error')}): it must be the "
            "app-level token (xapp-…) with the connections:write scope."
        )
    if handler.client.is_connected():
        log.info("connected to Slack in Socket Mode")
    else:
        log.warning("Socket Mode: not connected yet, retrying in the background with backoff")
    routes: dict[int, dict[str, Route]] = {}
    if settings.worker_health_port is not None:
        routes.setdefault(settings.worker_health_port, {})["/healthz"] = health_route(
            handler.client
        )
    if settings.metrics_port is not None and runtime.metrics is not None:
        routes.setdefault(settings.metrics_port, {})[METRICS_PATH] = runtime.metrics.scrape
    endpoints = [WorkerEndpoint(settings.bind_host, port, paths) for port, paths in routes.items()]
    for endpoint, paths in zip(endpoints, routes.values(), strict=True):
        log.info("worker serving %s on port %d", ", ".join(paths), endpoint.port)
    stop.wait()
    for endpoint in endpoints:
        endpoint.close()
    handler.shut()
    runtime.close()
    return 0


def _check(settings: Settings, flow_ids: list[str], *, as_json: bool) -> int:
    # A lookup from a terminal answers from the simulator when no e签宝 is configured.
    stack = build_lookup_stack(settings, _simulator_if_asked(settings))
    failed = False
    try:
        for flow_id in flow_ids:
            outcome = stack.cards.look_up(
                flow_id, requester=Requester(None, None, None), trigger="cli"
            )
            failed = failed or outcome.snapshot is None
            card = stack.cards.render(outcome, ephemeral=False)
            if as_json:
                print(json.dumps({"blocks": card.to_message()["blocks"]}, ensure_ascii=False))
            else:
                print(card_to_text(card))
    finally:
        stack.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
