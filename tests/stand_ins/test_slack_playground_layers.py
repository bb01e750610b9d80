"""The playground's modules import one way: server.py puts the page and the routes together;
neither knows server.py, and the routes know the page only by what they call on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "stand_ins" / "slack_playground"


def local_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 1:
                found.add(name)
            elif name.startswith("stand_ins.slack_playground."):
                found.add(name.rsplit(".", 1)[1])
    return found


@pytest.mark.parametrize(
    ("module", "must_not_import"),
    [("ui", {"server", "routes"}), ("routes", {"server", "ui", "web_api", "response_urls"})],
)
def test_page_and_routes_do_not_import_the_playground(
    module: str, must_not_import: set[str]
) -> None:
    assert not local_imports(module) & must_not_import


def test_the_playground_puts_them_together() -> None:
    assert {"routes", "ui", "web_api", "response_urls"} <= local_imports("server")
