"""POSTs to a response_url: new ephemeral or channel messages, replace_original, delete_original.

Slack's rules, as the bot relies on them:
- default `response_type` is ephemeral: only the invoking user sees the message;
  `in_channel` makes it a normal message (the bot need not be a member);
- new messages land in the invoking message's thread (or the given `thread_ts`);
- `replace_original` / `delete_original` act on the message the button was on (for a slash
  command or shortcut: the last message posted through the same URL); a replaced ephemeral
  message stays ephemeral;
- a URL serves at most 5 times within 30 minutes; Slack answers "ok" (text), errors as 4xx text.
"""

from __future__ import annotations

import time
from typing import Any

from .http_io import Request, Response, fault_response, text_response
from .web_api import ApiError, parse_blocks
from .workspace import BOT_USER_ID, RecordedCall, ResponseUrlGrant, Workspace


class ResponseUrls:
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def handle(self, token: str, request: Request) -> Response:
        payload = request.json_object()
        response = self._answer(token, request, payload)
        self._workspace.record_call(
            RecordedCall(
                kind="response_url",
                method="response_url",
                endpoint=f"/response/{token}",
                payload=payload if payload is not None else {"_raw": _raw_text(request)},
                status=response.status,
                response=response.body.decode("utf-8", errors="replace"),
                at=time.time(),
            )
        )
        return response

    def _answer(self, token: str, request: Request, payload: dict[str, Any] | None) -> Response:
        if request.method != "POST":
            return text_response("method_not_allowed", 405)
        fault = self._workspace.take_fault("response_url")
        if fault is not None:
            default = "rate_limited" if fault.status == 429 else "service_unavailable"
            return fault_response(fault.status, fault.retry_after, fault.body, default=default)
        if payload is None:
            return text_response("invalid_payload", 400)
        try:
            text = "" if payload.get("text") is None else str(payload["text"])
            blocks = parse_blocks(payload.get("blocks"))
        except ApiError as refusal:
            return text_response(refusal.code, 400)
        deleting = _truthy(payload.get("delete_original"))
        if not deleting and not text and not blocks:
            return text_response("no_text", 400)

        grant, error = self._workspace.use_response_url(token)
        if grant is None:
            return text_response(error or "no_such_url", 404)

        if deleting:
            if grant.original_ts is None or not self._workspace.delete_message(
                grant.channel_id, grant.original_ts
            ):
                return text_response("message_not_found", 404)
            return text_response("ok")
        if _truthy(payload.get("replace_original")) and grant.original_ts is not None:
            replaced = self._workspace.replace_message(
                grant.channel_id, grant.original_ts, text=text, blocks=blocks
            )
            if replaced is None:
                return text_response("message_not_found", 404)
            return text_response("ok")
        self._post_new(grant, payload, text, blocks)
        return text_response("ok")

    def _post_new(
        self,
        grant: ResponseUrlGrant,
        payload: dict[str, Any],
        text: str,
        blocks: list[dict[str, Any]],
    ) -> None:
        in_channel = payload.get("response_type") == "in_channel"
        thread_ts = payload.get("thread_ts") or grant.thread_ts
        message = self._workspace.add_message(
            channel_id=grant.channel_id,
            text=text,
            blocks=blocks,
            user_id=BOT_USER_ID,
            bot=True,
            thread_ts=None if thread_ts is None else str(thread_ts),
            ephemeral_to=None if in_channel else grant.user_id,
            response_url=grant.url,
        )
        self._workspace.remember_original(grant.token, message.ts)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def _raw_text(request: Request) -> str:
    return request.body.decode("utf-8", errors="replace")
