"""What one process writes to Redis, another reads back as the same outline and the same age."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.cards.esign_errors import error_detail, error_title
from bot.esign.errors import (
    CircuitOpen,
    EsignBusinessError,
    EsignError,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    InvalidFlowId,
    InvalidFlowIdReason,
    RateLimited,
    RateLimitSource,
    UnavailableReason,
    UnexpectedReason,
    UnexpectedResponse,
)
from bot.esign.models import FlowOutline
from bot.flows.snapshot import FlowSnapshot
from bot.state.shared.outline_codec import (
    decode_failure,
    decode_snapshot,
    encode_failure,
    encode_snapshot,
)
from stand_ins.esign_simulator.catalogue import catalogue_outlines


@pytest.mark.parametrize("flow_id", sorted(catalogue_outlines()))
def test_every_sample_outline_round_trips(flow_id: str) -> None:
    outline = FlowOutline.model_validate(catalogue_outlines()[flow_id])
    fetched_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    snapshot = FlowSnapshot(outline, fetched_at, from_cache=False, simulated=True)
    back = decode_snapshot(encode_snapshot(snapshot))
    assert back == FlowSnapshot(outline, fetched_at, from_cache=True, simulated=True)


def test_unreadable_values_are_misses_not_errors() -> None:
    for text in ("", "{", "[]", '{"v": 99}', '{"v": 1, "outline": 3}'):
        assert decode_snapshot(text) is None


@pytest.mark.parametrize(
    "error",
    [
        FlowNotFound("803719636976683872", code=30500001, message="流程不存在"),
        GatewayRejected(401, "INVALID_SIGNATURE"),
        RateLimited(RateLimitSource.PACING, retry_after=1.5),
        CircuitOpen(7),
        EsignUnavailable(UnavailableReason.HTTP_STATUS, status=503, retryable=True),
        UnexpectedResponse(UnexpectedReason.BAD_SHAPE, problems=3),
        InvalidFlowId(InvalidFlowIdReason.TOO_LONG, length=70, max_length=64),
        EsignBusinessError(code=1435203, message="参数错误"),
    ],
)
def test_failures_round_trip_with_what_cards_read(error: EsignError) -> None:
    back = decode_failure(encode_failure(error))
    assert type(back) is type(error)
    assert back is not None
    assert (back.title, back.detail, back.code, str(back)) == (
        error.title,
        error.detail,
        error.code,
        str(error),
    )
    assert vars(back) == vars(error)
    # Reasons come back as their enums, so the card says the same as the holder's would.
    assert {k: type(v) for k, v in vars(back).items()} == {
        k: type(v) for k, v in vars(error).items()
    }
    assert (error_title(back), error_detail(back)) == (error_title(error), error_detail(error))


def test_a_reason_this_version_does_not_know_falls_back_to_the_class_default() -> None:
    text = json.dumps(
        {"v": 1, "kind": "EsignUnavailable", "attributes": {"detail": "x", "reason": "solar"}}
    )
    back = decode_failure(text)
    assert isinstance(back, EsignUnavailable)
    assert back.reason is UnavailableReason.TIMEOUT
    assert all(error_detail(back))


def test_only_known_error_classes_are_rebuilt() -> None:
    assert decode_failure('{"v": 1, "kind": "SystemExit", "attributes": {}}') is None
    assert decode_failure("not json") is None
