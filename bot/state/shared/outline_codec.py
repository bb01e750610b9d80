"""Snapshots and lookup failures as JSON text, so another process can use them.

An outline is written back in e签宝's own wire shape (camelCase, times in epoch milliseconds),
the one `FlowOutline` is built to read: a round trip through Redis yields an equal model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from bot.esign import errors
from bot.esign.errors import EsignError
from bot.esign.models import FlowOutline
from bot.flows.snapshot import FlowSnapshot

FORMAT_VERSION = 1


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


def outline_to_wire(outline: FlowOutline) -> dict[str, Any]:
    data = outline.model_dump(mode="json", by_alias=True)
    data["createTime"] = _epoch_ms(outline.create_time)
    data["modifyTime"] = _epoch_ms(outline.modify_time)
    return data


def encode_snapshot(snapshot: FlowSnapshot) -> str:
    return json.dumps(
        {
            "v": FORMAT_VERSION,
            "outline": outline_to_wire(snapshot.outline),
            # To the microsecond: the local copy and the shared one must show the same age.
            "fetchedAt": snapshot.fetched_at.isoformat(),
            "simulated": snapshot.simulated,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode_snapshot(text: str, *, from_cache: bool = True) -> FlowSnapshot | None:
    """None for anything unreadable (another version's format, a damaged value): refetch."""
    try:
        value = json.loads(text)
        if value.get("v") != FORMAT_VERSION:
            return None
        fetched_at = datetime.fromisoformat(value["fetchedAt"])
        if fetched_at.tzinfo is None:
            return None
        return FlowSnapshot(
            outline=FlowOutline.model_validate(value["outline"]),
            fetched_at=fetched_at.astimezone(UTC),
            from_cache=from_cache,
            simulated=bool(value["simulated"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


#: The failures a waiter may be handed, by class name: nothing else is ever rebuilt.
_ERROR_CLASSES: dict[str, type[EsignError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, EsignError)
}
_PLAIN = (str, int, float, bool, type(None))


def encode_failure(exc: EsignError) -> str:
    """The error's class and plain attributes (they never hold a secret: see bot.esign.errors)."""
    attributes = {k: v for k, v in vars(exc).items() if isinstance(v, _PLAIN)}
    return json.dumps(
        {"v": FORMAT_VERSION, "kind": type(exc).__name__, "attributes": attributes},
        ensure_ascii=False,
    )


def decode_failure(text: str) -> EsignError | None:
    try:
        value = json.loads(text)
        cls = _ERROR_CLASSES[value["kind"]]
        attributes = dict(value["attributes"])
    except (ValueError, KeyError, TypeError):
        return None
    # The classes' constructors differ; the attributes are what callers and cards read.
    failure = cls.__new__(cls)
    Exception.__init__(failure, attributes.get("detail", ""))
    failure.__dict__.update({key: _as_declared(cls, key, v) for key, v in attributes.items()})
    return failure


def _as_declared(cls: type[EsignError], key: str, value: object) -> object:
    """A reason back as its enum (JSON keeps only its text). A reason this version lacks
    becomes the class default, so during a deploy of mixed versions the card still speaks,
    if less precisely."""
    default = getattr(cls, key, None)
    if isinstance(default, Enum):
        try:
            return type(default)(value)
        except ValueError:
            return default
    return value
