"""The words table: every known value has an emoji, Chinese and English; the rest stay raw."""

from __future__ import annotations

import re

import pytest

from bot.cards.labels import (
    UNKNOWN_EMOJI,
    Label,
    flow_status_label,
    sub_flow_status_label,
    sub_flow_type_label,
    subject_label,
)
from bot.esign.models import FlowStatus, ObjectType, SubFlowStatus, SubFlowType

SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
HAN = re.compile(r"[\u4e00-\u9fff]")

# The Chinese labels of e签宝's own outline reference page.
DOC_SUB_FLOW_TYPES_ZH = {
    "ORGANIZATION_INFO_AUTH": "企业信息比对",
    "ORGANIZATION_TRANSFER_RANDOM_AMOUNT": "企业随机金额打款",
    "ORGANIZATION_ZMXY": "企业支付宝认证",
    "LEGAL_REP_SIGN_AUTHORIZE": "企业法定代表人授权书签署认证",
    "ORGANIZATION_ARTIFICIAL": "企业人工实名",
    "AUTHCODE": "短信验证码校验",
    "INDIVIDUAL_ARTIFICIAL": "个人人工实名",
    "FACEAUTH_ZMXY": "支付宝刷脸认证",
    "FACEAUTH_TECENT_CLOUD": "腾讯云刷脸认证",
    "ORGANIZATION_LEGAL_REP_FACEAUTH": "企业法定代表人刷脸认证",
    "INDIVIDUAL_BANKCARD_4_FACTOR": "个人银行卡四要素",
    "INDIVIDUAL_TELECOM_3_FACTOR": "个人运营商三要素",
    "FACEAUTH_WE_CHAT_FACE": "微信小程序刷脸",
    "FACEAUTH_ESIGN": "快捷刷脸认证",
}


def assert_complete(label: Label) -> None:
    assert label.known
    assert not label.is_raw
    assert SHORTCODE.fullmatch(label.emoji), label
    assert label.emoji != UNKNOWN_EMOJI
    assert HAN.search(label.zh), label
    assert label.en and label.en.isprintable()
    assert not HAN.search(label.en.replace("e签宝", "")), label
    assert label.words() == f"{label.en} · {label.zh}"


@pytest.mark.parametrize("value", list(FlowStatus))
def test_every_flow_status_has_words(value: FlowStatus) -> None:
    assert_complete(flow_status_label(value))
    # A raw string from e签宝 finds the same words as the enum member.
    assert flow_status_label(str(value)) == flow_status_label(value)


@pytest.mark.parametrize("value", list(SubFlowStatus))
def test_every_sub_flow_status_has_words(value: SubFlowStatus) -> None:
    assert_complete(sub_flow_status_label(value))


@pytest.mark.parametrize("value", list(ObjectType))
def test_every_subject_has_words(value: ObjectType) -> None:
    assert_complete(subject_label(value))


@pytest.mark.parametrize("value", list(SubFlowType))
def test_every_sub_flow_type_has_words(value: SubFlowType) -> None:
    label = sub_flow_type_label(value)
    assert_complete(label)
    if value in DOC_SUB_FLOW_TYPES_ZH:
        assert label.zh == DOC_SUB_FLOW_TYPES_ZH[value]


def test_the_statuses_read_as_the_brief_says() -> None:
    assert flow_status_label(FlowStatus.SUCCESS) == Label(
        emoji=":white_check_mark:", zh="已成功", en="Succeeded", value="SUCCESS"
    )
    assert flow_status_label(FlowStatus.FAIL).emoji == ":x:"
    assert flow_status_label(FlowStatus.ING).emoji == ":hourglass_flowing_sand:"
    assert flow_status_label(FlowStatus.INIT).zh == "已发起"
    assert sub_flow_status_label(SubFlowStatus.TERMINATED).emoji == ":no_entry_sign:"
    assert subject_label(ObjectType.ORGANIZATION).words() == "Organization · 企业"
    assert subject_label(ObjectType.INDIVIDUAL).words() == "Individual · 个人"


@pytest.mark.parametrize(
    ("lookup", "raw"),
    [
        (flow_status_label, "PENDING_REVIEW"),
        (sub_flow_status_label, "PAUSED"),
        (subject_label, "GOVERNMENT"),
        (sub_flow_type_label, "FACEAUTH_FUTURE_X"),
        (sub_flow_type_label, "<!channel> & `x`"),
    ],
)
def test_unknown_values_keep_their_raw_name(lookup: object, raw: str) -> None:
    assert callable(lookup)
    label = lookup(raw)
    assert isinstance(label, Label)
    assert label.emoji == UNKNOWN_EMOJI
    assert not label.known
    assert label.is_raw
    assert label.value == raw
    # Raw, not escaped: escaping belongs to whoever puts it into mrkdwn.
    assert label.words() == raw


def test_a_missing_value_says_so() -> None:
    label = sub_flow_type_label("")
    assert label.emoji == UNKNOWN_EMOJI
    assert not label.known
    assert not label.is_raw
    assert label.words() == "Not given · 未提供"
    assert flow_status_label("   ").words() == "Not given · 未提供"
