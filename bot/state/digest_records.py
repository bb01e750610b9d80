"""What the daily digest keeps: each channel's digest setting, the day's claim, and which flows
the bot showed visibly in the channel (the "shown in this channel" memory).

The memory holds only flows the bot posted where the whole channel sees them; a digest lists
nothing a person looked up alone. It is kept SHOWN_KEEP_SECONDS and at most SHOWN_PER_CHANNEL
flows per channel (the most recently shown win), so a busy channel cannot grow it without bound.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any, Final, Protocol

log = logging.getLogger(__name__)

#: The same version as the other records (bot.state.records), which speak of this protocol.
SCHEMA_VERSION: Final = 1

#: How long a shown flow is remembered (a digest looks back 24 hours; a day of slack).
SHOWN_KEEP_SECONDS: Final = 48 * 3600.0
#: Flows remembered per channel; the oldest shown are forgotten first.
SHOWN_PER_CHANNEL: Final = 500
#: How long a day's claim is kept: past the latest a digest can be late, with room to spare.
DIGEST_CLAIM_SECONDS: Final = 3 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class DigestSetting:
    """A channel's daily digest: when (local time in `tz`), and who set it."""

    channel_id: str
    team_id: str | None
    #: Who set it (the App Home lists a person's digests; the status names them).
    user_id: str
    hour: int
    minute: int
    #: An IANA zone name from users.info ("Asia/Shanghai"); "UTC" when Slack did not say.
    tz: str
    #: When it was set (epoch seconds): a time already past that day means the next day.
    set_at: float
    #: When the last digest was posted (epoch seconds); "finished since the last digest".
    last_sent_at: float | None = None

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    def _well_formed(self) -> bool:
        times = (self.set_at, self.last_sent_at or 0.0)
        return (
            all(isinstance(v, str) for v in (self.channel_id, self.user_id, self.tz))
            and isinstance(self.hour, int)
            and isinstance(self.minute, int)
            and 0 <= self.hour < 24
            and 0 <= self.minute < 60
            and all(isinstance(t, int | float) and 0 <= t < 1e11 for t in times)
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> DigestSetting | None:
        try:
            data: Any = json.loads(raw)
            if not isinstance(data, dict) or data.pop("v", None) != SCHEMA_VERSION:
                raise ValueError("not a digest setting of this version")
            setting = cls(**data)
            if not setting._well_formed():
                raise ValueError("not a digest setting")
        except (ValueError, TypeError):
            log.warning("skipped a digest setting the store cannot read", extra={"size": len(raw)})
            return None
        return setting


@dataclass(frozen=True, slots=True)
class ShownFlow:
    """A flow the bot showed visibly in a channel: where it was discussed, and when."""

    flow_id: str
    #: The thread (or the message itself) the card was posted in, for chat.getPermalink.
    thread_ts: str | None
    shown_at: float


class DigestStore(Protocol):
    """The digest's part of the state store (both engines)."""

    def put_digest(self, setting: DigestSetting) -> None: ...
    def update_digest(self, setting: DigestSetting) -> bool:
        """Rewrite a digest still set; False (nothing written) once it was turned off."""
        ...

    def get_digest(self, channel_id: str) -> DigestSetting | None: ...
    def remove_digest(self, channel_id: str) -> bool: ...
    def all_digests(self) -> list[DigestSetting]: ...
    def digests_of_user(self, user_id: str) -> list[DigestSetting]: ...
    def claim_digest(self, channel_id: str, local_date: str) -> bool:
        """True exactly once per channel and local date, whichever process asks first; kept
        DIGEST_CLAIM_SECONDS, so a restart does not post the day's digest again."""
        ...

    def record_shown(
        self, channel_id: str, flow_ids: list[str], thread_ts: str | None, at: float
    ) -> None:
        """Remember flows shown in the channel at `at`; forgets what is older than
        SHOWN_KEEP_SECONDS and beyond SHOWN_PER_CHANNEL."""
        ...

    def shown_since(self, channel_id: str, since: float) -> list[ShownFlow]:
        """Flows shown in the channel since `since`, most recently shown first."""
        ...
