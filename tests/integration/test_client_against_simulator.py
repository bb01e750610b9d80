"""The real client against the simulator over loopback HTTP: signatures as the gateway checks
them, both auth modes, and the faults of a bad day."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.errors import (
    EsignBusinessError,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    RateLimited,
    UnexpectedResponse,
)
from bot.esign.models import FlowStatus, SubFlowType
from bot.esign.signing import SignatureAuth
from bot.esign.token_auth import TokenAuth
from stand_ins.esign_simulator import SAMPLE_FLOWS, EsignSimulator, Fault, SampleKind

DOC_FLOW = "803719636976683872"
EVERY_TYPE_FLOW = "2987369231506968064"


@pytest.fixture(scope="module")
def simulator() -> Iterator[EsignSimulator]:
    with EsignSimulator() as sim:
        yield sim


@pytest.fixture(autouse=True)
def clean(simulator: EsignSimulator) -> None:
    simulator.clear_faults()
    simulator.set_latency(0)
    simulator.reset_stats()


def signed_client(
    simulator: EsignSimulator, *, secret: str | None = None, clock_skew: float = 0.0, **retry: float
) -> EsignClient:
    auth = SignatureAuth(
        simulator.app_id,
        secret or simulator.app_secret,
        clock=lambda: time.time() + clock_skew,
    )
    return EsignClient(
        simulator.base_url,
        auth,
        read_timeout=1.0,
        retry=RetryPolicy(**retry),  # type: ignore[arg-type]
    )


def test_signed_lookup_of_the_doc_example(simulator: EsignSimulator) -> None:
    with signed_client(simulator) as client:
        outline = client.get_outline(DOC_FLOW)
    assert outline.flow_status is FlowStatus.ING
    assert outline.related_flows[0].flow_id == "802965095964494307"
    assert simulator.outline_calls(DOC_FLOW) == 1


def test_every_sample_outline_parses(simulator: EsignSimulator) -> None:
    with signed_client(simulator) as client:
        for sample in SAMPLE_FLOWS:
            if sample.kind is SampleKind.OUTLINE:
                assert client.get_outline(sample.flow_id).flow_id == sample.flow_id
        every = client.get_outline(EVERY_TYPE_FLOW)
    types = {s.sub_flow_type for s in every.sub_flows}
    types |= {s.sub_flow_type for r in every.related_flows for s in r.sub_flows}
    assert types >= set(SubFlowType)


def test_wrong_secret_is_rejected_by_the_gateway(simulator: EsignSimulator) -> None:
    with (
        signed_client(simulator, secret="not-the-secret") as client,
        pytest.raises(GatewayRejected) as info,
    ):
        client.get_outline(DOC_FLOW)
    assert info.value.reason == "INVALID_SIGNATURE"
    assert "not-the-secret" not in str(info.value)
    assert simulator.outline_calls() == 0


@pytest.mark.parametrize("skew", [-16 * 60, 16 * 60])
def test_skewed_clock_is_rejected(simulator: EsignSimulator, skew: float) -> None:
    with (
        signed_client(simulator, clock_skew=skew) as client,
        pytest.raises(GatewayRejected) as info,
    ):
        client.get_outline(DOC_FLOW)
    assert info.value.reason == "INVALID_TIMESTAMP"
    assert "clock" in info.value.hint


def test_small_skew_is_accepted(simulator: EsignSimulator) -> None:
    with signed_client(simulator, clock_skew=14 * 60) as client:
        assert client.get_outline(DOC_FLOW).flow_id == DOC_FLOW


def test_unknown_app_id_points_at_the_environment(simulator: EsignSimulator) -> None:
    client = EsignClient(simulator.base_url, SignatureAuth("5111000000000009", "x"))
    with client, pytest.raises(GatewayRejected) as info:
        client.get_outline(DOC_FLOW)
    assert "ESIGN_ENV" in info.value.hint


def test_token_mode_fetches_once_and_survives_expiry(simulator: EsignSimulator) -> None:
    auth = TokenAuth(simulator.app_id, simulator.app_secret, base_url=simulator.base_url)
    with EsignClient(simulator.base_url, auth) as client:
        for _ in range(5):
            assert client.get_outline(DOC_FLOW).flow_id == DOC_FLOW
        assert simulator.token_fetches == 1
        simulator.expire_tokens()
        assert client.get_outline(DOC_FLOW).flow_id == DOC_FLOW
    assert auth.fetches == 2


@pytest.mark.parametrize(
    ("flow_id", "error", "code"),
    [
        ("2987390000030500001", FlowNotFound, 30500001),
        ("2987390000030500004", FlowNotFound, 30500004),
        ("1111111111111111111", FlowNotFound, 30500001),
        ("2987390000030503107", EsignBusinessError, 30503107),
        ("2987390000030500003", EsignBusinessError, 30500003),
    ],
)
def test_business_errors(
    simulator: EsignSimulator, flow_id: str, error: type[Exception], code: int
) -> None:
    with signed_client(simulator) as client, pytest.raises(error) as info:
        client.get_outline(flow_id)
    assert getattr(info.value, "code", None) == code


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.TIMEOUT, EsignUnavailable),
        (Fault.CONNECTION_RESET, EsignUnavailable),
        (Fault.RESET_MID_BODY, EsignUnavailable),
        (Fault.HTTP_500_HTML, EsignUnavailable),
        (Fault.HTTP_503, EsignUnavailable),
        (Fault.BROKEN_JSON, EsignUnavailable),
        (Fault.WRONG_SHAPE, UnexpectedResponse),
        (Fault.MISSING_CODE, UnexpectedResponse),
        (Fault.RATE_LIMITED, RateLimited),
        (Fault.IP_403, GatewayRejected),
    ],
)
def test_injected_faults_become_clear_errors(
    simulator: EsignSimulator, fault: Fault, error: type[Exception]
) -> None:
    simulator.inject(fault, flow_id=DOC_FLOW)
    started = time.monotonic()
    with signed_client(simulator, max_retries=1, deadline=3) as client, pytest.raises(error):
        client.get_outline(DOC_FLOW)
    assert time.monotonic() - started < 3.5


def test_transient_fault_is_retried_through(simulator: EsignSimulator) -> None:
    simulator.inject(Fault.HTTP_502, flow_id=DOC_FLOW, times=2)
    with signed_client(simulator, max_retries=2, base_delay=0.01) as client:
        assert client.get_outline(DOC_FLOW).flow_id == DOC_FLOW
    assert simulator.outline_calls(DOC_FLOW) == 3


def test_huge_fail_reason_is_still_an_outline(simulator: EsignSimulator) -> None:
    simulator.inject(Fault.HUGE_FAIL_REASON, flow_id=DOC_FLOW)
    with signed_client(simulator) as client:
        outline = client.get_outline(DOC_FLOW)
    assert outline.fail_reason is not None and len(outline.fail_reason) >= 100_000
