"""Someone who never chose a language reads their Slack locale's; a choice always wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.locales import SlackLocales
from bot.state.history import PersonalHistory
from bot.state.sqlite_store import SqliteStateStore


class _Slack(WebClient):
    """users.info answered from a table, every call counted (no network)."""

    def __init__(self, locales: dict[str, str | None]) -> None:
        super().__init__(token="xoxb-not-real")
        self.locales = locales
        self.asked: list[str] = []

    def users_info(self, *, user: str, include_locale: bool | None = None, **_: Any) -> Any:
        self.asked.append(user)
        if user not in self.locales:
            raise SlackApiError("user_not_found", {"ok": False, "error": "user_not_found"})
        found = {"id": user} | (
            {} if self.locales[user] is None else {"locale": self.locales[user]}
        )
        return {"ok": True, "user": found if include_locale else {"id": user}}


def test_a_locale_is_read_once_and_remembered() -> None:
    slack = _Slack({"U1": "zh-CN", "U2": None})
    locales = SlackLocales(slack)
    assert locales("U1") == "zh-CN" and locales("U1") == "zh-CN"
    assert locales("U2") is None and locales("U2") is None
    assert slack.asked == ["U1", "U2"]


def test_a_failed_read_is_not_remembered() -> None:
    slack = _Slack({})
    locales = SlackLocales(slack)
    assert locales("U9") is None
    slack.locales["U9"] = "zh-TW"
    assert locales("U9") == "zh-TW"


def test_the_language_follows_the_locale_until_the_person_chooses(tmp_path: Path) -> None:
    slack = _Slack({"U1": "zh-CN", "U2": "en-GB"})
    history = PersonalHistory(
        SqliteStateStore(tmp_path / "state.sqlite3"), locale_of=SlackLocales(slack)
    )
    assert history.known_language("U1") is None  # nothing known before anyone asked
    assert history.language("U1") == "zh"
    assert history.known_language("U1") == "zh"  # an ack may use it now
    assert history.language("U2") == "both"
    history.set_language("U1", "en")
    assert history.language("U1") == "en"
