"""Every key the bot writes, under one prefix and the e签宝 environment and app id, so a
sandbox and a production bot (or two apps) sharing one Redis never read each other's data.

On a Redis Cluster only the part of a key between its first `{` and the next `}` (its hash
tag) picks the slot, and a script, a transaction or a multi-key command must find all its keys
in one slot. So the keys used together share a tag: one flow's outline, lock and failure note
(`{flow:ID}`), the token and its lock (`{token}`), and every record of the state store
(`{ENV:APP}`, see `with_hash_tag`). A single server ignores the braces.
"""

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
        return f"{self.base}:{{flow:{flow_id}}}:outline"

    def outline_lock(self, flow_id: str) -> str:
        return f"{self.base}:{{flow:{flow_id}}}:outline-lock"

    def outline_failure(self, flow_id: str) -> str:
        return f"{self.base}:{{flow:{flow_id}}}:outline-failure"

    @property
    def token(self) -> str:
        return f"{self.base}:{{token}}:token"

    @property
    def token_lock(self) -> str:
        return f"{self.base}:{{token}}:token-lock"

    @property
    def call_budget(self) -> str:
        """Its script touches this one key (a named budget adds `:NAME`), so no tag needed."""
        return f"{self.base}:call-budget"


def hash_tag(key: str) -> str | None:
    """What a Cluster hashes of `key`: its first `{…}` when not empty, else None (the key)."""
    start = key.find("{")
    end = key.find("}", start + 1)
    if start < 0 or end < 0 or end == start + 1:
        return None
    return key[start + 1 : end]


def with_hash_tag(base: str) -> str:
    """`base` with a hash tag, so every key built on it lands in one Cluster slot.

    `esign-flow:sandbox:APP` becomes `esign-flow:{sandbox:APP}`; a base with a tag already is
    kept as it is.
    """
    if hash_tag(base) is not None:
        return base
    head, colon, rest = base.partition(":")
    if head == PREFIX and colon and rest:
        return f"{PREFIX}:{{{rest}}}"
    return f"{{{base}}}"
