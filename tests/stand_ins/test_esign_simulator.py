"""The e签宝 simulator against the documented gateway rules, over real loopback HTTP.

The signing helper below is written from the doc again on purpose: neither the bot's signing
module nor the simulator's verifier is trusted to check the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from stand_ins.esign_simulator import (
    BUSINESS_ERRORS,
    FAULT_FLOWS,
    OUTLINE_SAMPLES,
    SAMPLE_FLOWS,
    SIM_APP_ID,
    SIM_APP_SECRET,
    EsignSimulator,
    Fault,
    FaultKind,
    SampleKind,
    catalogue_outline,
    signature,
    string_to_sign,
)
from stand_ins.esign_simulator import server as server_module
from stand_ins.esign_simulator.catalogue import ALL_SUB_FLOW_TYPES, SUB_FLOW_STATUSES

DOC_FLOW = "803719636976683872"
MAIN = Path(__file__).resolve().parents[2]
JSON_TYPE = "application/json; charset=UTF-8"
#: Built once: httpx would otherwise load the CA bundle for every client (80 ms each), although
#: everything here is plain HTTP on loopback.
TLS = ssl.create_default_context()


def client(base_url: str, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=base_url, verify=TLS, **kwargs)


def one_off_get(url: str, *, headers: dict[str, str], timeout: float = 5) -> httpx.Response:
    """A request on a fresh connection (no pool), as connection faults need."""
    with client("", timeout=timeout) as fresh:
        return fresh.get(url, headers=headers)


def outline_path(flow_id: str) -> str:
    return f"/v2/identity/auth/api/common/{flow_id}/outline"


# --- the test's own signer, written from e签宝's documented algorithm ---------------------------


def my_path_and_parameters(target: str) -> str:
    path, _, query = target.partition("?")
    firsts: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key not in firsts:
            firsts[key] = value
    if not firsts:
        return path
    return path + "?" + "&".join(k + "=" + v if v else k for k, v in sorted(firsts.items()))


def my_string_to_sign(method: str, headers: dict[str, str], target: str) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    names = [
        n.strip()
        for n in lower.get("x-tsign-open-ca-signature-headers", "").split(",")
        if n.strip()
    ]
    block = "\n".join(f"{n}:{lower.get(n.lower(), '')}" for n in sorted(names))
    parts = [method, lower.get("accept", ""), lower.get("content-md5", "")]
    parts += [lower.get("content-type", ""), lower.get("date", "")]
    return "\n".join([*parts, *([block] if block else []), my_path_and_parameters(target)])


def my_signature(secret: str, text: str) -> str:
    mac = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def signed(
    target: str,
    *,
    method: str = "GET",
    app_id: str = SIM_APP_ID,
    secret: str = SIM_APP_SECRET,
    timestamp: str | None = None,
    extra: dict[str, str] | None = None,
    sign_target: str | None = None,
) -> dict[str, str]:
    headers = {
        "Accept": "*/*",
        "Content-Type": JSON_TYPE,
        "X-Tsign-Open-App-Id": app_id,
        "X-Tsign-Open-Auth-Mode": "Signature",
        "X-Tsign-Open-Ca-Timestamp": timestamp or str(int(time.time() * 1000)),
        **(extra or {}),
    }
    to_sign = my_string_to_sign(method, headers, sign_target or target)
    headers["X-Tsign-Open-Ca-Signature"] = my_signature(secret, to_sign)
    return headers


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[EsignSimulator]:
    with EsignSimulator() as simulator:
        yield simulator


@pytest.fixture
def http(sim: EsignSimulator) -> Iterator[httpx.Client]:
    with client(sim.base_url, timeout=5) as pooled:
        yield pooled


def get_signed(http: httpx.Client, target: str, **kwargs: Any) -> httpx.Response:
    return http.get(target, headers=signed(target, **kwargs))


def gateway_reason(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False and body["code"] == response.status_code
    assert response.headers["Content-Type"] == JSON_TYPE
    return str(body["message"])


# --- signature algorithm ------------------------------------------------------------------------

OUTLINE_VECTOR = "/v2/identity/auth/api/common/3456789012345678901/outline"
VECTORS = [
    (
        "test-app-secret",
        "GET",
        {"Accept": "*/*", "Content-Type": JSON_TYPE},
        OUTLINE_VECTOR,
        "GET\n*/*\n\napplication/json; charset=UTF-8\n\n" + OUTLINE_VECTOR,
        "+fQxVXb3xW+wgJjuAD+WI4kYldyyUqh4+wTxxOAIHX0=",
    ),
    (
        "test-app-secret",
        "GET",
        {"Accept": "*/*"},
        OUTLINE_VECTOR,
        "GET\n*/*\n\n\n\n" + OUTLINE_VECTOR,
        "u4sESbC6JhnOFLnOp3ufme4J9n/F+LMHkQDsTMEZimY=",
    ),
    (
        "test-app-secret",
        "GET",
        {"Accept": "*/*", "Content-Type": JSON_TYPE},
        "/v2/identity/auth/api/common/3456789012345678901/process"
        "?subFlowId=5ffbafb2-c3be-45ba-bfeb-fda1f8eb083d",
        None,
        "YXnDYEZ3+N/JLQ0duCuV4XWt51Z6e83zkdMgZEH26eA=",
    ),
    (
        "dummysecret",
        "POST",
        {"Accept": "*/*", "Content-MD5": "uxydqKBMBy6x1siClKEQ6Q==", "Content-Type": JSON_TYPE},
        "/v3/sign-flow/create-by-file",
        "POST\n*/*\nuxydqKBMBy6x1siClKEQ6Q==\napplication/json; charset=UTF-8\n\n"
        "/v3/sign-flow/create-by-file",
        "6dYuzEqXUobDAEL97Ja5pvH3QWHpn4R5iJSWEvIsCo8=",
    ),
    (
        "test",
        "POST",
        {"Accept": "*/*", "Content-MD5": "test", "Content-Type": "application/json"},
        "/v3/sign-flow/create-by-file?c=1&z=3&m=2&arr=99&arr=88",
        "POST\n*/*\ntest\napplication/json\n\n/v3/sign-flow/create-by-file?arr=99&c=1&m=2&z=3",
        "MDBQ4PfgttLGiImHPRpdQNxHQjcR5arnW1vb4dYlegk=",
    ),
]


@pytest.mark.parametrize(("secret", "method", "headers", "target", "text", "expected"), VECTORS)
def test_doc_vectors_reproduce(
    secret: str,
    method: str,
    headers: dict[str, str],
    target: str,
    text: str | None,
    expected: str,
) -> None:
    simulated = string_to_sign(method, headers, target)
    assert simulated == my_string_to_sign(method, headers, target)
    if text is not None:
        assert simulated == text
    assert signature(secret, simulated) == expected == my_signature(secret, simulated)


def test_content_md5_vectors() -> None:
    from stand_ins.esign_simulator.gateway import content_md5

    assert content_md5(b"") == "1B2M2Y8AsgTpgAmY7PhCfg=="
    assert content_md5(b"{}") == "mZFLkyvTelC5g8XnyQrpOw=="


def test_string_to_sign_rules() -> None:
    # Empty query values keep the key alone; headers block is sorted `Key:Value`.
    assert string_to_sign("get", {}, "/p?b=&a=1&a=2&c") == "GET\n\n\n\n\n/p?a=1&b&c"
    headers = {"X-Tsign-Open-Ca-Signature-Headers": "X-B,X-A, X-Missing", "X-A": "1", "X-B": "2"}
    assert string_to_sign("GET", headers, "/p") == "GET\n\n\n\n\nX-A:1\nX-B:2\nX-Missing:\n/p"


# --- signature mode -----------------------------------------------------------------------------


def test_signed_request_gets_doc_example(sim: EsignSimulator, http: httpx.Client) -> None:
    response = get_signed(http, outline_path(DOC_FLOW))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert body["code"] == 0 and body["message"] == "成功"
    assert body["data"] == catalogue_outline(DOC_FLOW)
    assert body["data"]["relatedFlows"][0]["flowId"] == "802965095964494307"
    assert sim.outline_calls() == sim.outline_calls(DOC_FLOW) == 1


def test_wrong_secret_is_invalid_signature(sim: EsignSimulator, http: httpx.Client) -> None:
    response = get_signed(http, outline_path(DOC_FLOW), secret="not-the-secret")
    assert response.status_code == 401
    assert gateway_reason(response) == "INVALID_SIGNATURE"
    assert "data" not in response.json()
    assert sim.outline_calls() == 0


@pytest.mark.parametrize(
    ("skew_seconds", "in_seconds", "status"),
    [
        (0, True, 401),
        (16 * 60, False, 401),
        (-16 * 60, False, 401),
        (14 * 60, False, 200),
        (-14 * 60, False, 200),
    ],
)
def test_timestamp_window(
    http: httpx.Client, skew_seconds: int, in_seconds: bool, status: int
) -> None:
    moment = time.time() + skew_seconds
    timestamp = str(int(moment)) if in_seconds else str(int(moment * 1000))
    response = get_signed(http, outline_path(DOC_FLOW), timestamp=timestamp)
    assert response.status_code == status
    if status == 401:
        assert gateway_reason(response) == "INVALID_TIMESTAMP"


def test_timestamp_must_be_integer_ms(http: httpx.Client) -> None:
    timestamp = f"{time.time() * 1000:.1f}"
    response = get_signed(http, outline_path(DOC_FLOW), timestamp=timestamp)
    assert gateway_reason(response) == "INVALID_TIMESTAMP"


def test_unknown_app_id(http: httpx.Client) -> None:
    response = get_signed(http, outline_path(DOC_FLOW), app_id="5111000000000009")
    assert response.status_code == 401
    assert gateway_reason(response) == "无效的应用"


@pytest.mark.parametrize(
    ("mode", "status"), [("signature", 200), ("SIGNATURE", 200), ("Hmac", 401)]
)
def test_auth_mode(http: httpx.Client, mode: str, status: int) -> None:
    target = outline_path(DOC_FLOW)
    response = http.get(target, headers=signed(target, extra={"X-Tsign-Open-Auth-Mode": mode}))
    assert response.status_code == status
    if status == 401:
        assert gateway_reason(response) == "AUTHSTRATEGY_NOT_FOUND"


@pytest.mark.parametrize(
    "missing", ["X-Tsign-Open-App-Id", "X-Tsign-Open-Ca-Timestamp", "X-Tsign-Open-Ca-Signature"]
)
def test_missing_signature_headers(http: httpx.Client, missing: str) -> None:
    target = outline_path(DOC_FLOW)
    headers = signed(target)
    del headers[missing]
    response = http.get(target, headers=headers)
    assert response.status_code == 401
    assert gateway_reason(response) == "缺少参数"


def test_query_is_signed_sorted_and_first_value_wins(http: httpx.Client) -> None:
    path = outline_path(DOC_FLOW)
    # The same parameters in another order verify: the gateway sorts the keys.
    headers = signed(f"{path}?b=2&a=1&a=9", sign_target=f"{path}?a=1&b=2")
    assert http.get(f"{path}?b=2&a=1&a=9", headers=headers).status_code == 200
    # Swapping which repeated value comes first changes what is signed.
    tampered = http.get(f"{path}?b=2&a=9&a=1", headers=headers)
    assert gateway_reason(tampered) == "INVALID_SIGNATURE"
    # So does changing a value or adding a parameter.
    assert http.get(f"{path}?b=3&a=1", headers=headers).status_code == 401
    assert http.get(f"{path}?b=2&a=1&c=0", headers=headers).status_code == 401


def test_query_values_are_verified_as_they_stand(http: httpx.Client) -> None:
    path = outline_path(DOC_FLOW)
    target = f"{path}?name=%E5%BC%A0&x=a%2Fb"
    assert get_signed(http, target).status_code == 200
    decoded_signing = signed(target, sign_target=f"{path}?name=张&x=a/b")
    assert http.get(target, headers=decoded_signing).status_code == 401


def test_listed_headers_are_verified(http: httpx.Client) -> None:
    target = outline_path(DOC_FLOW)
    extra = {
        "X-Tsign-Open-Ca-Signature-Headers": "X-Request-Id,X-Tenant",
        "X-Request-Id": "r-1",
        "X-Tenant": "acme",
    }
    headers = signed(target, extra=extra)
    assert http.get(target, headers=headers).status_code == 200
    changed = {**headers, "X-Tenant": "other"}
    assert gateway_reason(http.get(target, headers=changed)) == "INVALID_SIGNATURE"
    dropped = {k: v for k, v in headers.items() if k != "X-Request-Id"}
    assert gateway_reason(http.get(target, headers=dropped)) == "INVALID_SIGNATURE"
    # Unlisted headers are not signed.
    assert http.get(target, headers={**headers, "X-Other": "x"}).status_code == 200


def test_content_type_is_signed_even_on_get(http: httpx.Client) -> None:
    target = outline_path(DOC_FLOW)
    headers = signed(target)
    headers["Content-Type"] = "application/json"
    assert gateway_reason(http.get(target, headers=headers)) == "INVALID_SIGNATURE"


def test_content_md5_must_match_a_body(http: httpx.Client) -> None:
    target = outline_path(DOC_FLOW)
    good = base64.b64encode(hashlib.md5(b"{}").digest()).decode()  # noqa: S324
    ok = http.request(
        "GET", target, content=b"{}", headers=signed(target, extra={"Content-MD5": good})
    )
    assert ok.status_code == 200
    bad = http.request(
        "GET", target, content=b"{}", headers=signed(target, extra={"Content-MD5": "AAAA"})
    )
    assert bad.status_code == 400 and bad.json()["message"] == "INVALID_CONTENT_MD5"


# --- business answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("flow_id", sorted(BUSINESS_ERRORS))
def test_business_error_ids(http: httpx.Client, flow_id: str) -> None:
    response = get_signed(http, outline_path(flow_id))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "code": BUSINESS_ERRORS[flow_id].code,
        "message": BUSINESS_ERRORS[flow_id].message,
        "data": None,
    }
    assert str(body["code"]) in flow_id  # the ids end with their code, to be easy to remember


def test_business_error_codes_cover_the_brief() -> None:
    codes = {error.code for error in BUSINESS_ERRORS.values()}
    assert codes == {30500001, 30500004, 30500003, 30503107, 30500101}


def test_unknown_flow_is_30500001(sim: EsignSimulator, http: httpx.Client) -> None:
    response = get_signed(http, outline_path("1234567890123456789"))
    assert response.status_code == 200
    assert response.json() == {"code": 30500001, "message": "认证流程不存在", "data": None}
    assert sim.outline_calls("1234567890123456789") == 1


@pytest.mark.parametrize(
    "target",
    [
        "/v2/identity/auth/api/common/803719636976683872/detail",
        "/v2/identity/auth/api/common/803719636976683872/outline/",
        "/v2/identity/auth/api/common//outline",
        "/v2/identity/auth/api/common/803719636976683872/outline/x",
        "/",
    ],
)
def test_other_paths_are_404_json(http: httpx.Client, target: str) -> None:
    response = get_signed(http, target)
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "not found"}


def test_post_to_outline_is_404(http: httpx.Client) -> None:
    response = http.post(outline_path(DOC_FLOW), headers=signed(outline_path(DOC_FLOW)))
    assert response.status_code == 404


# --- catalogue ----------------------------------------------------------------------------------


def _check_sub_flows(sub_flows: Any) -> None:
    assert sub_flows is None or isinstance(sub_flows, list)
    for sub in sub_flows or []:
        assert isinstance(sub["subFlowId"], str) and len(sub["subFlowId"]) == 36
        assert isinstance(sub["subFlowType"], str) and isinstance(sub["status"], str)


def _check_flow_fields(flow: dict[str, Any]) -> None:
    assert isinstance(flow["flowId"], str) and flow["flowId"].isdigit()
    assert isinstance(flow["flowStatus"], str) and isinstance(flow["objectType"], str)
    assert flow["contextId"] is None or isinstance(flow["contextId"], str)
    assert flow["failReason"] is None or isinstance(flow["failReason"], str)
    _check_sub_flows(flow["subFlows"])


@pytest.mark.parametrize("sample", OUTLINE_SAMPLES, ids=lambda sample: sample.flow_id)
def test_catalogue_flows_have_the_documented_shape(http: httpx.Client, sample: Any) -> None:
    response = get_signed(http, outline_path(sample.flow_id))
    body = json.loads(response.content.decode("utf-8"))
    assert body["code"] == 0 and body["message"] == "成功"
    data = body["data"]
    assert data["flowId"] == sample.flow_id and 18 <= len(sample.flow_id) <= 19
    _check_flow_fields(data)
    for key in ("createTime", "modifyTime"):
        assert data[key] is None or isinstance(data[key], int)
    for related in data.get("relatedFlows") or []:
        _check_flow_fields(related)
        assert "createTime" not in related


def test_catalogue_covers_every_case() -> None:
    outlines = [catalogue_outline(sample.flow_id) for sample in OUTLINE_SAMPLES]
    assert all(outline is not None for outline in outlines)
    statuses = {outline["flowStatus"] for outline in outlines if outline}
    assert {"INIT", "ING", "SUCCESS", "FAIL", "PENDING_REVIEW"} <= statuses

    def subs(outline: dict[str, Any]) -> list[dict[str, Any]]:
        related = outline.get("relatedFlows") or []
        return (outline["subFlows"] or []) + [s for r in related for s in r["subFlows"] or []]

    every = [
        sub for outline in outlines if outline and len(subs(outline)) < 50 for sub in subs(outline)
    ]
    assert set(ALL_SUB_FLOW_TYPES) <= {sub["subFlowType"] for sub in every}
    assert set(SUB_FLOW_STATUSES) <= {sub["status"] for sub in every}
    oversized = max((o for o in outlines if o), key=lambda o: len(json.dumps(o)))
    assert len(oversized["subFlows"]) == 120 and len(oversized["failReason"]) == 5000
    assert len(oversized["relatedFlows"]) == 30
    assert all(len(related["subFlows"]) == 10 for related in oversized["relatedFlows"])
    hostile = "<!channel> *bold* <https://evil.example|click> & <@U123>"
    assert any(o and o["contextId"] == hostile for o in outlines)
    nulls = [o for o in outlines if o and o["subFlows"] is None and "relatedFlows" not in o]
    assert nulls and nulls[0]["contextId"] is None


def test_sample_list_is_ordered_and_unique() -> None:
    ids = [sample.flow_id for sample in SAMPLE_FLOWS]
    assert len(ids) == len(set(ids))
    assert SAMPLE_FLOWS[0].flow_id == DOC_FLOW
    kinds = [sample.kind for sample in SAMPLE_FLOWS]
    assert kinds == sorted(kinds, key=list(SampleKind).index)
    assert all(sample.title and len(sample.flow_id) in (18, 19) for sample in SAMPLE_FLOWS)


# --- token mode ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def fetch_token(http: httpx.Client, secret: str = SIM_APP_SECRET) -> dict[str, Any]:
    params = {"appId": SIM_APP_ID, "secret": secret, "grantType": "client_credentials"}
    body: dict[str, Any] = http.get("/v1/oauth2/access_token", params=params).json()
    return body


def with_token(http: httpx.Client, token: str, flow_id: str = DOC_FLOW) -> httpx.Response:
    headers = {
        "X-Tsign-Open-App-Id": SIM_APP_ID,
        "X-Tsign-Open-Token": token,
        "Content-Type": JSON_TYPE,
    }
    return http.get(outline_path(flow_id), headers=headers)


def test_token_lifecycle() -> None:
    clock = FakeClock()
    with EsignSimulator(clock=clock) as sim, client(sim.base_url) as http:
        first = fetch_token(http)
        assert first["code"] == 0 and sim.token_fetches == 1
        first_expiry = int(first["data"]["expiresIn"])
        assert first_expiry == pytest.approx(clock.now * 1000 + 120 * 60 * 1000, abs=5)
        assert with_token(http, first["data"]["token"]).json()["code"] == 0

        second = fetch_token(http)
        assert sim.token_fetches == 2
        # The newer token cut the older one down to five minutes.
        cut = sim.token_expires_at_ms(first["data"]["token"])
        assert cut == pytest.approx(clock.now * 1000 + 5 * 60 * 1000, abs=5)
        assert with_token(http, first["data"]["token"]).status_code == 200
        clock.now += 6 * 60
        assert gateway_reason(with_token(http, first["data"]["token"])) == "TOKEN错误"
        assert with_token(http, second["data"]["token"]).status_code == 200

        refresh = {
            "appId": SIM_APP_ID,
            "refreshToken": second["data"]["refreshToken"],
            "grantType": "refresh_token",
        }
        refreshed = http.get("/v1/oauth2/refresh_token", params=refresh).json()
        assert refreshed["code"] == 0 and sim.token_refreshes == 1
        assert with_token(http, refreshed["data"]["token"]).status_code == 200
        # A refresh token works once.
        assert http.get("/v1/oauth2/refresh_token", params=refresh).json()["code"] != 0

        sim.expire_tokens()
        assert gateway_reason(with_token(http, refreshed["data"]["token"])) == "TOKEN错误"
        assert sim.outline_calls() == 4  # rejected token calls are not counted


def test_token_expires_after_its_lifetime() -> None:
    clock = FakeClock()
    with (
        EsignSimulator(clock=clock, token_ttl_seconds=60) as sim,
        httpx.Client(base_url=sim.base_url) as http,
    ):
        token = fetch_token(http)["data"]["token"]
        clock.now += 59
        assert with_token(http, token).status_code == 200
        clock.now += 2
        assert with_token(http, token).status_code == 401


def test_token_errors(sim: EsignSimulator, http: httpx.Client) -> None:
    wrong = fetch_token(http, secret="nope")
    assert wrong["code"] != 0 and wrong["message"] and wrong["data"] is None
    other_app = http.get(
        "/v1/oauth2/access_token",
        params={"appId": "1", "secret": SIM_APP_SECRET, "grantType": "client_credentials"},
    ).json()
    assert other_app["code"] != 0
    assert sim.token_fetches == 0
    assert gateway_reason(with_token(http, "never-issued")) == "TOKEN错误"
    token = fetch_token(http)["data"]["token"]
    headers = {"X-Tsign-Open-App-Id": "5111000000000009", "X-Tsign-Open-Token": token}
    assert gateway_reason(http.get(outline_path(DOC_FLOW), headers=headers)) == "无效的应用"
    no_app = http.get(outline_path(DOC_FLOW), headers={"X-Tsign-Open-Token": token})
    assert gateway_reason(no_app) == "缺少参数"


# --- faults -------------------------------------------------------------------------------------

HTML_FAULTS = [
    (Fault.HTTP_500_HTML, 500),
    (Fault.HTTP_502, 502),
    (Fault.HTTP_503, 503),
    (Fault.HTTP_504, 504),
]


@pytest.mark.parametrize(("fault", "status"), HTML_FAULTS, ids=str)
def test_html_error_faults(
    sim: EsignSimulator, http: httpx.Client, fault: Fault, status: int
) -> None:
    sim.inject(fault, DOC_FLOW, times=1)
    response = get_signed(http, outline_path(DOC_FLOW))
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert get_signed(http, outline_path(DOC_FLOW)).status_code == 200  # used up


def test_json_shape_faults(sim: EsignSimulator, http: httpx.Client) -> None:
    target = outline_path(DOC_FLOW)
    sim.inject(Fault.BROKEN_JSON, times=1)
    broken = get_signed(http, target)
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    sim.inject(Fault.WRONG_SHAPE, times=1)
    wrong = get_signed(http, target).json()
    assert wrong["code"] == 0 and isinstance(wrong["data"], list)
    sim.inject(Fault.MISSING_CODE, times=1)
    no_code = get_signed(http, target).json()
    assert "code" not in no_code and no_code["data"]["flowId"] == DOC_FLOW
    sim.inject(Fault.HUGE_FAIL_REASON, times=1)
    huge = get_signed(http, target).json()
    assert huge["code"] == 0 and len(huge["data"]["failReason"]) == 100_000
    assert sim.outline_calls() == 4  # these happen behind the gateway


def test_rate_limited(sim: EsignSimulator, http: httpx.Client) -> None:
    sim.inject(Fault.RATE_LIMITED, times=1)
    response = get_signed(http, outline_path(DOC_FLOW))
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["code"] == 429
    assert sim.outline_calls() == 0


@pytest.mark.parametrize(
    "reason",
    [
        "INVALID_SIGNATURE",
        "INVALID_TIMESTAMP",
        "无效的应用",
        "AUTHSTRATEGY_NOT_FOUND",
        "缺少参数",
        "TOKEN错误",
    ],
)
def test_gateway_401_fault(sim: EsignSimulator, http: httpx.Client, reason: str) -> None:
    sim.inject(Fault.gateway_401(reason), DOC_FLOW)
    response = get_signed(http, outline_path(DOC_FLOW))
    assert response.status_code == 401 and gateway_reason(response) == reason
    assert sim.outline_calls() == 0
    sim.clear_faults()
    assert get_signed(http, outline_path(DOC_FLOW)).status_code == 200


def test_ip_403_fault(sim: EsignSimulator, http: httpx.Client) -> None:
    sim.inject(Fault.IP_403)
    response = get_signed(http, outline_path(DOC_FLOW))
    assert response.status_code == 403 and gateway_reason(response) == "IP白名单不匹配"


def test_connection_faults(sim: EsignSimulator) -> None:
    target = sim.base_url + outline_path(DOC_FLOW)
    sim.inject(Fault.CONNECTION_RESET, times=1)
    with pytest.raises(httpx.TransportError):
        one_off_get(target, headers=signed(outline_path(DOC_FLOW)))
    sim.inject(Fault.RESET_MID_BODY, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        one_off_get(target, headers=signed(outline_path(DOC_FLOW)))
    assert one_off_get(target, headers=signed(outline_path(DOC_FLOW))).status_code == 200
    assert [r.status for r in sim.requests()] == [None, 200, 200]


def test_timeout_fault_holds_until_stop() -> None:
    sim = EsignSimulator().start()
    try:
        sim.inject(Fault.TIMEOUT)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            one_off_get(
                sim.base_url + outline_path(DOC_FLOW),
                headers=signed(outline_path(DOC_FLOW)),
                timeout=0.3,
            )
        assert time.monotonic() - started < 2
        assert sim.requests()[-1].status is None  # still held by the server
    finally:
        started = time.monotonic()
        sim.stop()
    assert time.monotonic() - started < 2  # stop() ended the 30-second hold


def test_fault_scope_and_times(sim: EsignSimulator, http: httpx.Client) -> None:
    other = OUTLINE_SAMPLES[1].flow_id
    sim.inject(Fault.HTTP_503, DOC_FLOW, times=2)
    sim.inject(Fault.HTTP_502)  # global, until cleared
    statuses = [get_signed(http, outline_path(DOC_FLOW)).status_code for _ in range(3)]
    assert statuses == [503, 503, 502]
    assert get_signed(http, outline_path(other)).status_code == 502
    sim.clear_faults()
    assert get_signed(http, outline_path(other)).status_code == 200
    with pytest.raises(ValueError):
        sim.inject(Fault.HTTP_503, times=0)


def test_fault_constants() -> None:
    assert {fault.kind for fault in FAULT_FLOWS.values()} == set(FaultKind)
    assert Fault.gateway_401("INVALID_TIMESTAMP").reason == "INVALID_TIMESTAMP"
    assert Fault.GATEWAY_401.reason == "INVALID_SIGNATURE" and Fault.IP_403.at_gateway


@pytest.mark.parametrize(
    ("flow_id", "fault"),
    [(f, x) for f, x in FAULT_FLOWS.items() if x.kind is not FaultKind.TIMEOUT],
    ids=str,
)
def test_catalogue_fault_ids(http: httpx.Client, flow_id: str, fault: Fault) -> None:
    try:
        response = get_signed(http, outline_path(flow_id))
    except httpx.TransportError:
        assert fault.kind in (FaultKind.CONNECTION_RESET, FaultKind.RESET_MID_BODY)
        return
    expected = {FaultKind.GATEWAY_401: 401, FaultKind.IP_403: 403, FaultKind.RATE_LIMITED: 429}
    expected |= {f.kind: status for f, status in HTML_FAULTS}
    assert response.status_code == expected.get(fault.kind, 200)


# --- latency, counting, recording ---------------------------------------------------------------


def test_latency_global_and_per_flow(sim: EsignSimulator, http: httpx.Client) -> None:
    other = OUTLINE_SAMPLES[1].flow_id
    sim.set_latency(0.3)
    sim.set_latency(0.0, other)
    started = time.monotonic()
    assert get_signed(http, outline_path(DOC_FLOW)).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert get_signed(http, outline_path(other)).status_code == 200
    assert time.monotonic() - started < 0.25


def test_constructor_latency_and_stop_interrupts_it() -> None:
    sim = EsignSimulator(latency=20).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            one_off_get(
                sim.base_url + outline_path(DOC_FLOW), headers=signed(outline_path(DOC_FLOW))
            )
        except httpx.HTTPError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 2
    while sim.outline_calls() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    sim.stop()
    caller.join(5)
    assert time.monotonic() - started < 2 and not caller.is_alive() and errors


def test_only_authenticated_calls_are_counted(sim: EsignSimulator, http: httpx.Client) -> None:
    get_signed(http, outline_path(DOC_FLOW), secret="wrong")
    get_signed(http, outline_path(DOC_FLOW), app_id="1")
    http.get(outline_path(DOC_FLOW))  # no auth at all: token mode without a token
    assert sim.outline_calls() == 0
    get_signed(http, outline_path(DOC_FLOW))
    get_signed(http, outline_path("1234567890123456789"))
    assert (sim.outline_calls(), sim.outline_calls(DOC_FLOW)) == (2, 1)
    assert [r.status for r in sim.requests()] == [401, 401, 401, 200, 200]
    sim.reset_stats()
    assert sim.outline_calls() == 0 and sim.requests() == []


def test_requests_are_recorded_raw(sim: EsignSimulator, http: httpx.Client) -> None:
    target = outline_path(DOC_FLOW) + "?z=%2F&a"
    headers = signed(target)
    http.get(target, headers=headers)
    recorded = sim.requests()[-1]
    assert (recorded.method, recorded.path, recorded.status) == ("GET", target, 200)
    assert recorded.headers["X-Tsign-Open-Ca-Signature"] == headers["X-Tsign-Open-Ca-Signature"]
    assert abs(recorded.time - time.time()) < 5


def test_only_the_latest_requests_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "MAX_RECORDED_REQUESTS", 3)
    with EsignSimulator() as small, client(small.base_url, timeout=5) as http:
        for n in range(5):
            get_signed(http, outline_path(DOC_FLOW) + f"?n={n}")
        assert [r.path.rsplit("=", 1)[1] for r in small.requests()] == ["2", "3", "4"]
        assert small.outline_calls() == 5


def test_keep_alive_serves_several_requests_on_one_connection(sim: EsignSimulator) -> None:
    target = outline_path(DOC_FLOW)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as conn:
        reader = conn.makefile("rb")
        for _ in range(3):
            lines = [f"GET {target} HTTP/1.1", "Host: x"]
            lines += [f"{k}: {v}" for k, v in signed(target).items()]
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            assert reader.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert json.loads(reader.read(length))["code"] == 0


def test_many_concurrent_requests(sim: EsignSimulator) -> None:
    sim.set_latency(0.2)
    target = outline_path(DOC_FLOW)
    limits = httpx.Limits(max_connections=100)
    with client(sim.base_url, limits=limits, timeout=10) as http, ThreadPoolExecutor(100) as pool:
        started = time.monotonic()
        statuses = list(pool.map(lambda _: get_signed(http, target).status_code, range(100)))
    assert statuses == [200] * 100
    assert time.monotonic() - started < 3  # answered in parallel, not one after another
    assert sim.outline_calls(DOC_FLOW) == 100


# --- flows file and add_flow --------------------------------------------------------------------


def _custom_flow(flow_id: str, status: str = "SUCCESS") -> dict[str, Any]:
    return {
        "flowId": flow_id,
        "flowStatus": status,
        "objectType": "INDIVIDUAL",
        "contextId": "c",
        "failReason": None,
        "createTime": 1772330400000,
        "modifyTime": 1772330400000,
        "subFlows": [],
        "relatedFlows": [],
    }


@pytest.mark.parametrize("wrapped", [False, True])
def test_flows_file_is_merged_over_the_catalogue(tmp_path: Path, wrapped: bool) -> None:
    flows = [_custom_flow("1111111111111111111"), _custom_flow(DOC_FLOW, "FAIL")]
    path = tmp_path / "flows.json"
    path.write_text(json.dumps({"flows": flows} if wrapped else flows), encoding="utf-8")
    with EsignSimulator(flows_file=path) as sim, client(sim.base_url) as http:
        assert get_signed(http, outline_path("1111111111111111111")).json()["data"] == flows[0]
        assert get_signed(http, outline_path(DOC_FLOW)).json()["data"]["flowStatus"] == "FAIL"
        other = OUTLINE_SAMPLES[1].flow_id
        assert get_signed(http, outline_path(other)).json()["code"] == 0


def test_bad_flows_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flows.json"
    path.write_text('[{"flowStatus": "ING"}]', encoding="utf-8")
    with pytest.raises(ValueError, match="flowId"):
        EsignSimulator(flows_file=path).start()


def test_add_flow_while_running(sim: EsignSimulator, http: httpx.Client) -> None:
    flow_id = next(iter(BUSINESS_ERRORS))
    sim.add_flow(_custom_flow(flow_id))
    assert get_signed(http, outline_path(flow_id)).json()["data"]["flowId"] == flow_id
    with pytest.raises(ValueError):
        sim.add_flow({"flowStatus": "ING"})


def test_custom_credentials() -> None:
    with (
        EsignSimulator(app_id="7438999", app_secret="s3") as sim,
        httpx.Client(base_url=sim.base_url) as http,
    ):
        assert sim.base_url.startswith("http://127.0.0.1:")
        ok = get_signed(http, outline_path(DOC_FLOW), app_id="7438999", secret="s3")
        assert ok.status_code == 200
        assert gateway_reason(get_signed(http, outline_path(DOC_FLOW))) == "无效的应用"


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_prints_port_and_samples_then_serves() -> None:
    code = (
        "import sys; from stand_ins.esign_simulator.cli import run_simulator; "
        "sys.exit(run_simulator(['--port', '0', '--latency', '0']))"
    )
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(MAIN)}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=MAIN,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("e签宝 simulator on http://127.0.0.1:")
        assert "built-in simulator secret" in first and SIM_APP_ID in first
        base_url = first.split(" on ", 1)[1].split(" ", 1)[0]
        assert not base_url.endswith(":0")
        assert DOC_FLOW in process.stdout.readline()
        with client(base_url) as http:
            assert get_signed(http, outline_path(DOC_FLOW)).json()["code"] == 0
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def test_cli_hides_a_real_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stand_ins.esign_simulator import cli

    served: list[EsignSimulator] = []

    def serve_briefly(self: EsignSimulator) -> None:
        served.append(self)
        self.stop()

    monkeypatch.setattr(EsignSimulator, "serve_forever", serve_briefly)
    assert cli.run_simulator(["--app-secret", "top-secret-value", "--app-id", "7438123"]) == 0
    assert served and served[0].app_secret == "top-secret-value"
    out = capsys.readouterr().out
    assert "top-secret-value" not in out and "secret from --app-secret" in out
    assert "app id 7438123" in out
