"""Which flow ids a person asked for: from a slash command's text or a message's text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id

HELP_WORDS = frozenset({"", "help", "-h", "--help", "?", "帮助"})
#: `/esign-flow watch <id>`, `unwatch <id>`, `watching`, `digest [HH:MM|off]`: the first word
#: picks what to do.
VERBS = frozenset({"watch", "unwatch", "watching", "digest"})
_SEPARATORS = re.compile(r"[\s,，、;；]+")
#: Longest piece of a rejected token echoed back to the user (escaped by the renderer).
_ECHO_LIMIT = 40
#: A flow id in free text: a long run of ASCII digits that is not part of a bigger token
#: (UUIDs, phone numbers with +, decimals, identifiers). ASCII classes on purpose: `\w` would
#: also treat Chinese characters around the number as part of it.
_FLOW_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z_\-.+])([0-9]{16,24})(?![0-9A-Za-z_\-]|\.[0-9])")


@dataclass(frozen=True, slots=True)
class FlowRequest:
    flow_ids: list[str] = field(default_factory=list)
    #: Tokens that are not flow ids, shortened for echoing back.
    rejected: list[str] = field(default_factory=list)
    #: Valid ids left out because of the per-request cap.
    over_cap: int = 0
    wants_help: bool = False
    #: "watch", "unwatch", "watching" or "digest"; None for a plain lookup.
    verb: str | None = None
    #: What follows a verb that takes no flow ids (`digest 09:30` → "09:30").
    argument: str = ""


def parse_command_text(text: object, *, cap: int) -> FlowRequest:
    if not isinstance(text, str) or text.strip().lower() in HELP_WORDS:
        return FlowRequest(wants_help=True)
    first, *rest_of = re.split(r"\s+", text.strip(), maxsplit=1)
    rest = rest_of[0] if rest_of else ""
    if first.lower() in VERBS:
        verb = first.lower()
        if verb == "watching":
            return FlowRequest(verb=verb)
        if verb == "digest":
            return FlowRequest(verb=verb, argument=rest.strip())
        found = _flow_ids(rest, cap=cap)
        return FlowRequest(found.flow_ids, found.rejected, found.over_cap, verb=verb)
    return _flow_ids(text, cap=cap)


def _flow_ids(text: str, *, cap: int) -> FlowRequest:
    ids: list[str] = []
    rejected: list[str] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        try:
            flow_id = validate_flow_id(token)
        except InvalidFlowId:
            if len(rejected) < 5:
                rejected.append(_shorten(token))
            continue
        if flow_id not in ids:
            ids.append(flow_id)
    return FlowRequest(flow_ids=ids[:cap], rejected=rejected, over_cap=max(0, len(ids) - cap))


def find_flow_ids(text: object, *, cap: int) -> FlowRequest:
    """Flow ids mentioned in a message, in order of first mention."""
    if not isinstance(text, str):
        return FlowRequest()
    # A dict keeps the order of first mention and checks a repeat in O(1): a crafted message
    # of thousands of ids costs one pass, not one list scan per id.
    found = dict.fromkeys(match.group(1) for match in _FLOW_ID_IN_TEXT.finditer(text))
    ids = list(found)
    return FlowRequest(flow_ids=ids[:cap], over_cap=max(0, len(ids) - cap))


def _shorten(token: str) -> str:
    printable = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in token)
    return printable if len(printable) <= _ECHO_LIMIT else printable[: _ECHO_LIMIT - 1] + "…"


#: `/esign-flow auto`, `auto on`, `auto off`: a channel's automatic answers.
AUTO_VERB = "auto"


def parse_auto_request(text: object) -> tuple[bool, str | None]:
    """(is it `auto …`, "on" / "off" / None for "say whether it is on")."""
    if not isinstance(text, str):
        return False, None
    words = text.strip().lower().split()
    if not words or words[0] != AUTO_VERB:
        return False, None
    switch = words[1] if len(words) == 2 and words[1] in ("on", "off") else None
    return True, switch
