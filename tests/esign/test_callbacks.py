"""e签宝's status callbacks: the documented vector, a notify URL with query values, refusals."""

from __future__ import annotations

import pytest

from bot.esign.callbacks import CallbackRefused, callback_signature, verify_callback

SECRET = "test-app-secret"
APP_ID = "7438000000000001"
TIMESTAMP = "1700000000000"
DOC_BODY = (
    b'{"flowId":"3456789012345678901","success":true,"contextId":"ctx-1","verifycode":"abc",'
    b'"serviceId":"3456789012345678901","status":true,"action":"identity_psn_end"}'
)
DOC_SIGNATURE = "bcfe137ae06dbdaa2e0c1ed58d82e1eb9fad991eb97f442aadee571784f8dfe5"


def test_the_documented_vector() -> None:
    assert callback_signature(SECRET, TIMESTAMP, "", DOC_BODY) == DOC_SIGNATURE


def test_query_values_are_signed_in_key_order_values_only() -> None:
    # keys sorted: a, team, z → values "1" + "T0" + "last", between timestamp and body
    signed = callback_signature(SECRET, TIMESTAMP, "z=last&a=1&team=T0", DOC_BODY)
    import hashlib
    import hmac

    expected = hmac.new(
        SECRET.encode(), TIMESTAMP.encode() + b"1T0last" + DOC_BODY, hashlib.sha256
    ).hexdigest()
    assert signed == expected
    assert signed != DOC_SIGNATURE


def headers(**overrides: str) -> dict[str, str]:
    base = {
        "x-tsign-open-app-id": APP_ID,
        "x-tsign-open-timestamp": TIMESTAMP,
        "x-tsign-open-signature": DOC_SIGNATURE,
        "x-tsign-open-signature-algorithm": "hmac-sha256",
    }
    base.update({k.lower().replace("_", "-"): v for k, v in overrides.items()})
    return base


def verify(body: bytes = DOC_BODY, now: float = 1700000000.0, query: str = "", **h: str):  # type: ignore[no-untyped-def]
    return verify_callback(
        app_id=APP_ID, secret=SECRET, headers=headers(**h), query=query, body=body, now=now
    )


def test_a_genuine_callback_names_its_flows() -> None:
    callback = verify(now=1700000000.0 + 14 * 60)
    assert callback.flow_ids == ("3456789012345678901",)
    assert callback.action == "identity_psn_end" and callback.success is True


def test_an_organization_callback_names_the_agents_flow_too() -> None:
    body = b'{"flowId":"3456789012345678901","agentFlowId":"3456789012345678902","success":false}'
    signature = callback_signature(SECRET, TIMESTAMP, "", body)
    callback = verify(body, x_tsign_open_signature=signature)
    assert callback.flow_ids == ("3456789012345678901", "3456789012345678902")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"x_tsign_open_signature": "0" * 64}, 401),
        ({"x_tsign_open_signature": DOC_SIGNATURE.upper()[:-1] + "Z"}, 401),
        ({"x_tsign_open_app_id": "5111000000000009"}, 403),
        ({"x_tsign_open_timestamp": "1699999000000"}, 401),  # 16 min 40 s before `now`
        ({"x_tsign_open_timestamp": "soon"}, 401),
        ({"x_tsign_open_signature_algorithm": "hmac-sm3"}, 401),
    ],
)
def test_forged_stale_and_foreign_callbacks_are_refused(
    change: dict[str, str], status: int
) -> None:
    with pytest.raises(CallbackRefused) as refused:
        verify(**change)
    assert refused.value.status == status


def test_a_signed_body_that_is_not_json_is_a_bad_request() -> None:
    body = b"flowId=3456789012345678901"
    with pytest.raises(CallbackRefused) as refused:
        verify(body, x_tsign_open_signature=callback_signature(SECRET, TIMESTAMP, "", body))
    assert refused.value.status == 400


def test_an_oversized_body_is_refused_before_anything_else() -> None:
    with pytest.raises(CallbackRefused) as refused:
        verify(b"{" + b" " * (1024 * 1024) + b"}")
    assert refused.value.status == 413


def test_flow_ids_that_could_steer_a_path_are_ignored() -> None:
    body = b'{"flowId":"../../etc","agentFlowId":42}'
    callback = verify(body, x_tsign_open_signature=callback_signature(SECRET, TIMESTAMP, "", body))
    assert callback.flow_ids == ()
