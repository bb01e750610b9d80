"""Modals, Home tabs, triggers and workflow step executions: the playground's views side.

Slack's rules, as a person would hit them: a trigger_id opens one view within 3 s of the
click that made it; a view update that names a stale `hash` is refused (`hash_conflict`); a
workflow step's completion must come with that execution's own token (`xwfp-…`), which stops
working once the step has finished.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

#: A trigger_id is good for 3 seconds, and for one view.
TRIGGER_LIFETIME_SECONDS = 3.0


class SurfaceError(Exception):
    """A refusal Slack answers as `{"ok": false, "error": code}`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(slots=True)
class View:
    id: str
    type: str
    user_id: str
    hash: str
    #: The view as the bot last sent it (blocks, title, callback_id, private_metadata...).
    body: dict[str, Any]
    #: For a modal: still on screen (False once closed by a submission or Close).
    open: bool = True
    #: Inline errors from the last submission's ack, by block_id.
    errors: dict[str, str] = field(default_factory=dict)
    updates: int = 0

    @property
    def callback_id(self) -> str:
        return str(self.body.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.body.get("private_metadata") or "")

    def wire(self, team_id: str) -> dict[str, Any]:
        """The view as Slack puts it in answers and payloads (ids, hash, state added)."""
        return {
            **copy.deepcopy(self.body),
            "id": self.id,
            "team_id": team_id,
            "hash": self.hash,
            "type": self.type,
        }


@dataclass(slots=True)
class Execution:
    """One run of a workflow step (a `function_executed` event the playground sent)."""

    id: str
    callback_id: str
    inputs: dict[str, Any]
    token: str
    state: Literal["running", "completed", "failed"] = "running"
    outputs: dict[str, Any] | None = None
    error: str | None = None
    #: Every token a completion call came with, in order (the check is that it is `token`).
    tokens_used: list[str] = field(default_factory=list)


class Surfaces:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._triggers: dict[str, tuple[str, float]] = {}
        self._views: dict[str, View] = {}
        self._homes: dict[str, str] = {}
        self._executions: dict[str, Execution] = {}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ triggers

    def new_trigger(self, user_id: str) -> str:
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger] = (user_id, time.monotonic())
        return trigger

    def _take_trigger(self, trigger_id: str) -> str:
        found = self._triggers.pop(trigger_id, None)
        if found is None:
            raise SurfaceError("invalid_trigger_id")
        user_id, issued = found
        if time.monotonic() - issued > TRIGGER_LIFETIME_SECONDS:
            raise SurfaceError("expired_trigger_id")
        return user_id

    # ------------------------------------------------------------------ views

    def open_modal(self, trigger_id: str, body: dict[str, Any]) -> View:
        with self._changed:
            user_id = self._take_trigger(trigger_id)
            view = View(self._new_id("V"), "modal", user_id, self._new_hash(), dict(body))
            self._views[view.id] = view
            self._changed.notify_all()
            return _copy(view)

    def update(self, view_id: str, body: dict[str, Any], hash: str | None) -> View:
        with self._changed:
            view = self._views.get(view_id)
            if view is None or not view.open:
                raise SurfaceError("not_found")
            if hash is not None and hash != view.hash:
                raise SurfaceError("hash_conflict")
            if body.get("type") not in (None, view.type):
                raise SurfaceError("invalid_arguments")
            view.body, view.hash, view.errors = dict(body), self._new_hash(), {}
            view.updates += 1
            self._changed.notify_all()
            return _copy(view)

    def publish_home(self, user_id: str, body: dict[str, Any], hash: str | None) -> View:
        with self._changed:
            current = self._views.get(self._homes.get(user_id, ""))
            if current is not None and hash is not None and hash != current.hash:
                raise SurfaceError("hash_conflict")
            if current is None:
                current = View(self._new_id("VH"), "home", user_id, self._new_hash(), dict(body))
                self._views[current.id] = current
                self._homes[user_id] = current.id
            else:
                current.body, current.hash = dict(body), self._new_hash()
                current.updates += 1
            self._changed.notify_all()
            return _copy(current)

    def submitted(
        self, view_id: str, ack: dict[str, Any] | None, *, updates_before: int | None = None
    ) -> View | None:
        """Apply a view_submission's ack: update, errors, or (anything else) close.

        Slack applies the ack when the answer arrives, before any views.update the bot sends
        after it; here the ack is applied once the whole answer is read, so a views.update that
        already came in (`updates` moved past `updates_before`) is the newer view and stays."""
        with self._changed:
            view = self._views.get(view_id)
            if view is None:
                return None
            action = (ack or {}).get("response_action")
            overtaken = updates_before is not None and view.updates > updates_before
            if action == "update" and overtaken:
                pass
            elif action == "update" and isinstance(ack, dict) and isinstance(ack.get("view"), dict):
                view.body, view.hash, view.errors = dict(ack["view"]), self._new_hash(), {}
                view.updates += 1
            elif (
                action == "errors" and isinstance(ack, dict) and isinstance(ack.get("errors"), dict)
            ):
                view.errors = {str(k): str(v) for k, v in ack["errors"].items()}
            else:
                view.open = False
            self._changed.notify_all()
            return _copy(view)

    def close(self, view_id: str) -> None:
        with self._changed:
            view = self._views.get(view_id)
            if view is not None:
                view.open = False
                self._changed.notify_all()

    def view(self, view_id: str) -> View | None:
        with self._lock:
            found = self._views.get(view_id)
            return None if found is None else _copy(found)

    def home_of(self, user_id: str) -> View | None:
        with self._lock:
            found = self._views.get(self._homes.get(user_id, ""))
            return None if found is None else _copy(found)

    def open_modals(self, user_id: str | None = None) -> list[View]:
        with self._lock:
            return [
                _copy(v)
                for v in self._views.values()
                if v.type == "modal" and v.open and (user_id is None or v.user_id == user_id)
            ]

    def wait(self, predicate: Any, timeout: float = 5.0) -> Any:
        """Wait until `predicate(self)` is truthy; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            with self._changed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"surfaces: {predicate!r} still false after {timeout} s")
                self._changed.wait(min(remaining, 0.1))

    # ------------------------------------------------------------------ workflow steps

    def start_execution(self, callback_id: str, inputs: dict[str, Any]) -> Execution:
        with self._lock:
            execution = Execution(
                id=self._new_id("Fx"),
                callback_id=callback_id,
                inputs=dict(inputs),
                token=f"xwfp-{secrets.token_hex(12)}",
            )
            self._executions[execution.id] = execution
            return replace(execution)

    def accepts_token(self, token: str) -> bool:
        """A running execution's token is good for the Web API until its step finishes."""
        with self._lock:
            return any(e.token == token and e.state == "running" for e in self._executions.values())

    def finish(
        self,
        execution_id: str,
        token: str,
        *,
        outputs: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Execution:
        with self._changed:
            execution = self._executions.get(execution_id)
            if execution is None:
                raise SurfaceError("function_execution_not_found")
            execution.tokens_used.append(token)
            # Only the execution's own just-in-time token may finish it.
            if token != execution.token:
                raise SurfaceError("invalid_auth")
            if execution.state != "running":
                raise SurfaceError("function_execution_already_completed")
            if error is not None:
                execution.state, execution.error = "failed", error
            else:
                execution.state, execution.outputs = "completed", dict(outputs or {})
            self._changed.notify_all()
            return replace(execution)

    def executions(self) -> list[Execution]:
        """Every step run, oldest first."""
        with self._lock:
            return [replace(e) for e in self._executions.values()]

    def execution(self, execution_id: str) -> Execution | None:
        with self._lock:
            found = self._executions.get(execution_id)
            return None if found is None else replace(found)

    def reset(self) -> None:
        with self._changed:
            self._triggers.clear()
            self._views.clear()
            self._homes.clear()
            self._executions.clear()
            self._changed.notify_all()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08d}"

    @staticmethod
    def _new_hash() -> str:
        return f"{time.time():.6f}.{secrets.token_hex(4)}"


def _copy(view: View) -> View:
    return replace(view, body=copy.deepcopy(view.body), errors=dict(view.errors))
