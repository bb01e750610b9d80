"""What the bot sends goes through httpx or slack_sdk's own clients: no third HTTP stack in bot/.

Read from the source with ast, so a stack imported inside a function counts as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"

#: Modules that would be another HTTP client beside httpx and slack_sdk's Web API client.
OTHER_STACKS = (
    "http.client",
    "urllib.request",
    "urllib3",
    "requests",
    "aiohttp",
    "httplib2",
    "pycurl",
    "tornado.httpclient",
    # response_url posts go through httpx (bot/slack/response_urls.py), not a second client.
    "slack_sdk.webhook",
)
#: slack_sdk's WebClient speaks urllib and lets http.client's errors through: catching them
#: names the module without sending anything over it.
ERRORS_ONLY = {"http.client": {"HTTPException"}}


def _is_stack(module: str) -> str | None:
    for stack in OTHER_STACKS:
        if module == stack or module.startswith(stack + "."):
            return stack
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def other_stacks_used(source: str) -> list[str]:
    """Each use of another HTTP stack in `source`, as `module` or `module.name`."""
    tree = ast.parse(source)
    found: list[str] = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                stack = _is_stack(alias.name)
                if stack is None:
                    continue
                if alias.asname is not None or stack not in ERRORS_ONLY:
                    found.append(alias.name)
                else:
                    imported.add(stack)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            stack = _is_stack(node.module)
            if stack is None:
                # `from urllib import request`, `from http import client`
                for alias in node.names:
                    stack = _is_stack(f"{node.module}.{alias.name}")
                    if stack is not None:
                        found.append(stack)
                continue
            allowed = ERRORS_ONLY.get(stack, set())
            found += [f"{node.module}.{a.name}" for a in node.names if a.name not in allowed]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            for stack in imported:
                member = name.removeprefix(stack + ".") if name else None
                if member not in (None, name) and member not in ERRORS_ONLY[stack]:
                    found.append(f"{stack}.{member}")
    return found


def test_bot_sends_through_httpx_or_slack_sdk_only() -> None:
    offenders = {
        str(path.relative_to(BOT.parent)): used
        for path in sorted(BOT.rglob("*.py"))
        if (used := other_stacks_used(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_sees_each_way_of_reaching_another_stack() -> None:
    assert other_stacks_used("import http.client\nhttp.client.HTTPConnection('x')") == [
        "http.client.HTTPConnection"
    ]
    assert other_stacks_used("import http.client as h") == ["http.client"]
    assert other_stacks_used("from http.client import HTTPSConnection") == [
        "http.client.HTTPSConnection"
    ]
    assert other_stacks_used("from http import client") == ["http.client"]
    assert other_stacks_used("def f():\n    import urllib.request") == ["urllib.request"]
    assert other_stacks_used("from urllib import request") == ["urllib.request"]
    assert other_stacks_used("import requests") == ["requests"]
    assert other_stacks_used("from urllib3.util import Retry") == ["urllib3.util.Retry"]
    assert other_stacks_used("from slack_sdk.webhook import WebhookClient") == [
        "slack_sdk.webhook.WebhookClient"
    ]
    # What stays allowed: the two stacks, URL parsing, and naming http.client's error type.
    assert other_stacks_used("import httpx\nfrom slack_sdk import WebClient") == []
    assert other_stacks_used("from urllib.parse import urlsplit\nfrom http import HTTPStatus") == []
    assert other_stacks_used("import http.client\nexcept_ = http.client.HTTPException") == []
    assert other_stacks_used("from http.client import HTTPException") == []
