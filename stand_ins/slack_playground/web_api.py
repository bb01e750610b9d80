"""The Slack Web API methods the bot calls, answered the way slack.com answers them.

API-level errors come back as HTTP 200 with `{"ok": false, "error": ...}`, as Slack does;
only injected faults (rate limits, outages) use other HTTP statuses. Both JSON and
form-encoded bodies are accepted: slack_sdk sends chat.postMessage/update/postEphemeral as JSON
and chat.delete/auth.test as a form.

Every method takes the bot token, except `apps.connections.open` (Socket Mode), which takes only
the app-level token, and only in the Authorization header, as Slack documents.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from .block_kit import (
    MAX_MESSAGE_TEXT,
    MAX_PRIVATE_METADATA,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
    block_errors,
    with_block_ids,
)
from .http_io import Request, Response, fault_response, json_response
from .surfaces import SurfaceError
from .workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    Channel,
    Fault,
    Message,
    RecordedCall,
    Workspace,
)

Params = dict[str, Any]
Answer = dict[str, Any]


class ApiError(Exception):
    """An API-level refusal: answered as HTTP 200 `{"ok": false, "error": code}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


class SocketModeEndpoint(Protocol):
    """What apps.connections.open needs from the Socket Mode server (socket_mode.py)."""

    def accepts_app_token(self, token: str) -> bool: ...

    def open_connection_url(self) -> str: ...


APPS_CONNECTIONS_OPEN = "apps.connections.open"


class WebApi:
    def __init__(
        self,
        workspace: Workspace,
        *,
        bot_token: str,
        socket_mode: SocketModeEndpoint | None = None,
    ) -> None:
        self._workspace = workspace
        self._bot_token = bot_token
        self._socket_mode = socket_mode
        self._methods: dict[str, Callable[[Params], Answer]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.getPermalink": self._permalink,
            "chat.unfurl": self._unfurl,
            "conversations.open": self._open_dm,
            "usergroups.users.list": self._usergroup_members,
            "users.info": self._user_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            APPS_CONNECTIONS_OPEN: self._open_connection,
        }
        # These need the token itself: a step is finished with its execution's own token.
        self._token_methods: dict[str, Callable[[Params, str], Answer]] = {
            "functions.completeSuccess": self._complete_success,
            "functions.completeError": self._complete_error,
        }

    def handle(self, method: str, request: Request) -> Response:
        params, parse_error = _read_params(request)
        token = _bearer_token(request) or str(params.pop("token", "") or "")
        payload = dict(params)

        fault = self._workspace.take_fault(method)
        if fault is not None:
            response = _fault_response(fault)
            self._record(method, payload, response.status, _decode(response.body))
            return response

        try:
            if method == APPS_CONNECTIONS_OPEN:
                self._check_app_token(request)
            elif not token:
                raise ApiError("not_authed")
            elif not (
                hmac.compare_digest(token.encode(), self._bot_token.encode())
                or self._workspace.surfaces.accepts_token(token)
            ):
                raise ApiError("invalid_auth")
            if parse_error is not None:
                raise ApiError(parse_error)
            token_handler = self._token_methods.get(method)
            handler = self._methods.get(method)
            if token_handler is not None:
                answer = {"ok": True, **token_handler(params, token)}
            elif handler is not None:
                answer = {"ok": True, **handler(params)}
            else:
                raise ApiError("unknown_method")
        except SurfaceError as refusal:
            answer = {"ok": False, "error": refusal.code}
        except ApiError as refusal:
            answer = {"ok": False, "error": refusal.code, **refusal.extra}
        self._record(method, payload, 200, answer)
        return json_response(answer)

    def _record(self, method: str, payload: Params, status: int, response: Any) -> None:
        self._workspace.record_call(
            RecordedCall(
                kind="web_api",
                method=method,
                endpoint=f"/api/{method}",
                payload=payload,
                status=status,
                response=response,
                at=time.time(),
            )
        )

    def _check_app_token(self, request: Request) -> None:
        # Slack refuses the app token as a POST parameter here; the bot token never works.
        app_token = _bearer_token(request)
        if not app_token:
            raise ApiError("not_authed")
        if self._socket_mode is None or not self._socket_mode.accepts_app_token(app_token):
            raise ApiError("invalid_auth")

    # ------------------------------------------------------------------ methods

    def _open_connection(self, params: Params) -> Answer:
        if self._socket_mode is None:  # unreachable: _check_app_token refused already
            raise ApiError("invalid_auth")
        return {"url": self._socket_mode.open_connection_url()}

    def _auth_test(self, params: Params) -> Answer:
        ws = self._workspace
        return {
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": "Playground",
            "user": ws.users[BOT_USER_ID].name,
            "team_id": ws.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _usergroup_members(self, params: Params) -> Answer:
        members = self._workspace.usergroups.get(str(params.get("usergroup") or ""))
        if members is None:
            raise ApiError("no_such_subteam")
        return {"users": list(members)}

    def _user_info(self, params: Params) -> Answer:
        user_id = str(params.get("user") or "")
        user = self._workspace.users.get(user_id)
        if user is None:
            raise ApiError("user_not_found")
        found: dict[str, Any] = {
            "id": user.id,
            "team_id": self._workspace.team_id,
            "name": user.name,
            "real_name": user.real_name,
            "is_bot": user.id == BOT_USER_ID,
            "tz": user.tz,
        }
        # As Slack: the locale only when asked for (the form sends "true", JSON true).
        if str(params.get("include_locale")).lower() in ("true", "1"):
            found["locale"] = self._workspace.locale_of(user_id)
        return {"user": found}

    def _post_message(self, params: Params) -> Answer:
        channel = self._postable_channel(params)
        text, blocks = _content(params, required=True)
        message = self._workspace.add_message(
            channel_id=channel.id,
            text=text,
            blocks=blocks,
            user_id=BOT_USER_ID,
            bot=True,
            thread_ts=_optional_str(params.get("thread_ts")),
        )
        return {
            "channel": channel.id,
            "ts": message.ts,
            "message": wire_message(message, self._workspace.team_id),
        }

    def _permalink(self, params: Params) -> Answer:
        channel = self._channel(params)
        ts = str(params.get("message_ts") or "")
        if self._workspace.get_message(channel.id, ts) is None:
            raise ApiError("message_not_found")
        domain = self._workspace.team_domain
        return {
            "channel": channel.id,
            "permalink": f"https://{domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}",
        }

    def _open_dm(self, params: Params) -> Answer:
        users = str(params.get("users") or "")
        if not users or "," in users:
            # Group DMs are not what the bot opens; one person at a time.
            raise ApiError("not_enough_users" if not users else "too_many_users")
        channel = self._workspace.open_bot_dm(users)
        if channel is None:
            raise ApiError("user_not_found")
        return {"channel": {"id": channel.id}}

    def _post_ephemeral(self, params: Params) -> Answer:
        channel = self._postable_channel(params)
        user = _optional_str(params.get("user"))
        if user is None or user not in self._workspace.users:
            raise ApiError("user_not_in_channel")
        text, blocks = _content(params, required=True)
        message = self._workspace.add_message(
            channel_id=channel.id,
            text=text,
            blocks=blocks,
            user_id=BOT_USER_ID,
            bot=True,
            thread_ts=_optional_str(params.get("thread_ts")),
            ephemeral_to=user,
        )
        return {"message_ts": message.ts}

    def _update(self, params: Params) -> Answer:
        channel = self._channel(params)
        original = self._own_message(channel, params, refusal="cant_update_message")
        text, blocks = _content(params, required=False)
        if "blocks" not in params:
            blocks = original.blocks  # Slack keeps the blocks when chat.update omits them.
        if "text" not in params:
            text = original.text
        updated = self._workspace.replace_message(channel.id, original.ts, text=text, blocks=blocks)
        if updated is None:
            raise ApiError("message_not_found")
        return {
            "channel": channel.id,
            "ts": updated.ts,
            "text": updated.text,
            "message": wire_message(updated, self._workspace.team_id),
        }

    def _delete(self, params: Params) -> Answer:
        channel = self._channel(params)
        original = self._own_message(channel, params, refusal="cant_delete_message")
        if not self._workspace.delete_message(channel.id, original.ts):
            raise ApiError("message_not_found")
        return {"channel": channel.id, "ts": original.ts}

    def _unfurl(self, params: Params) -> Answer:
        unfurls = _json_field(params.get("unfurls"), default=None)
        if not isinstance(unfurls, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("blocks", []), list) for v in unfurls.values()
        ):
            raise ApiError("invalid_unfurls")
        if any(block_errors(v.get("blocks", [])) for v in unfurls.values()):
            raise ApiError("invalid_unfurls")
        unfurl_id, source = (
            _optional_str(params.get("unfurl_id")),
            _optional_str(params.get("source")),
        )
        channel, ts = _optional_str(params.get("channel")), _optional_str(params.get("ts"))
        if unfurl_id is not None and source in ("composer", "conversations_history"):
            found = self._workspace.add_unfurls(unfurls, unfurl_id=unfurl_id)
        elif channel is not None and ts is not None:
            found = self._workspace.add_unfurls(unfurls, channel_id=channel, ts=ts)
        else:
            raise ApiError("invalid_arguments")
        if not found:
            raise ApiError("cannot_unfurl_message")
        return {}

    def _views_open(self, params: Params) -> Answer:
        trigger_id = _optional_str(params.get("trigger_id"))
        if trigger_id is None:
            raise ApiError("invalid_arguments")
        body = _view_body(params, "modal")
        view = self._workspace.surfaces.open_modal(trigger_id, body)
        self._workspace.touch()
        return {"view": view.wire(self._workspace.team_id)}

    def _views_update(self, params: Params) -> Answer:
        view_id = _optional_str(params.get("view_id"))
        if view_id is None:
            raise ApiError("invalid_arguments")
        body = _view_body(params, None)
        view = self._workspace.surfaces.update(view_id, body, _optional_str(params.get("hash")))
        self._workspace.touch()
        return {"view": view.wire(self._workspace.team_id)}

    def _views_publish(self, params: Params) -> Answer:
        user_id = _optional_str(params.get("user_id"))
        if user_id is None or user_id not in self._workspace.users:
            raise ApiError("user_not_found")
        body = _view_body(params, "home")
        view = self._workspace.surfaces.publish_home(
            user_id, body, _optional_str(params.get("hash"))
        )
        self._workspace.touch()
        return {"view": view.wire(self._workspace.team_id)}

    def _complete_success(self, params: Params, token: str) -> Answer:
        outputs = _json_field(params.get("outputs"), default={})
        if not isinstance(outputs, dict):
            raise ApiError("invalid_arguments")
        self._workspace.surfaces.finish(_execution_id(params), token, outputs=outputs)
        self._workspace.touch()
        return {}

    def _complete_error(self, params: Params, token: str) -> Answer:
        error = _optional_str(params.get("error"))
        if error is None:
            raise ApiError("invalid_arguments")
        self._workspace.surfaces.finish(_execution_id(params), token, error=error)
        self._workspace.touch()
        return {}

    # ------------------------------------------------------------------ checks

    def _channel(self, params: Params) -> Channel:
        channel = self._workspace.find_channel(str(params.get("channel") or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def _postable_channel(self, params: Params) -> Channel:
        channel = self._channel(params)
        if channel.bot_post_error is not None:
            raise ApiError(channel.bot_post_error)
        return channel

    def _own_message(self, channel: Channel, params: Params, *, refusal: str) -> Message:
        ts = _optional_str(params.get("ts"))
        message = None if ts is None else self._workspace.get_message(channel.id, ts)
        # Ephemeral messages are invisible to the Web API: only their response_url reaches them.
        if message is None or message.deleted or message.is_ephemeral:
            raise ApiError("message_not_found")
        if message.user_id != BOT_USER_ID:
            raise ApiError(refusal)
        return message


def wire_message(message: Message, team_id: str) -> dict[str, Any]:
    """A message as Slack puts it in API answers and interaction payloads."""
    wire: dict[str, Any] = {
        "type": "message",
        "text": message.text,
        "user": message.user_id,
        "ts": message.ts,
        "team": team_id,
    }
    if message.bot:
        wire.update(bot_id=BOT_ID, app_id=APP_ID)
    if message.blocks:
        wire["blocks"] = message.blocks
    if message.thread_ts is not None:
        wire["thread_ts"] = message.thread_ts
    if message.edited:
        wire["edited"] = {"user": message.user_id, "ts": message.ts}
    return wire


def parse_blocks(raw: Any) -> list[dict[str, Any]]:
    """Blocks arrive as a list (JSON bodies) or as a JSON string (form bodies)."""
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ApiError("invalid_blocks_format") from None
    if not isinstance(raw, list):
        raise ApiError("invalid_blocks_format")
    errors = block_errors(raw)
    if errors:
        raise ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
    return with_block_ids(raw)


def _view_body(params: Params, kind: str | None) -> dict[str, Any]:
    """The `view` argument checked as Slack checks it (type, blocks, title, metadata)."""
    view = _json_field(params.get("view"), default=None)
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments")
    if kind is not None and view.get("type") != kind:
        raise ApiError("invalid_arguments")
    errors = block_errors(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS)
    for part in ("title", "submit", "close"):
        text = (view.get(part) or {}).get("text") if isinstance(view.get(part), dict) else None
        if text is not None and len(str(text)) > MAX_VIEW_TITLE:
            errors.append(f"[ERROR] must be less than {MAX_VIEW_TITLE + 1} characters [{part}]")
    if len(str(view.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
        errors.append("[ERROR] private_metadata is too long")
    if errors:
        raise ApiError("invalid_arguments", response_metadata={"messages": errors})
    return {**view, "blocks": with_block_ids(view.get("blocks") or [])}


def _json_field(raw: Any, *, default: Any) -> Any:
    """Objects arrive as JSON (JSON bodies) or as a JSON string (form bodies)."""
    if raw is None:
        return default
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError("invalid_arguments") from None
    return raw


def _execution_id(params: Params) -> str:
    execution_id = _optional_str(params.get("function_execution_id"))
    if execution_id is None:
        raise ApiError("invalid_arguments")
    return execution_id


def _content(params: Params, *, required: bool) -> tuple[str, list[dict[str, Any]]]:
    text = params.get("text")
    text = "" if text is None else str(text)
    blocks = parse_blocks(params.get("blocks"))
    if required and not text and not blocks and not params.get("attachments"):
        raise ApiError("no_text")
    if len(text) > MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks


def _read_params(request: Request) -> tuple[Params, str | None]:
    params: Params = dict(request.query)
    if not request.body:
        return params, None
    media_type = request.media_type
    if media_type == "application/json":
        body = request.json_object()
        if body is None:
            return params, "invalid_json"
        params.update(body)
    elif media_type == "application/x-www-form-urlencoded":
        params.update(request.form())
    else:
        return params, "invalid_form_data"
    return params, None


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _fault_response(fault: Fault) -> Response:
    error = "ratelimited" if fault.status == 429 else "service_unavailable"
    default = json.dumps({"ok": False, "error": error})
    return fault_response(fault.status, fault.retry_after, fault.body, default=default)


def _decode(body: bytes | str) -> Any:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        return json.loads(text)
    except ValueError:
        return text
