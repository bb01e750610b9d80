"""Headless Debian Chromium for the browser tests, started the way this machine allows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

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


def open_page(
    browser: Any, url: str, *, width: int = 1400, height: int = 900
) -> tuple[Any, list[str]]:
    """A page at `url` in Shanghai time (so date tokens must be localised), and the list that
    collects its JavaScript errors."""
    context = browser.new_context(
        timezone_id="Asia/Shanghai", locale="en-US", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


@contextmanager
def browsing(url: str) -> Iterator[tuple[Any, list[str]]]:
    """A page at `url` (see open_page) in a fresh headless Chromium, closed afterwards; the
    screenshots taken go to ARTIFACTS."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as driver:
        browser = launch(driver)
        try:
            yield open_page(browser, url)
        finally:
            browser.close()
