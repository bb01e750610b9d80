"""Headless Debian Chromium for the browser tests, started the way this machine allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: The closed network here refuses Chromium's background connections; keep it from trying.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from a `sync_playwright()` driver."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
