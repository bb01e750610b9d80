"""The `local` extra: what the local stand-ins need beyond the bot's own dependencies.

A production install (`pip install esign-flow-bot`) goes without it, so `esign-bot` with no
Slack settings checks for it before it opens the local playground, and says how to get it.
"""

from __future__ import annotations

from importlib.util import find_spec

#: The modules the `local` extra in pyproject.toml installs, as they are imported.
LOCAL_EXTRA_MODULES = ("websockets",)


def missing_local_modules() -> list[str]:
    """The modules of the `local` extra that cannot be imported here."""
    return [name for name in LOCAL_EXTRA_MODULES if find_spec(name) is None]


def install_hint(missing: list[str]) -> str:
    """One line: why the local playground cannot start, and how to get what it needs."""
    return (
        f"The local playground needs the 'local' extra ({', '.join(missing)} missing): "
        "pip install 'esign-flow-bot[local]' (or run ./scripts/run), or set SLACK_BOT_TOKEN "
        "to run against Slack."
    )
