"""The outline card's fixed titles ("Status", "Sub-flows", …), in English, 中文 or both."""

from __future__ import annotations

from typing import Final

from bot.language import Language, pick

#: (English, 中文): shown both, or in the reader's language.
_TITLES: Final[dict[str, tuple[str, str]]] = {
    "subject": ("Subject", "主体"),
    "status": ("Status", "状态"),
    "context": ("Context id", "上下文"),
    "created": ("Created", "创建"),
    "changed": ("Last changed", "更新"),
    "fail_reason": ("Fail reason", "失败原因"),
    "sub_flows": ("Sub-flows", "子流程"),
    "related": ("Agent's verification", "经办人认证"),
}


def title(key: str, language: Language) -> str:
    en, zh = _TITLES[key]
    return pick(en, zh, language)
