"""Every test vector e签宝 documents, and signatures computed from the request as httpx sends it."""

import httpx
import pytest

from bot.esign.signing import (
    SignatureAuth,
    content_md5,
    path_and_parameters,
    signature,
    string_to_sign,
    string_to_sign_for,
)

OUTLINE = "/v2/identity/auth/api/common/3456789012345678901/outline"
JSON_CT = "application/json; charset=UTF-8"


@pytest.mark.parametrize(
    ("content_type", "expected_string", "expected_signature"),
    [
        (
            JSON_CT,
            f"GET\n*/*\n\napplication/json; charset=UTF-8\n\n{OUTLINE}",
            "+fQxVXb3xW+wgJjuAD+WI4kYldyyUqh4+wTxxOAIHX0=",
        ),
        ("", f"GET\n*/*\n\n\n\n{OUTLINE}", "u4sESbC6JhnOFLnOp3ufme4J9n/F+LMHkQDsTMEZimY="),
    ],
)
def test_outline_vectors(content_type: str, expected_string: str, expected_signature: str) -> None:
    text = string_to_sign(
        method="GET",
        accept="*/*",
        content_md5="",
        content_type=content_type,
        date="",
        signed_headers={},
        path_and_params=OUTLINE,
    )
    assert text == expected_string
    assert signature("test-app-secret", text) == expected_signature


def test_query_vector_with_sub_flow_id() -> None:
    path = path_and_parameters(
        "/v2/identity/auth/api/common/3456789012345678901/process"
        "?subFlowId=5ffbafb2-c3be-45ba-bfeb-fda1f8eb083d"
    )
    text = string_to_sign(
        method="GET",
        accept="*/*",
        content_md5="",
        content_type=JSON_CT,
        date="",
        signed_headers={},
        path_and_params=path,
    )
    assert signature("test-app-secret", text) == "YXnDYEZ3+N/JLQ0duCuV4XWt51Z6e83zkdMgZEH26eA="


def test_docs_post_example() -> None:
    text = (
        "POST\n*/*\nuxydqKBMBy6x1siClKEQ6Q==\napplication/json; charset=UTF-8\n\n"
        "/v3/sign-flow/create-by-file"
    )
    assert signature("dummysecret", text) == "6dYuzEqXUobDAEL97Ja5pvH3QWHpn4R5iJSWEvIsCo8="


def test_sorted_query_and_repeated_key_vector() -> None:
    path = path_and_parameters("/v3/sign-flow/create-by-file?c=1&z=3&m=2&arr=99&arr=88")
    assert path == "/v3/sign-flow/create-by-file?arr=99&c=1&m=2&z=3"
    text = string_to_sign(
        method="POST",
        accept="*/*",
        content_md5="test",
        content_type="application/json",
        date="",
        signed_headers={},
        path_and_params=path,
    )
    assert signature("test", text) == "MDBQ4PfgttLGiImHPRpdQNxHQjcR5arnW1vb4dYlegk="


def test_content_md5_vectors() -> None:
    assert content_md5(b"{}") == "mZFLkyvTelC5g8XnyQrpOw=="
    # An empty body sends no Content-MD5 at all; the documented digest of b"" is for reference.
    assert content_md5(b"") == ""


def test_empty_query_value_keeps_key_alone() -> None:
    assert path_and_parameters("/p?b=2&a=&c") == "/p?a&b=2&c"
    assert path_and_parameters("/p?") == "/p"


def test_signed_headers_block_sorted_and_present() -> None:
    text = string_to_sign(
        method="GET",
        accept="*/*",
        content_md5="",
        content_type=JSON_CT,
        date="",
        signed_headers={"X-B": "2", "X-A": ""},
        path_and_params="/p",
    )
    assert text == f"GET\n*/*\n\n{JSON_CT}\n\nX-A:\nX-B:2\n/p"


def _signed(auth: SignatureAuth, request: httpx.Request) -> httpx.Request:
    flow = auth.auth_flow(request)
    return next(flow)


def test_auth_signs_request_as_sent_with_millisecond_timestamp() -> None:
    auth = SignatureAuth("7438000000000001", "test-app-secret", clock=lambda: 1_700_000_000.123)
    client = httpx.Client(base_url="https://example.invalid", headers={"Accept": "*/*"})
    request = _signed(auth, client.build_request("GET", OUTLINE))
    assert request.headers["X-Tsign-Open-Ca-Timestamp"] == "1700000000123"
    assert request.headers["X-Tsign-Open-Auth-Mode"] == "Signature"
    assert request.headers["X-Tsign-Open-App-Id"] == "7438000000000001"
    assert request.headers["Content-Type"] == JSON_CT
    assert "Content-MD5" not in request.headers
    # The documented vector for exactly this request.
    assert request.headers["X-Tsign-Open-Ca-Signature"] == (
        "+fQxVXb3xW+wgJjuAD+WI4kYldyyUqh4+wTxxOAIHX0="
    )


def test_auth_signs_body_md5_and_query_order() -> None:
    auth = SignatureAuth("app", "test")
    request = httpx.Request(
        "POST",
        "https://example.invalid/v3/sign-flow/create-by-file?c=1&z=3&m=2&arr=99&arr=88",
        content=b"{}",
        headers={"Accept": "*/*", "Content-Type": "application/json"},
    )
    signed = _signed(auth, request)
    assert signed.headers["Content-MD5"] == "mZFLkyvTelC5g8XnyQrpOw=="
    assert string_to_sign_for(signed).endswith("/v3/sign-flow/create-by-file?arr=99&c=1&m=2&z=3")


def test_auth_repr_hides_secret() -> None:
    assert "test-app-secret" not in repr(SignatureAuth("app", "test-app-secret"))
