"""What a process checks before it serves: the state file, the address, the bot token."""

from __future__ import annotations

import itertools
import json
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.app.settings import Settings, load_settings
from bot.app.slack_presence import SlackPresence, check_bot_token, recheck_delays
from bot.app.start_checks import listen_problem, state_file_problem

TOKEN = "xoxb-start-checks-not-real"


@pytest.fixture(autouse=True)
def no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def settings(**values: object) -> Settings:
    return load_settings(**values)


# ------------------------------------------------------------------ the state file


def test_a_file_that_is_not_a_database_is_named_and_not_touched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("someone's notes\n")
    problem = state_file_problem(settings(state_db_path=str(notes)))
    assert problem is not None
    assert problem.startswith(f"STATE_DB_PATH: {notes} is not a SQLite database")
    assert notes.read_text() == "someone's notes\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    state = tmp_path / "a" / "b" / "state.sqlite3"
    assert state_file_problem(settings(state_db_path=str(state))) is None
    assert state.parent.is_dir()
    assert not state.exists()  # the store creates it, not the check


def test_a_folder_is_not_a_state_file(tmp_path: Path) -> None:
    problem = state_file_problem(settings(state_db_path=str(tmp_path)))
    assert problem == (
        f"STATE_DB_PATH: {tmp_path} is a folder; it must name a file (the SQLite state file)."
    )


def test_a_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    problem = state_file_problem(settings(state_db_path=str(blocker / "sub" / "state.sqlite3")))
    assert problem is not None and problem.startswith("STATE_DB_PATH: cannot create the folder")


@pytest.mark.parametrize("kind", ["empty", "database"])
def test_an_empty_file_or_a_database_is_fine(tmp_path: Path, kind: str) -> None:
    state = tmp_path / "state.sqlite3"
    if kind == "empty":
        state.write_bytes(b"")
    else:
        with sqlite3.connect(state) as db:
            db.execute("CREATE TABLE t (x)")
    assert state_file_problem(settings(state_db_path=str(state))) is None


# ------------------------------------------------------------------ the address


def test_a_taken_port_is_named() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        problem = listen_problem(settings(bind_host="127.0.0.1", port=port))
    assert problem == f"PORT: cannot listen on 127.0.0.1 port {port} (Address already in use)."


def test_an_address_of_another_machine_is_named() -> None:
    problem = listen_problem(settings(bind_host="192.0.2.1", port=0))  # TEST-NET-1
    assert problem is not None and problem.startswith("BIND_HOST: cannot listen on 192.0.2.1")


def test_a_free_port_is_fine() -> None:
    assert listen_problem(settings(bind_host="127.0.0.1", port=0)) is None


# ------------------------------------------------------------------ the bot token


class _Answers(BaseHTTPRequestHandler):
    answers: Iterator[tuple[int, bytes]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = next(self.answers)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slack_answering() -> Iterator[Callable[[int, bytes], str]]:
    servers: list[ThreadingHTTPServer] = []

    def answering(status: int, body: bytes) -> str:
        handler = type("Handler", (_Answers,), {"answers": itertools.repeat((status, body))})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api/"

    yield answering
    for server in servers:
        server.shutdown()
        server.server_close()


OK = json.dumps({"ok": True, "team_id": "T0TEAM", "user_id": "U0BOT", "bot_id": "B0BOT"}).encode()


@pytest.mark.parametrize(
    ("status", "body", "outcome", "detail"),
    [
        (200, OK, "ok", ""),
        (200, b'{"ok": false, "error": "invalid_auth"}', "refused", "invalid_auth"),
        (200, b'{"ok": false, "error": "token_revoked"}', "refused", "token_revoked"),
        (200, b'{"ok": false, "error": "account_inactive"}', "refused", "account_inactive"),
        (200, b'{"ok": false, "error": "fatal_error"}', "unreachable", "HTTP 200, fatal_error"),
        (503, b"<html>Service Unavailable</html>", "unreachable", "HTTP 503"),
        (429, b'{"ok": false, "error": "ratelimited"}', "unreachable", "HTTP 429, ratelimited"),
    ],
)
def test_slack_answers_are_sorted_into_ok_refused_and_unreachable(
    slack_answering: Callable[[int, bytes], str],
    status: int,
    body: bytes,
    outcome: str,
    detail: str,
) -> None:
    check = check_bot_token(slack_answering(status, body), TOKEN)
    assert (check.outcome, check.detail) == (outcome, detail)


def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check = check_bot_token(f"http://127.0.0.1:{port}/api/", TOKEN)
    assert check.outcome == "unreachable"
    assert "ConnectionRefusedError" in check.detail


def test_bolt_learns_the_bot_ids_from_the_check(
    slack_answering: Callable[[int, bytes], str],
) -> None:
    presence = SlackPresence(slack_answering(200, OK), TOKEN, recheck_seconds=1).start()
    try:
        assert presence.status() == "ok"
        result = presence.bolt_authorize()(enterprise_id=None, team_id=None, user_id="U0ASKER")
    finally:
        presence.close()
    assert (result.bot_token, result.bot_id, result.bot_user_id) == (TOKEN, "B0BOT", "U0BOT")
    assert (result.team_id, result.user_id) == ("T0TEAM", "U0ASKER")


def test_requests_are_authorized_while_slack_is_away() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    presence = SlackPresence(f"http://127.0.0.1:{port}/api/", TOKEN, recheck_seconds=30).start()
    try:
        assert presence.status() == "unreachable"
        result = presence.bolt_authorize()(enterprise_id=None, team_id="T0REQ", user_id="U0A")
    finally:
        presence.close()
    assert (result.bot_token, result.team_id, result.bot_id) == (TOKEN, "T0REQ", None)


def test_rechecks_back_off_to_the_setting() -> None:
    assert list(itertools.islice(recheck_delays(3.0), 5)) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert list(itertools.islice(recheck_delays(0.2), 2)) == [0.2, 0.2]
