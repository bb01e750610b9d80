"""What a serving process checks before it starts its workers, each failure as one plain line.

A deploy with a wrong setting should say which setting and why in the first line of the log,
and stop: not crash-loop through tracebacks in workers that are respawned. What the settings
object cannot see from the values alone is checked here against the world: the state file and
whether Slack accepts the bot token. An unreachable Slack is not a failure (see
bot.app.slack_presence): the process starts and waits for it.
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from pathlib import Path

from bot.app.settings import Settings
from bot.app.slack_presence import await_slack, check_bot_token, refusal_line


def serving_problem(settings: Settings) -> str | None:
    """The first thing that would stop the web process, as one line; None if none."""
    # Not waiting for an unreachable Slack: the workers start and wait for it (and say so).
    return listen_problem(settings) or state_file_problem(settings) or bot_token_problem(settings)


def worker_problem(settings: Settings) -> str | None:
    """The first thing that would stop a Socket Mode worker, as one line; None if none.

    Waits while Slack is unreachable: the worker has nothing to serve without it.
    """
    return state_file_problem(settings) or bot_token_problem(settings, wait=True)


def listen_problem(settings: Settings) -> str | None:
    """One line when the web process could not listen on BIND_HOST and PORT."""
    try:
        infos = socket.getaddrinfo(
            settings.bind_host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as exc:
        return f"BIND_HOST: {settings.bind_host!r} is not an address of this machine ({exc})."
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server will: a port left in TIME_WAIT by the last run is free to take.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            # Which setting to fix: the address is not this machine's, or the port is taken.
            name = "BIND_HOST" if exc.errno == errno.EADDRNOTAVAIL else "PORT"
            return (
                f"{name}: cannot listen on {settings.bind_host} port {settings.port} "
                f"({exc.strerror or exc})."
            )
    return None


def bot_token_problem(settings: Settings, *, wait: bool = False) -> str | None:
    """One line when Slack refuses SLACK_BOT_TOKEN; None when it accepts it or (unless `wait`:
    then until it answers) is unreachable."""
    if settings.slack_bot_token is None:
        return None
    token = settings.slack_bot_token.get_secret_value()
    if wait:
        check = await_slack(
            settings.slack_api_url, token, recheck_seconds=settings.slack_recheck_seconds
        )
    else:
        check = check_bot_token(settings.slack_api_url, token)
    return refusal_line(check.detail) if check.outcome == "refused" else None


def state_file_problem(settings: Settings) -> str | None:
    """One line when STATE_DB_PATH cannot be the SQLite state file; its folder is created.

    An existing file is only read here, never written: if it is not a database, it may be
    something else of value that the path points at by mistake.
    """
    if settings.redis_configured and settings.esign_configured:
        return None  # the state lives in Redis (bot.app.lookup_stack.shared_state)
    path = Path(settings.state_db_path).expanduser()
    if path.is_dir():
        return f"STATE_DB_PATH: {path} is a folder; it must name a file (the SQLite state file)."
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"STATE_DB_PATH: cannot create the folder {path.parent} ({exc.strerror or exc})."
    if not path.exists():
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return f"STATE_DB_PATH: cannot create {path}: its folder is not writable."
        return None
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK):
        # SQLite writes a journal (-wal, -shm) beside the file.
        return f"STATE_DB_PATH: {path} or its folder is not writable."
    return _not_a_database(path)


def _not_a_database(path: Path) -> str | None:
    try:
        # Read-only, by URI: opening a database never creates or changes it this way.
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return (
            f"STATE_DB_PATH: {path} is not a SQLite database ({exc}); it was left untouched: "
            "point STATE_DB_PATH at a new file, or move that one away."
        )
    return None
