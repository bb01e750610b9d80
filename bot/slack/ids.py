"""Every Slack identifier the app answers to, in one place (manifest, handlers and cards agree)."""

import re
from typing import Final

COMMAND: Final = "/esign-flow"
#: Message shortcut: look up the flow ids found in a message and answer in its thread.
SHORTCUT_LOOKUP_IN_MESSAGE: Final = "esign_flow_lookup_message"
ACTION_RECHECK: Final = "esign_flow_recheck"
ACTION_SHARE: Final = "esign_flow_share"
#: Watch a flow until it moves / stop watching it (on cards and on the notices themselves).
ACTION_WATCH: Final = "esign_flow_watch"
ACTION_UNWATCH: Final = "esign_flow_unwatch"
#: Recheck on a daily digest: the fresh card comes privately (the digest itself stays as it is).
ACTION_DIGEST_RECHECK: Final = "esign_flow_digest_recheck"

#: What a Slack team, channel, user or user group id looks like (T…, C…, D…, G…, U…, W…, S…).
SLACK_ID_PATTERN: Final = r"[A-Z0-9]{3,24}"
SLACK_ID: Final = re.compile(SLACK_ID_PATTERN)
#: A Slack user id as payloads carry it; anything else is never echoed into a message.
SLACK_USER_ID: Final = re.compile(rf"(?=[UW]){SLACK_ID_PATTERN}")


def slack_id(value: object) -> str | None:
    """A Slack id from a payload, or None when it does not look like one."""
    return value if isinstance(value, str) and SLACK_ID.fullmatch(value) else None


#: Global shortcut (⚡ menu): opens the "check a flow" modal.
SHORTCUT_CHECK_FLOW: Final = "esign_flow_check_global"
#: The modal the global shortcut opens, and its inputs.
VIEW_CHECK_FLOW: Final = "esign_flow_check_modal"
BLOCK_FLOW_IDS: Final = "esign_flow_ids"
ACTION_FLOW_IDS: Final = "esign_flow_ids_input"
BLOCK_ALSO_POST: Final = "esign_flow_also_post"
ACTION_ALSO_POST: Final = "esign_flow_also_post_select"

#: Home tab controls.
ACTION_HOME_RECHECK: Final = "esign_flow_home_recheck"
ACTION_HOME_CLEAR: Final = "esign_flow_home_clear"
ACTION_HOME_LANGUAGE: Final = "esign_flow_home_language"
ACTION_HOME_OPEN_MODAL: Final = "esign_flow_home_open_modal"

#: Workflow Builder custom step (manifest `functions.<id>`), its input and outputs.
FUNCTION_CHECK_FLOW: Final = "check_esign_flow"
STEP_INPUT_FLOW_ID: Final = "flow_id"
STEP_OUTPUTS: Final = (
    "flow_status",
    "status_label",
    "object_type",
    "fail_reason",
    "sub_flows_summary",
    "is_final",
    "checked_at",
)

#: Events the app subscribes to (manifest `settings.event_subscriptions.bot_events`).
EVENT_APP_HOME_OPENED: Final = "app_home_opened"
EVENT_FUNCTION_EXECUTED: Final = "function_executed"

#: A channel's automatic answer naming several flows: each flow's buttons sit in a block whose
#: id is this prefix and the flow id, and the "and N more" line's id carries N, so a Recheck
#: redraws the whole answer from the message itself.
BLOCK_ANSWER_FLOW_PREFIX: Final = "esign_flow_answer:"
BLOCK_ANSWER_MORE_PREFIX: Final = "esign_flow_answer_more:"
#: Channel messages and link unfurls (manifest bot_events).
EVENT_MESSAGE: Final = "message"
EVENT_LINK_SHARED: Final = "link_shared"
