"""Block Kit as Slack stores it: limits checked the way Slack refuses a message, block ids added.

The bot must never hit these in production; the stand-in refuses such messages with Slack's
`invalid_blocks` so an end-to-end test notices, instead of rendering what Slack would not.
Only the limits of the block types the bot uses are checked; other block types pass through.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
#: A modal's title, submit and close texts.
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40_000
_LIMITS = {
    "header_text": 150,
    "section_text": 3000,
    "section_fields": 10,
    "field_text": 2000,
    "context_elements": 10,
    "actions_elements": 25,
    "button_text": 75,
    "button_value": 2000,
    "id": 255,
}


def with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of `blocks` where each block has a block_id: Slack invents one when none is given."""
    alphabet = string.ascii_letters + string.digits
    stamped = []
    for block in blocks:
        if "block_id" not in block:
            block = {**block, "block_id": "".join(secrets.choice(alphabet) for _ in range(5))}
        stamped.append(block)
    return stamped


def block_errors(blocks: Any, *, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Slack-style error lines for `blocks`; empty when Slack would accept them.

    `max_blocks`: 50 in a message, 100 in a modal or Home tab (MAX_VIEW_BLOCKS)."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(_error(f"must be less than {max_blocks + 1} items", ""))
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(_error("must be an object with a type", where))
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > _LIMITS["id"]:
                errors.append(_error("must be less than 256 characters", f"{where}/block_id"))
            if block_id in seen_block_ids:
                errors.append(_error("duplicate block_id", f"{where}/block_id"))
            seen_block_ids.add(str(block_id))
        errors.extend(_check_block(block, where))
    return errors


def _check_block(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    errors: list[str] = []
    if kind == "header":
        errors += _text_errors(block.get("text"), f"{where}/text", "header_text", plain_only=True)
    elif kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            errors.append(_error("must provide either text or fields", where))
        if text is not None:
            errors += _text_errors(text, f"{where}/text", "section_text")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > _LIMITS["section_fields"]:
                errors.append(_error("must be an array of at most 10 items", f"{where}/fields"))
            else:
                for i, item in enumerate(fields):
                    errors += _text_errors(item, f"{where}/fields/{i}", "field_text")
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            errors += _button_errors(accessory, f"{where}/accessory")
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            errors.append(_error("must be an array of 1 to 10 items", f"{where}/elements"))
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            errors.append(_error("must be an array of 1 to 25 items", f"{where}/elements"))
        else:
            action_ids: set[str] = set()
            for i, element in enumerate(elements):
                path = f"{where}/elements/{i}"
                if not isinstance(element, dict):
                    errors.append(_error("must be an object", path))
                    continue
                if element.get("type") == "button":
                    errors += _button_errors(element, path)
                action_id = element.get("action_id")
                if action_id is not None:
                    if action_id in action_ids:
                        errors.append(_error("duplicate action_id", f"{path}/action_id"))
                    action_ids.add(str(action_id))
    return errors


def _button_errors(button: dict[str, Any], where: str) -> list[str]:
    errors = _text_errors(button.get("text"), f"{where}/text", "button_text", plain_only=True)
    value = button.get("value")
    if value is not None and len(str(value)) > _LIMITS["button_value"]:
        errors.append(_error("must be less than 2001 characters", f"{where}/value"))
    action_id = button.get("action_id")
    if action_id is not None and len(str(action_id)) > _LIMITS["id"]:
        errors.append(_error("must be less than 256 characters", f"{where}/action_id"))
    return errors


def _text_errors(obj: Any, where: str, limit_name: str, *, plain_only: bool = False) -> list[str]:
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return [_error(f"must be a text object of type {' or '.join(allowed)}", where)]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_error("must be a non-empty string", f"{where}/text")]
    limit = _LIMITS[limit_name]
    if len(text) > limit:
        return [_error(f"must be less than {limit + 1} characters", f"{where}/text")]
    return []


def _error(what: str, where: str) -> str:
    return f"[ERROR] {what} [json-pointer:/blocks{where}]"
