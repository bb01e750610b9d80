"""Every key the bot writes, under one prefix and the e签宝 environment and app id, so a
sandbox and a production bot (or two apps) sharing one Redis never read each other's data."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "esign-flow"


@dataclass(frozen=True, slots=True)
class KeySpace:
    env: str
    app_id: str

    @property
    def base(self) -> str:
        return f"{PREFIX}:{self.env}:{self.app_id}"

    def outline(self, flow_id: str) -> str:
        return f"{self.base}:outline:{flow_id}"

    def outline_lock(self, flow_id: str) -> str:
        return f"{self.base}:outline-lock:{flow_id}"

    def outline_failure(self, flow_id: str) -> str:
        return f"{self.base}:outline-failure:{flow_id}"

    @property
    def token(self) -> str:
        return f"{self.base}:token"

    @property
    def token_lock(self) -> str:
        return f"{self.base}:token-lock"

    @property
    def call_budget(self) -> str:
        return f"{self.base}:call-budget"
