"""Which half of the bot's "English · 中文" words a person reads: both (the default), or one."""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["zh", "en", "both"]
#: In the order the Home tab offers them; the first is the default.
LANGUAGES: Final[tuple[Language, ...]] = ("both", "zh", "en")


def as_language(value: object) -> Language | None:
    """A stored or submitted value as a Language, or None when it is not one."""
    for known in LANGUAGES:
        if value == known:
            return known
    return None


def pick(en: str, zh: str, language: Language, separator: str = " ") -> str:
    """`en`, `zh`, or both joined (English first, as every bilingual label on a card)."""
    if language == "en":
        return en
    if language == "zh":
        return zh
    return f"{en}{separator}{zh}"


def language_of_locale(locale: str | None) -> Language:
    """The language for someone who never chose one, from their Slack locale ("zh-CN",
    "zh-TW", "en-US", …): 中文 for any Chinese locale, both for the rest (and for no locale),
    since the bot only speaks English and 中文 and both still reads for an English reader."""
    if locale is not None and locale.lower().replace("_", "-").split("-")[0] == "zh":
        return "zh"
    return "both"
