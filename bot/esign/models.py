"""Typed view of the outline endpoint's `data` object.

e签宝 adds statuses and sub-flow types over time, so unknown values are kept as their raw
strings instead of failing validation; null or missing lists become empty lists and fields we do
not know are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


class FlowStatus(StrEnum):
    INIT = "INIT"
    ING = "ING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class SubFlowStatus(StrEnum):
    ING = "ING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    TERMINATED = "TERMINATED"


class ObjectType(StrEnum):
    ORGANIZATION = "ORGANIZATION"
    INDIVIDUAL = "INDIVIDUAL"


class SubFlowType(StrEnum):
    ORGANIZATION_INFO_AUTH = "ORGANIZATION_INFO_AUTH"
    ORGANIZATION_TRANSFER_RANDOM_AMOUNT = "ORGANIZATION_TRANSFER_RANDOM_AMOUNT"
    ORGANIZATION_ZMXY = "ORGANIZATION_ZMXY"
    LEGAL_REP_SIGN_AUTHORIZE = "LEGAL_REP_SIGN_AUTHORIZE"
    ORGANIZATION_ARTIFICIAL = "ORGANIZATION_ARTIFICIAL"
    AUTHCODE = "AUTHCODE"
    INDIVIDUAL_ARTIFICIAL = "INDIVIDUAL_ARTIFICIAL"
    FACEAUTH_ZMXY = "FACEAUTH_ZMXY"
    FACEAUTH_TECENT_CLOUD = "FACEAUTH_TECENT_CLOUD"  # sic: e签宝's spelling
    ORGANIZATION_LEGAL_REP_FACEAUTH = "ORGANIZATION_LEGAL_REP_FACEAUTH"
    INDIVIDUAL_BANKCARD_4_FACTOR = "INDIVIDUAL_BANKCARD_4_FACTOR"
    INDIVIDUAL_TELECOM_3_FACTOR = "INDIVIDUAL_TELECOM_3_FACTOR"
    FACEAUTH_WE_CHAT_FACE = "FACEAUTH_WE_CHAT_FACE"
    FACEAUTH_ESIGN = "FACEAUTH_ESIGN"
    INDIVIDUAL_FACEAUTH = "INDIVIDUAL_FACEAUTH"


E = TypeVar("E", bound=StrEnum)


def _known(enum: type[E]) -> Callable[[Any], E | str]:
    """Map a raw value onto `enum` when it is a member, else keep it as a string."""

    def convert(value: Any) -> E | str:
        text = "" if value is None else str(value).strip()
        try:
            return enum(text)
        except ValueError:
            return text

    return convert


def _epoch_ms(value: Any) -> datetime | None:
    """e签宝 sends times as epoch milliseconds; anything unusable becomes None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        millis = int(value)
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _list_or_empty(value: Any) -> Any:
    return [] if value is None else value


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


Status = Annotated[FlowStatus | str, BeforeValidator(_known(FlowStatus))]
SubStatus = Annotated[SubFlowStatus | str, BeforeValidator(_known(SubFlowStatus))]
Subject = Annotated[ObjectType | str, BeforeValidator(_known(ObjectType))]
SubType = Annotated[SubFlowType | str, BeforeValidator(_known(SubFlowType))]
EpochMillis = Annotated[datetime | None, BeforeValidator(_epoch_ms)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class SubFlow(_Model):
    sub_flow_id: OptionalText = None
    sub_flow_type: SubType = ""
    status: SubStatus = ""


SubFlows = Annotated[list[SubFlow], BeforeValidator(_list_or_empty)]


class RelatedFlow(_Model):
    """The agent's (经办人) own verification flow attached to an organization flow."""

    flow_id: OptionalText = None
    flow_status: Status = ""
    object_type: Subject = ""
    context_id: OptionalText = None
    fail_reason: OptionalText = None
    sub_flows: SubFlows = Field(default_factory=list)


class FlowOutline(_Model):
    flow_id: OptionalText = None
    flow_status: Status = ""
    object_type: Subject = ""
    context_id: OptionalText = None
    fail_reason: OptionalText = None
    create_time: EpochMillis = None
    modify_time: EpochMillis = None
    sub_flows: SubFlows = Field(default_factory=list)
    related_flows: Annotated[list[RelatedFlow], BeforeValidator(_list_or_empty)] = Field(
        default_factory=list
    )
