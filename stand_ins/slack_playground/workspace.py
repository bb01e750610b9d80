"""The playground's Slack workspace: channels, messages, threads, response URLs, calls and faults.

Everything a user would see, and everything the bot asked Slack to do, is recorded here. All
state sits behind one lock; readers get copies, so a test can hold on to a `Message` while the
bot keeps changing the workspace.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from .surfaces import Surfaces

T = TypeVar("T")

BOT_USER_ID = "U0BOTUSER"
BOT_ID = "B0PLAYGRND"
APP_ID = "A0PLAYGRND"
SLACKBOT_USER_ID = "USLACKBOT"
VIEWER_USER_ID = "U0PLAYER1"
COLLEAGUE_USER_ID = "U0PLAYER2"

#: Slack lets a response_url be used 5 times within 30 minutes.
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str
    is_private: bool = False
    bot_is_member: bool = True
    #: What chat.postMessage / chat.postEphemeral answer when the bot may not post here
    #: (None: it may). Slack says `not_in_channel` or `channel_not_found` depending on the case.
    bot_post_error: str | None = None
    #: A direct message between the viewer and this user: Slack names it "directmessage" in
    #: payloads, and a bot cannot be invited into it.
    dm_with: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    real_name: str
    #: What users.info says with include_locale (the language of the person's Slack).
    locale: str = "en-US"
    #: What users.info says as `tz` (the person's time zone, IANA).
    tz: str = "Asia/Shanghai"


DEFAULT_CHANNELS: tuple[Channel, ...] = (
    Channel("C0GENERAL", "general"),
    Channel(
        "C0PRIVATE",
        "private-ops",
        is_private=True,
        bot_is_member=False,
        bot_post_error="not_in_channel",
    ),
    # Public, bot not a member: `chat:write.public` lets it post anyway.
    Channel("C0PUBLIC2", "support", bot_is_member=False),
    Channel(
        "D0PLAYER2",
        "directmessage",
        is_private=True,
        bot_is_member=False,
        bot_post_error="channel_not_found",
        dm_with=COLLEAGUE_USER_ID,
    ),
)

DEFAULT_USERS: tuple[User, ...] = (
    User(VIEWER_USER_ID, "you", "You (player 1)"),
    User(COLLEAGUE_USER_ID, "wei.zhang", "Wei Zhang", tz="America/New_York"),
    User(BOT_USER_ID, "esign-flow", "esign-flow"),
    User(SLACKBOT_USER_ID, "slackbot", "Slackbot"),
)

#: User groups (Slack "subteams") and their members, for usergroups.users.list.
DEFAULT_USERGROUPS: Mapping[str, tuple[str, ...]] = {
    "S0SUPPORT": (VIEWER_USER_ID,),
    "S0ONCALL": (COLLEAGUE_USER_ID,),
}


@dataclass(slots=True)
class Message:
    ts: str
    channel_id: str
    #: The thread's parent ts for a reply; None for a top-level message (even one with replies).
    thread_ts: str | None
    user_id: str | None
    bot: bool
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    #: The user id that alone sees this message, when it is ephemeral.
    ephemeral_to: str | None = None
    #: For messages that came in through a response_url: that URL.
    response_url: str | None = None
    deleted: bool = False
    #: How many times the message was replaced (chat.update or replace_original).
    edited: int = 0
    #: chat.unfurl's previews under the message, by URL (each `{"blocks": [...]}`).
    unfurls: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def is_ephemeral(self) -> bool:
        return self.ephemeral_to is not None

    def action_ids(self) -> list[str]:
        """The action ids of every button/element on the message, in order."""
        return [element["action_id"] for _, element in interactive_elements(self.blocks)]

    def visible_text(self) -> str:
        """The top-level text plus every text in the blocks, one per line: handy in assertions."""
        parts = [self.text]
        parts.extend(_texts_in(self.blocks))
        return "\n".join(part for part in parts if part)


def interactive_elements(blocks: list[dict[str, Any]]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Yield (block_id, element) for each element carrying an action_id."""
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates.extend(block.get("elements") or [])
        accessory = block.get("accessory")
        if accessory is not None:
            candidates.append(accessory)
        for element in candidates:
            if isinstance(element, dict) and "action_id" in element:
                yield block_id, element


def _texts_in(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node["text"]
            return
        for value in node.values():
            yield from _texts_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts_in(item)


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call the bot made to the stand-in, with what it was answered."""

    kind: Literal["web_api", "response_url"]
    #: The Web API method ("chat.postMessage") or "response_url".
    method: str
    #: The path the bot called ("/api/chat.postMessage", "/response/<token>").
    endpoint: str
    payload: dict[str, Any]
    status: int
    #: The decoded answer: the JSON object for the Web API, the text for a response_url.
    response: Any
    at: float

    @property
    def error(self) -> str | None:
        """The Slack error code of the answer, if any ("not_in_channel", "used_url", ...)."""
        if isinstance(self.response, dict):
            if self.response.get("ok") is False:
                return str(self.response.get("error"))
            return None
        if self.status != 200:
            return str(self.response)
        return None


@dataclass(slots=True)
class Fault:
    target: str
    status: int
    remaining: int
    retry_after: int | None
    body: str | None


@dataclass(slots=True)
class ResponseUrlGrant:
    """A response_url handed to the bot with one slash command, shortcut or click."""

    token: str
    url: str
    channel_id: str
    user_id: str
    #: Where new messages through this URL land (the invoking message's thread).
    thread_ts: str | None
    #: The message a `replace_original`/`delete_original` acts on: the clicked message, or
    #: the last one posted through this URL.
    original_ts: str | None
    created_at: float
    uses: int = 0
    #: True for a button's URL: it always acts on the clicked message.
    pinned: bool = False


class Workspace:
    """Thread-safe, in-memory Slack workspace."""

    def __init__(
        self,
        *,
        team_id: str = "T0PLAYGRND",
        channels: Iterable[Channel] = DEFAULT_CHANNELS,
        users: Iterable[User] = DEFAULT_USERS,
        usergroups: Mapping[str, tuple[str, ...]] = DEFAULT_USERGROUPS,
    ) -> None:
        self.team_id = team_id
        self.usergroups = dict(usergroups)
        self.team_domain = "playground"
        self._channels = {channel.id: channel for channel in channels}
        self._users = {user.id: user for user in users}
        self._locales: dict[str, str] = {}
        #: unfurl_id → the message its links are in (None while still in the composer).
        self._unfurl_ids: dict[str, tuple[str, str] | None] = {}
        #: chat.unfurl's previews for links still in the composer, by unfurl_id.
        self.composer_unfurls: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._messages: list[Message] = []
        self._calls: list[RecordedCall] = []
        self._faults: list[Fault] = []
        self._grants: dict[str, ResponseUrlGrant] = {}
        self._last_ts = (0, 0)
        self._version = 0
        self._closed = False
        #: Modals, Home tabs, triggers and workflow step executions.
        self.surfaces = Surfaces()

    # ------------------------------------------------------------------ reading

    @property
    def channels(self) -> Mapping[str, Channel]:
        return dict(self._channels)

    @property
    def users(self) -> Mapping[str, User]:
        return dict(self._users)

    def set_locale(self, user_id: str, locale: str) -> None:
        """The person switches their Slack's language (until `reset`)."""
        with self._changed:
            self._locales[user_id] = locale

    def locale_of(self, user_id: str) -> str:
        with self._changed:
            return self._locales.get(user_id) or self._users[user_id].locale

    @property
    def version(self) -> int:
        """Bumped on every change; the page long-polls on it."""
        with self._lock:
            return self._version

    def open_bot_dm(self, user_id: str) -> Channel | None:
        """The bot's own DM with a person (conversations.open), made on first use."""
        if user_id not in self._users or user_id == BOT_USER_ID:
            return None
        channel_id = f"D0BOT{user_id[-6:]}"
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                channel = Channel(channel_id, "directmessage", is_private=True, dm_with=BOT_USER_ID)
                self._channels[channel_id] = channel
                self._bump()
        return channel

    def find_channel(self, id_or_name: str) -> Channel | None:
        """By id ("C0GENERAL") or by name ("general", "#general"), as Slack accepts both."""
        if id_or_name in self._channels:
            return self._channels[id_or_name]
        name = id_or_name.removeprefix("#")
        return next((c for c in self._channels.values() if c.name == name), None)

    def messages(
        self,
        channel_id: str | None = None,
        *,
        thread_ts: str | None = None,
        include_ephemeral: bool = True,
        include_deleted: bool = False,
    ) -> list[Message]:
        """Copies of the messages, oldest first.

        `thread_ts` narrows to the replies of that thread (the parent is not included).
        Deleted messages are left out unless `include_deleted`.
        """
        with self._lock:
            return [
                _copy(m)
                for m in self._messages
                if (channel_id is None or m.channel_id == channel_id)
                and (thread_ts is None or m.thread_ts == thread_ts)
                and (include_ephemeral or not m.is_ephemeral)
                and (include_deleted or not m.deleted)
            ]

    def get_message(self, channel_id: str, ts: str) -> Message | None:
        with self._lock:
            found = self._find(channel_id, ts)
            return None if found is None else _copy(found)

    def reply_count(self, channel_id: str, ts: str) -> int:
        with self._lock:
            return sum(
                1
                for m in self._messages
                if m.channel_id == channel_id
                and m.thread_ts == ts
                and not m.deleted
                and not m.is_ephemeral
            )

    def calls(self) -> list[RecordedCall]:
        """Every Web API and response_url call, in arrival order."""
        with self._lock:
            return list(self._calls)

    def wait_for(
        self,
        predicate: Callable[[list[Message]], T | bool | None],
        timeout: float = 5.0,
    ) -> T:
        """Wait until `predicate(messages)` is truthy and return its value.

        `messages` holds every message not deleted, ephemeral ones included, oldest first.
        On timeout, raise TimeoutError showing what the workspace held and what the bot called.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                seen_version = self._version
                snapshot = [_copy(m) for m in self._messages if not m.deleted]
            # Run the predicate outside the lock: it may be slow or call back into us.
            result = predicate(snapshot)
            if result:
                return result  # type: ignore[return-value]
            with self._changed:
                while self._version == seen_version:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(self._timeout_report(predicate, timeout))
                    self._changed.wait(remaining)

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the version differs from `since` (or timeout); return the version."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._version == since and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return self._version

    def describe(self) -> str:
        """A readable dump of messages and calls, for failure messages and debugging."""
        with self._lock:
            lines = [f"messages ({len(self._messages)}):"]
            lines.extend(f"  {_describe_message(m, self._users)}" for m in self._messages)
            lines.append(f"calls ({len(self._calls)}):")
            lines.extend(
                f"  {c.kind} {c.method} -> {c.status} {_short(c.response)}" for c in self._calls
            )
            return "\n".join(lines)

    # ------------------------------------------------------------------ writing

    def add_message(
        self,
        *,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        user_id: str | None,
        bot: bool,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        response_url: str | None = None,
    ) -> Message:
        with self._changed:
            message = Message(
                ts=self._next_ts(),
                channel_id=channel_id,
                thread_ts=self._thread_root(channel_id, thread_ts),
                user_id=user_id,
                bot=bot,
                text=text,
                blocks=copy.deepcopy(blocks or []),
                ephemeral_to=ephemeral_to,
                response_url=response_url,
            )
            self._messages.append(message)
            self._bump()
            return _copy(message)

    def replace_message(
        self, channel_id: str, ts: str, *, text: str, blocks: list[dict[str, Any]]
    ) -> Message | None:
        with self._changed:
            found = self._find(channel_id, ts)
            if found is None or found.deleted:
                return None
            found.text = text
            found.blocks = copy.deepcopy(blocks)
            found.edited += 1
            self._bump()
            return _copy(found)

    def delete_message(self, channel_id: str, ts: str) -> bool:
        with self._changed:
            found = self._find(channel_id, ts)
            if found is None or found.deleted:
                return False
            found.deleted = True
            self._bump()
            return True

    def new_unfurl_id(self, message: Message | None) -> str:
        """An unfurl_id for links in `message` (None: still in the composer), which chat.unfurl
        with `unfurl_id` + `source` finds the message by."""
        with self._changed:
            unfurl_id = f"U{len(self._unfurl_ids) + 1:06d}.{secrets.token_hex(8)}"
            self._unfurl_ids[unfurl_id] = (
                None if message is None else (message.channel_id, message.ts)
            )
            return unfurl_id

    def add_unfurls(
        self,
        unfurls: dict[str, dict[str, Any]],
        *,
        channel_id: str | None = None,
        ts: str | None = None,
        unfurl_id: str | None = None,
    ) -> bool:
        """chat.unfurl: previews under a posted message (by channel + ts, or by the unfurl_id
        of its links). Links still in the composer are kept under their unfurl_id. False when
        no such message or unfurl_id exists."""
        with self._changed:
            if unfurl_id is not None:
                if unfurl_id not in self._unfurl_ids:
                    return False
                where = self._unfurl_ids[unfurl_id]
                if where is None:
                    self.composer_unfurls.setdefault(unfurl_id, {}).update(copy.deepcopy(unfurls))
                    self._bump()
                    return True
                channel_id, ts = where
            found = self._find(channel_id or "", ts or "")
            if found is None or found.deleted:
                return False
            # Calling again for the same message replaces its previews rather than adding.
            found.unfurls.update(copy.deepcopy(unfurls))
            self._bump()
            return True

    def grant_response_url(
        self,
        base_url: str,
        *,
        channel_id: str,
        user_id: str,
        thread_ts: str | None,
        original_ts: str | None = None,
    ) -> ResponseUrlGrant:
        token = secrets.token_urlsafe(18)
        grant = ResponseUrlGrant(
            token=token,
            url=f"{base_url.rstrip('/')}/response/{token}",
            channel_id=channel_id,
            user_id=user_id,
            thread_ts=thread_ts,
            original_ts=original_ts,
            created_at=time.monotonic(),
            pinned=original_ts is not None,
        )
        with self._lock:
            self._grants[token] = grant
            return replace(grant)

    def use_response_url(self, token: str) -> tuple[ResponseUrlGrant | None, str | None]:
        """Count one use of a response_url: (grant, None) or (None, Slack's error code)."""
        with self._lock:
            grant = self._grants.get(token)
            if grant is None:
                return None, "no_such_url"
            if time.monotonic() - grant.created_at > RESPONSE_URL_LIFETIME_SECONDS:
                return None, "expired_url"
            if grant.uses >= RESPONSE_URL_MAX_USES:
                return None, "used_url"
            grant.uses += 1
            return replace(grant), None

    def remember_original(self, token: str, ts: str) -> None:
        """The message just posted through a response_url is what it replaces/deletes next."""
        with self._lock:
            grant = self._grants.get(token)
            if grant is not None and not grant.pinned:
                grant.original_ts = ts

    def touch(self) -> None:
        """Something outside the messages changed (a view, a step): wake the page's long-poll."""
        with self._changed:
            self._bump()

    def record_call(self, call: RecordedCall) -> None:
        with self._changed:
            self._calls.append(call)
            self._bump()

    def inject_fault(
        self,
        target: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        body: str | None = None,
    ) -> None:
        """Answer the next `times` calls to `target` with HTTP `status` instead of serving them.

        `target` is a Web API method name ("chat.postMessage") or "response_url".
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(target, status, times, retry_after, body))

    def take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.target == target and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return replace(fault)
            return None

    def reset(self) -> None:
        """Forget messages, calls, faults and response URLs (channels and users stay)."""
        with self._changed:
            self._messages.clear()
            self._calls.clear()
            self._faults.clear()
            self._grants.clear()
            self.surfaces.reset()
            self._locales.clear()
            self._unfurl_ids.clear()
            self.composer_unfurls.clear()
            self._bump()

    def close(self) -> None:
        """Wake up every long-poll so a server can stop promptly."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # ------------------------------------------------------------------ internals

    def _bump(self) -> None:
        self._version += 1
        self._changed.notify_all()

    def _find(self, channel_id: str, ts: str) -> Message | None:
        for message in reversed(self._messages):
            if message.channel_id == channel_id and message.ts == ts:
                return message
        return None

    def _thread_root(self, channel_id: str, thread_ts: str | None) -> str | None:
        # Slack files a reply to a reply under the thread's parent.
        if thread_ts is None:
            return None
        target = self._find(channel_id, thread_ts)
        if target is not None and target.thread_ts is not None:
            return target.thread_ts
        return thread_ts

    def _next_ts(self) -> str:
        # Slack's ts is "<seconds>.<6 digits>", unique and increasing within a channel.
        now = time.time()
        candidate = (int(now), int((now % 1) * 1_000_000))
        if candidate <= self._last_ts:
            seconds, micros = self._last_ts
            micros += 1
            if micros >= 1_000_000:
                seconds, micros = seconds + 1, 0
            candidate = (seconds, micros)
        self._last_ts = candidate
        return f"{candidate[0]}.{candidate[1]:06d}"

    def _timeout_report(self, predicate: Callable[..., Any], timeout: float) -> str:
        name = getattr(predicate, "__qualname__", repr(predicate))
        return f"wait_for({name}) still false after {timeout:.1f} s\n{self.describe()}"


def _copy(message: Message) -> Message:
    return replace(
        message, blocks=copy.deepcopy(message.blocks), unfurls=copy.deepcopy(message.unfurls)
    )


def _describe_message(message: Message, users: Mapping[str, User]) -> str:
    user = users.get(message.user_id or "")
    who = user.name if user is not None else message.user_id
    flags = []
    if message.ephemeral_to:
        flags.append(f"ephemeral to {message.ephemeral_to}")
    if message.thread_ts:
        flags.append(f"in thread {message.thread_ts}")
    if message.deleted:
        flags.append("deleted")
    if message.edited:
        flags.append(f"edited x{message.edited}")
    block_types = ",".join(str(b.get("type")) for b in message.blocks)
    return (
        f"{message.ts} #{message.channel_id} {who} [{'; '.join(flags)}] "
        f"text={_short(message.text)} blocks=[{block_types}]"
    )


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
