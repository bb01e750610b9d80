"""Every answer e签宝 can give becomes either an outline or an error a person can act on."""

import json
import threading
from collections.abc import Callable

import httpx
import pytest

from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.errors import (
    EsignBusinessError,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    InvalidFlowId,
    RateLimited,
    UnexpectedResponse,
)
from bot.esign.signing import SignatureAuth

SECRET = "unit-test-app-secret"
FLOW = "803719636976683872"
OUTLINE = {"flowId": FLOW, "flowStatus": "SUCCESS", "objectType": "INDIVIDUAL", "subFlows": []}

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    def __init__(self, *answers: Handler | httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


def make_client(recorder: Recorder, **retry: float) -> EsignClient:
    sleeps: list[float] = []
    return EsignClient(
        "https://esign.test",
        SignatureAuth("7438000000000001", SECRET),
        transport=httpx.MockTransport(recorder),
        retry=RetryPolicy(**retry),  # type: ignore[arg-type]
        sleep=sleeps.append,
    )


def ok(data: object = OUTLINE) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "message": "成功", "data": data})


def test_outline_request_is_signed_get_on_the_documented_path() -> None:
    recorder = Recorder(ok())
    outline = make_client(recorder).get_outline(FLOW)
    assert outline.flow_id == FLOW
    (request,) = recorder.requests
    assert request.method == "GET"
    assert request.url.raw_path == f"/v2/identity/auth/api/common/{FLOW}/outline".encode()
    assert request.headers["X-Tsign-Open-Auth-Mode"] == "Signature"
    assert len(request.headers["X-Tsign-Open-Ca-Timestamp"]) == 13


@pytest.mark.parametrize("code", [30500001, 30500004])
def test_not_found_codes(code: int) -> None:
    recorder = Recorder(httpx.Response(200, json={"code": code, "message": "认证流程不存在"}))
    with pytest.raises(FlowNotFound) as info:
        make_client(recorder).get_outline(FLOW)
    assert info.value.code == code
    assert FLOW in info.value.detail
    assert len(recorder.requests) == 1


def test_other_business_code_is_kept_with_message() -> None:
    recorder = Recorder(httpx.Response(200, json={"code": 30503107, "message": "余额不足"}))
    with pytest.raises(EsignBusinessError) as info:
        make_client(recorder).get_outline(FLOW)
    assert info.value.code == 30503107
    assert "余额不足" in str(info.value)
    assert len(recorder.requests) == 1  # business errors are never retried


@pytest.mark.parametrize(
    ("status", "reason", "hint_word"),
    [
        (401, "INVALID_TIMESTAMP", "clock"),
        (401, "无效的应用", "ESIGN_ENV"),
        (401, "INVALID_SIGNATURE", "ESIGN_APP_SECRET"),
        (401, "AUTHSTRATEGY_NOT_FOUND", "ESIGN_AUTH_MODE"),
        (403, "IP白名单不匹配", "allow-list"),
    ],
)
def test_gateway_rejections_carry_reason_and_fix(status: int, reason: str, hint_word: str) -> None:
    body = {"success": False, "code": status, "message": reason}
    recorder = Recorder(httpx.Response(status, json=body))
    with pytest.raises(GatewayRejected) as info:
        make_client(recorder).get_outline(FLOW)
    assert info.value.reason == reason
    assert hint_word in info.value.hint
    assert SECRET not in str(info.value)
    assert len(recorder.requests) == 1


def test_rate_limit_is_reported_not_retried() -> None:
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "2"}, text="slow down"))
    with pytest.raises(RateLimited) as info:
        make_client(recorder).get_outline(FLOW)
    assert info.value.retry_after == 2.0
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_then_succeed(status: int) -> None:
    recorder = Recorder(httpx.Response(status, text="<html>bad gateway</html>"), ok())
    assert make_client(recorder).get_outline(FLOW).flow_id == FLOW
    assert len(recorder.requests) == 2


def test_each_retry_is_logged_as_a_warning_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(httpx.Response(502, text="<html>bad gateway</html>"), ok())
    with caplog.at_level("WARNING", logger="bot.esign.client"):
        make_client(recorder).get_outline(FLOW)
    [record] = [r for r in caplog.records if r.getMessage() == "e签宝 outline retry"]
    assert record.levelname == "WARNING"
    assert (record.flow_id, record.attempt) == (FLOW, 1)  # type: ignore[attr-defined]
    assert "502" in record.reason  # type: ignore[attr-defined]


def test_retries_are_bounded() -> None:
    recorder = Recorder(httpx.Response(503, text="<html>down</html>"))
    with pytest.raises(EsignUnavailable, match="503"):
        make_client(recorder, max_retries=2).get_outline(FLOW)
    assert len(recorder.requests) == 3


def test_connection_errors_are_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorder = Recorder(refuse, refuse, ok())
    assert make_client(recorder).get_outline(FLOW).flow_id == FLOW
    assert len(recorder.requests) == 3


def test_timeouts_become_unavailable_after_retries() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    recorder = Recorder(hang)
    with pytest.raises(EsignUnavailable, match="in time"):
        make_client(recorder, max_retries=1).get_outline(FLOW)
    assert len(recorder.requests) == 2


def test_deadline_stops_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorder = Recorder(refuse)
    # A zero deadline leaves no time for a second attempt, however many retries are allowed.
    with pytest.raises(EsignUnavailable):
        make_client(recorder, max_retries=5, deadline=0.0001, base_delay=1).get_outline(FLOW)
    assert len(recorder.requests) == 1


def test_500_is_unavailable_without_retry() -> None:
    recorder = Recorder(httpx.Response(500, text="<html>oops</html>"))
    with pytest.raises(EsignUnavailable, match="500"):
        make_client(recorder).get_outline(FLOW)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, text='{"code": 0, "data": {"flowId'), EsignUnavailable),
        (httpx.Response(200, text="<html>maintenance</html>"), EsignUnavailable),
        (httpx.Response(200, json=[1, 2]), EsignUnavailable),
        (httpx.Response(200, json={"message": "no code"}), UnexpectedResponse),
        (httpx.Response(200, json={"code": "0", "data": {}}), UnexpectedResponse),
        (httpx.Response(200, json={"code": 0, "data": None}), UnexpectedResponse),
        (httpx.Response(200, json={"code": 0, "data": [OUTLINE]}), UnexpectedResponse),
        (
            httpx.Response(200, json={"code": 0, "data": {"subFlows": "not a list"}}),
            UnexpectedResponse,
        ),
        (httpx.Response(404, json={"code": 404}), UnexpectedResponse),
    ],
)
def test_malformed_answers_are_clear_errors(
    response: httpx.Response, error: type[Exception]
) -> None:
    with pytest.raises(error):
        make_client(Recorder(response)).get_outline(FLOW)


def test_oversized_body_is_refused() -> None:
    huge = json.dumps({"code": 0, "data": {**OUTLINE, "failReason": "x" * 3_000_000}})
    with pytest.raises(UnexpectedResponse, match="larger"):
        make_client(Recorder(httpx.Response(200, text=huge))).get_outline(FLOW)


def test_invalid_id_makes_no_request() -> None:
    recorder = Recorder(ok())
    with pytest.raises(InvalidFlowId):
        make_client(recorder).get_outline("../../v1/oauth2/access_token")
    assert recorder.requests == []
