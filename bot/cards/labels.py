"""The one table of emoji and words for e签宝's statuses, subjects and sub-flow types.

This is where every status emoji is chosen (✅ succeeded, ❌ failed, ⏳ in progress, …): each row
pairs a value with its emoji, its 中文 and its English, and every card takes them from here.

Chinese labels follow e签宝's own reference page, so a user can match the card against the
e签宝 console; the English labels are ours. Values e签宝 adds later (or sends by mistake) still get
a Label: their raw name with a neutral emoji, so the card never hides what e签宝 actually said.

Labels are plain words, not mrkdwn: a raw name is kept exactly as received (renderers escape it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

from bot.esign.models import FlowStatus, ObjectType, SubFlowStatus, SubFlowType
from bot.language import Language

#: Emoji for anything the tables below do not know: deliberately neither good nor bad.
UNKNOWN_EMOJI: Final = ":grey_question:"


@dataclass(frozen=True, slots=True)
class Label:
    #: Slack emoji shortcode, e.g. ":white_check_mark:".
    emoji: str
    zh: str
    en: str
    #: The value as e签宝 sent it ("SUCCESS", "FACEAUTH_ZMXY", or anything new).
    value: str
    #: False for values missing from our tables; `zh` and `en` then both hold the raw value.
    known: bool = True

    def words(self, separator: str = " · ") -> str:
        """ "English · 中文" (the one way a card pairs the two), or the single word when they
        are the same (raw names, and words such as "e签宝" that need no translation)."""
        return self.en if self.en == self.zh else f"{self.en}{separator}{self.zh}"

    def words_in(self, language: Language, separator: str = " · ") -> str:
        """The words in one language ("en", "zh"), or paired as `words()` ("both")."""
        if language == "en":
            return self.en
        if language == "zh":
            return self.zh
        return self.words(separator)

    @property
    def is_raw(self) -> bool:
        """True when the words are e签宝's raw name rather than ours (render it verbatim)."""
        return not self.known and bool(self.value)


class _Words(NamedTuple):
    emoji: str
    zh: str
    en: str


# Keyed by str (the enums are StrEnums) because Mapping keys are invariant for type checkers.


FLOW_STATUSES: Final[Mapping[str, _Words]] = {
    # INIT is "started but nothing billed yet": hopeful rather than busy.
    FlowStatus.INIT: _Words(":seedling:", "已发起", "Started"),
    FlowStatus.ING: _Words(":hourglass_flowing_sand:", "进行中", "In progress"),
    FlowStatus.SUCCESS: _Words(":white_check_mark:", "已成功", "Succeeded"),
    FlowStatus.FAIL: _Words(":x:", "已失败", "Failed"),
}

# e签宝 words sub-flow statuses without 已 (成功, not 已成功); we keep its wording.
SUB_FLOW_STATUSES: Final[Mapping[str, _Words]] = {
    SubFlowStatus.ING: _Words(":hourglass_flowing_sand:", "进行中", "In progress"),
    SubFlowStatus.SUCCESS: _Words(":white_check_mark:", "成功", "Succeeded"),
    SubFlowStatus.FAIL: _Words(":x:", "失败", "Failed"),
    SubFlowStatus.TERMINATED: _Words(":no_entry_sign:", "终止", "Terminated"),
}

SUBJECTS: Final[Mapping[str, _Words]] = {
    ObjectType.ORGANIZATION: _Words(":office:", "企业", "Organization"),
    ObjectType.INDIVIDUAL: _Words(":bust_in_silhouette:", "个人", "Individual"),
}

SUB_FLOW_TYPES: Final[Mapping[str, _Words]] = {
    SubFlowType.ORGANIZATION_INFO_AUTH: _Words(
        ":office:", "企业信息比对", "Company information check"
    ),
    SubFlowType.ORGANIZATION_TRANSFER_RANDOM_AMOUNT: _Words(
        ":bank:", "企业随机金额打款", "Company random-amount bank transfer"
    ),
    SubFlowType.ORGANIZATION_ZMXY: _Words(
        ":large_blue_circle:", "企业支付宝认证", "Company Alipay verification"
    ),
    SubFlowType.LEGAL_REP_SIGN_AUTHORIZE: _Words(
        ":writing_hand:", "企业法定代表人授权书签署认证", "Legal representative signs authorization"
    ),
    SubFlowType.ORGANIZATION_ARTIFICIAL: _Words(":eyes:", "企业人工实名", "Company manual review"),
    SubFlowType.AUTHCODE: _Words(":1234:", "短信验证码校验", "SMS code check"),
    SubFlowType.INDIVIDUAL_ARTIFICIAL: _Words(":eyes:", "个人人工实名", "Personal manual review"),
    SubFlowType.FACEAUTH_ZMXY: _Words(":camera:", "支付宝刷脸认证", "Alipay face verification"),
    # The outline page also calls this one 微众刷脸认证; 腾讯云 is the name in its main list.
    SubFlowType.FACEAUTH_TECENT_CLOUD: _Words(
        ":camera:", "腾讯云刷脸认证", "Tencent Cloud face verification"
    ),
    SubFlowType.ORGANIZATION_LEGAL_REP_FACEAUTH: _Words(
        ":camera:", "企业法定代表人刷脸认证", "Legal representative face verification"
    ),
    SubFlowType.INDIVIDUAL_BANKCARD_4_FACTOR: _Words(
        ":credit_card:", "个人银行卡四要素", "Personal bank card 4-factor check"
    ),
    SubFlowType.INDIVIDUAL_TELECOM_3_FACTOR: _Words(
        ":iphone:", "个人运营商三要素", "Personal mobile carrier 3-factor check"
    ),
    SubFlowType.FACEAUTH_WE_CHAT_FACE: _Words(
        ":camera:", "微信小程序刷脸", "WeChat mini-program face verification"
    ),
    SubFlowType.FACEAUTH_ESIGN: _Words(":camera:", "快捷刷脸认证", "e签宝 quick face verification"),
    # Not on the outline page, but named by e签宝's other identity docs.
    SubFlowType.INDIVIDUAL_FACEAUTH: _Words(
        ":camera:", "个人刷脸认证", "Personal face verification"
    ),
}

_MISSING: Final = ("未提供", "Not given")


def _lookup(table: Mapping[str, _Words], value: StrEnum | str) -> Label:
    raw = str(value)
    row = table.get(raw)
    if row is not None:
        emoji, zh, en = row
        return Label(emoji=emoji, zh=zh, en=en, value=raw)
    if not raw.strip():
        zh, en = _MISSING
        return Label(emoji=UNKNOWN_EMOJI, zh=zh, en=en, value="", known=False)
    return Label(emoji=UNKNOWN_EMOJI, zh=raw, en=raw, value=raw, known=False)


def flow_status_label(value: FlowStatus | str) -> Label:
    return _lookup(FLOW_STATUSES, value)


def sub_flow_status_label(value: SubFlowStatus | str) -> Label:
    return _lookup(SUB_FLOW_STATUSES, value)


def subject_label(value: ObjectType | str) -> Label:
    return _lookup(SUBJECTS, value)


def sub_flow_type_label(value: SubFlowType | str) -> Label:
    return _lookup(SUB_FLOW_TYPES, value)
