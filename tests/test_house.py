"""The shape of the house, checked: what a newcomer relies on when reading it from its folders,
and the libraries used through their public APIs only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
LONGEST = 400
LOOSE_AT_MOST = 8
SDKS = ("slack_sdk", "slack_bolt")


def modules(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from sorted(root.rglob("*.py"))


def imported_names(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_bot_has_few_loose_modules_and_a_package_per_role() -> None:
    loose = sorted(p.name for p in BOT.glob("*.py"))
    assert len(loose) <= LOOSE_AT_MOST, loose
    packages = sorted(p.name for p in BOT.iterdir() if (p / "__init__.py").exists())
    assert packages == [
        "app",
        "cards",
        "delivery",
        "esign",
        "flows",
        "slack",
        "state",
        "watch",
    ]


@pytest.mark.parametrize(
    "path", list(modules(BOT, ROOT / "handlers")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_longer_than_it_can_be_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LONGEST, f"{path.relative_to(ROOT)} has {lines} lines"


def test_every_package_says_what_lives_there() -> None:
    for init in sorted(BOT.rglob("__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring and len(docstring) > 30, f"{init.relative_to(ROOT)} has no docstring"


def test_tests_mirror_the_packages() -> None:
    for package in sorted(p for p in BOT.iterdir() if (p / "__init__.py").exists()):
        assert (ROOT / "tests" / package.name).is_dir(), f"no tests/{package.name}/"


@pytest.mark.parametrize(
    "path", list(modules(BOT, ROOT / "handlers")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_slack_libraries_are_used_through_their_public_api_only(path: Path) -> None:
    for name in imported_names(path):
        if not name.startswith(SDKS):
            continue
        parts = name.split(".")
        assert "internals" not in parts, f"{path.name} imports {name}, which Slack marks internal"
        assert not any(p.startswith("_") for p in parts), f"{path.name} imports private {name}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    swaps = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Attribute) and t.attr == "__class__" for t in node.targets)
    ]
    assert not swaps, f"{path.name} swaps an object's class"


def test_test_modules_have_names_of_their_own() -> None:
    # tests/ has no __init__.py files: pytest imports each test module by its file name, so two
    # with one name stop the whole run at collection.
    names: dict[str, Path] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        assert path.name not in names, f"{path} and {names[path.name]} share a name"
        names[path.name] = path
