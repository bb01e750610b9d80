"""How the bot retries its calls to Slack: the Web API client and response_url posts agree."""

from __future__ import annotations

from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler


def slack_retry_handlers(max_retries: int = 2) -> list[RetryHandler]:
    """Connection errors, 429 (honouring Retry-After) and 500/503 get a couple more tries."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]
