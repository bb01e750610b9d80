"""Which flow a link points to: only links built exactly from a template, with an id that could
be a flow id; templates that cannot work are refused in one line."""

from __future__ import annotations

import pytest

from bot.flows.ids import parse_auto_request
from bot.flows.links import BadLinkTemplate, FlowLinks, check_template

FLOW = "803719636976683872"
CONSOLE = "https://admin.example.com/esign/flows/{flow_id}"
TRACKER = "https://tracker.example.com/view?flow={flow_id}&tab=1"


def test_links_made_from_a_template_name_their_flow() -> None:
    links = FlowLinks([CONSOLE, TRACKER])
    assert links.flow_id(f"https://admin.example.com/esign/flows/{FLOW}") == FLOW
    assert links.flow_id(f"https://admin.example.com/esign/flows/{FLOW}?tab=sub#top") == FLOW
    assert links.flow_id(f"https://tracker.example.com/view?flow={FLOW}&tab=1") == FLOW
    assert links.domains == ("admin.example.com", "tracker.example.com")


@pytest.mark.parametrize(
    "url",
    [
        f"https://admin.example.com/esign/flows/{FLOW}/edit",
        f"http://admin.example.com/esign/flows/{FLOW}",
        f"https://admin.example.com.evil.test/esign/flows/{FLOW}",
        f"https://evil.test/?u=https://admin.example.com/esign/flows/{FLOW}",
        "https://admin.example.com/esign/flows/..%2F..%2Fetc",
        "https://admin.example.com/esign/flows/８０３７１９６３６９７６６８３８７２",
        "https://admin.example.com/esign/flows/" + "9" * 65,
        "https://admin.example.com/esign/flows/",
        None,
        "https://admin.example.com/esign/flows/1" + "0" * 3000,
    ],
)
def test_anything_else_names_no_flow(url: object) -> None:
    assert FlowLinks([CONSOLE]).flow_id(url) is None


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("https://admin.example.com/flows", "{flow_id} once"),
        ("https://a.example.com/{flow_id}/{flow_id}", "{flow_id} once"),
        ("ftp://a.example.com/{flow_id}", "http(s) URL"),
        ("javascript:alert(1)//{flow_id}", "http(s) URL"),
        ("https:///{flow_id}", "http(s) URL"),
        ("https://a.example.com/ {flow_id}", "spaces"),
    ],
)
def test_a_template_that_cannot_work_is_refused(template: str, why: str) -> None:
    with pytest.raises(BadLinkTemplate, match=why.replace("(", r"\(").replace(")", r"\)")):
        check_template(template)


def test_no_templates_unfurl_nothing() -> None:
    assert FlowLinks().flow_id(f"https://admin.example.com/esign/flows/{FLOW}") is None


def test_auto_requests() -> None:
    assert parse_auto_request("auto") == (True, None)
    assert parse_auto_request(" AUTO  on ") == (True, "on")
    assert parse_auto_request("auto off") == (True, "off")
    assert parse_auto_request("auto maybe") == (True, None)
    assert parse_auto_request(FLOW) == (False, None)
    assert parse_auto_request("automatic") == (False, None)
    assert parse_auto_request(None) == (False, None)
