"""Who asked: the team, channel and user ids every listener, the access check and the audit
line agree on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.ids import slack_id


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked: the ids every listener, the access check and the audit line agree on."""

    team_id: str | None
    channel_id: str | None
    user_id: str | None

    @classmethod
    def from_payload(cls, team: object, channel: object, user: object) -> Requester:
        return cls(team_id=slack_id(team), channel_id=slack_id(channel), user_id=slack_id(user))
