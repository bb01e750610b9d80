"""User group members for the allow-list: read off the request thread once known."""

from __future__ import annotations

import threading
import time
from typing import Any

from slack_sdk.errors import SlackClientError

from bot.slack.access import UsergroupMembers

GROUP = "S0SUPPORT"


class Slack:
    """usergroups.users.list as Slack answers it, counting calls; `gate` holds a call back."""

    def __init__(self, members: list[str]) -> None:
        self.members = members
        self.calls = 0
        self.failing = False
        self.gate = threading.Event()
        self.gate.set()

    def usergroups_users_list(self, *, usergroup: str) -> dict[str, Any]:
        self.gate.wait(5)
        self.calls += 1
        if self.failing:
            raise SlackClientError("Slack is unreachable")
        return {"ok": True, "users": list(self.members)}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _members(slack: Slack, clock: Clock) -> UsergroupMembers:
    return UsergroupMembers(slack, ttl=300, max_stale=3600, clock=clock)  # type: ignore[arg-type]


def _wait_for_refresh(slack: Slack, members: UsergroupMembers, calls: int) -> None:
    """Until Slack had `calls` calls and the background refresh has stored its answer."""
    deadline = time.monotonic() + 5
    while (slack.calls < calls or members._refreshing) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slack.calls == calls


def test_a_group_never_read_is_read_while_the_request_waits() -> None:
    slack, clock = Slack(["U0ALICE"]), Clock()
    members = _members(slack, clock)
    assert members(GROUP) == {"U0ALICE"}
    assert members(GROUP) == {"U0ALICE"}
    assert slack.calls == 1  # fresh for its TTL
    members.close()


def test_past_its_ttl_a_request_gets_the_known_members_and_slack_is_asked_behind_it() -> None:
    slack, clock = Slack(["U0ALICE"]), Clock()
    members = _members(slack, clock)
    members(GROUP)
    slack.members = ["U0BOB"]
    slack.gate.clear()  # Slack is slow to answer the refresh
    clock.now += 301
    started = time.monotonic()
    assert members(GROUP) == {"U0ALICE"}
    assert members(GROUP) == {"U0ALICE"}  # one refresh in flight, not two
    assert time.monotonic() - started < 0.5
    slack.gate.set()
    _wait_for_refresh(slack, members, 2)
    assert members(GROUP) == {"U0BOB"}
    assert slack.calls == 2
    members.close()


def test_a_failed_read_lets_no_one_from_the_group_in_and_is_tried_again() -> None:
    slack, clock = Slack(["U0ALICE"]), Clock()
    slack.failing = True
    members = _members(slack, clock)
    assert members(GROUP) == frozenset()
    slack.failing = False
    assert members(GROUP) == {"U0ALICE"}
    assert slack.calls == 2
    members.close()


def test_members_too_long_unconfirmed_are_read_again_before_a_request_passes() -> None:
    slack, clock = Slack(["U0ALICE"]), Clock()
    members = _members(slack, clock)
    members(GROUP)
    slack.failing = True  # every refresh fails from now on
    clock.now += 301
    assert members(GROUP) == {"U0ALICE"}
    _wait_for_refresh(slack, members, 2)
    slack.members = []  # Alice was removed from the group
    slack.failing = False
    clock.now += 3600
    assert members(GROUP) == frozenset()
    assert slack.calls == 3
    members.close()


def test_warm_reads_the_groups_at_start_up() -> None:
    slack, clock = Slack(["U0ALICE"]), Clock()
    members = _members(slack, clock)
    members.warm([GROUP])
    _wait_for_refresh(slack, members, 1)
    assert members(GROUP) == {"U0ALICE"}
    assert slack.calls == 1
    members.close()
