"""`esign-bot simulator`: run the e签宝 simulator in the foreground for local work."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from stand_ins.esign_simulator.catalogue import SAMPLE_FLOWS
from stand_ins.esign_simulator.gateway import SIM_APP_ID, SIM_APP_SECRET
from stand_ins.esign_simulator.server import EsignSimulator, load_flows_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="esign-bot simulator",
        description="A local e签宝 outline endpoint with signature and token auth.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS pick a free port")
    parser.add_argument("--app-id", default=SIM_APP_ID)
    parser.add_argument("--app-secret", default=SIM_APP_SECRET)
    parser.add_argument("--flows", metavar="FILE", help="JSON list of extra outline objects")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS")
    return parser


def run_simulator(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    simulator = EsignSimulator(
        app_id=args.app_id,
        app_secret=args.app_secret,
        host=args.host,
        port=args.port,
        flows_file=args.flows,
        latency=args.latency,
    )
    try:
        simulator.start()
    except (OSError, ValueError) as exc:
        print(f"e签宝 simulator could not start: {exc}", flush=True)
        return 1
    # Never echo a real secret; the built-in one is public anyway.
    secret = (
        f"built-in simulator secret {SIM_APP_SECRET!r}"
        if args.app_secret == SIM_APP_SECRET
        else "secret from --app-secret"
    )
    lines = [f"e签宝 simulator on {simulator.base_url} (app id {args.app_id}, {secret})"]
    lines += [f"  {sample.flow_id:<19}  {sample.title}" for sample in SAMPLE_FLOWS]
    if args.flows:
        extra = load_flows_file(Path(args.flows))
        lines += [f"  {flow['flowId']}  (from {args.flows})" for flow in extra]
    # SIGTERM (docker stop, a process manager) ends the run like Ctrl-C: cleanly, exit 0.
    # Installed before the banner, since whoever reads the banner may stop us right away.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if in_main_thread else None
    try:
        print("\n".join(lines), flush=True)
        simulator.serve_forever()
    except KeyboardInterrupt:
        simulator.stop()  # arrived before serve_forever() could catch it
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0
