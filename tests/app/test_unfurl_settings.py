"""UNFURL_URL_PATTERNS: comma-separated templates, each checked at start-up with a one-line
reason naming the setting."""

from __future__ import annotations

import pytest

from bot.app.settings import ConfigError, load_settings


def test_templates_are_read_from_a_comma_separated_value() -> None:
    settings = load_settings(
        unfurl_url_patterns=" https://a.example.com/f/{flow_id} ,https://b.example.com/?id={flow_id}"
    )
    assert settings.unfurl_url_patterns == [
        "https://a.example.com/f/{flow_id}",
        "https://b.example.com/?id={flow_id}",
    ]
    assert load_settings().unfurl_url_patterns == []


@pytest.mark.parametrize(
    "value",
    ["https://a.example.com/f", "ftp://a.example.com/{flow_id}", "https://a/{flow_id}{flow_id}"],
)
def test_a_bad_template_stops_the_bot_with_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(unfurl_url_patterns=value)
    [line] = str(refused.value).splitlines()
    assert line.startswith("Invalid setting UNFURL_URL_PATTERNS: a template must")
