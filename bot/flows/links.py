"""Which flow a link points to, by the URL templates of the company's own console or tracker
(`UNFURL_URL_PATTERNS`, e.g. `https://admin.example.com/esign/flows/{flow_id}`).

A template is checked once, at start-up: http(s), one `{flow_id}` placeholder. A link matches
when it is the template with a flow id in the placeholder's place, exactly (a query string or
fragment after it is allowed, so a console's `?tab=…` still unfurls); the id found still passes
`validate_flow_id` before it can reach a request to e签宝.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id

PLACEHOLDER: Final = "{flow_id}"
#: Longest link looked at: a longer one is not a console's flow page.
MAX_LINK_LENGTH: Final = 2_000


class BadLinkTemplate(ValueError):
    """A template that cannot work; the message says why in one line."""


def check_template(template: str) -> str:
    """The template as given, or BadLinkTemplate saying what is wrong with it."""
    if template.count(PLACEHOLDER) != 1:
        raise BadLinkTemplate(f"a template must contain {PLACEHOLDER} once: {template[:100]}")
    parts = urlsplit(template.replace(PLACEHOLDER, "0"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadLinkTemplate(f"a template must be an http(s) URL with a host: {template[:100]}")
    if any(ch.isspace() for ch in template):
        raise BadLinkTemplate(f"a template must not contain spaces: {template[:100]}")
    return template


def check_templates(templates: list[str]) -> list[str]:
    """Every template checked (the setting's validator); BadLinkTemplate names the first bad one."""
    return [check_template(template) for template in templates]


class FlowLinks:
    """The templates a link is matched against; none means no link unfurls."""

    def __init__(self, templates: Iterable[str] = ()) -> None:
        self.templates = tuple(check_template(t) for t in templates)
        self._patterns = tuple(_pattern(t) for t in self.templates)

    def flow_id(self, url: object) -> str | None:
        """The flow a link points to, or None when it matches no template."""
        if not isinstance(url, str) or len(url) > MAX_LINK_LENGTH:
            return None
        for pattern in self._patterns:
            found = pattern.fullmatch(url)
            if found is None:
                continue
            try:
                return validate_flow_id(found.group("flow"))
            except InvalidFlowId:
                continue
        return None

    @property
    def domains(self) -> tuple[str, ...]:
        """The hosts Slack must know (`features.unfurl_domains`)."""
        hosts = (urlsplit(t.replace(PLACEHOLDER, "0")).hostname or "" for t in self.templates)
        return tuple(dict.fromkeys(h for h in hosts if h))


def _pattern(template: str) -> re.Pattern[str]:
    before, after = template.split(PLACEHOLDER)
    return re.compile(
        rf"{re.escape(before)}(?P<flow>[0-9A-Za-z]{{6,64}}){re.escape(after)}(?:[?#]\S*)?"
    )
