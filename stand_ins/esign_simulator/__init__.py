"""A local e签宝: the outline endpoint, its gateway (signature and token auth) and faults.

Independent of the bot's own e签宝 code on purpose, so the bot's signing is checked against a
second reading of the docs rather than against itself.
"""

from stand_ins.esign_simulator.catalogue import (
    BUSINESS_ERROR_SAMPLES,
    BUSINESS_ERRORS,
    FAULT_FLOWS,
    FAULT_SAMPLES,
    OUTLINE_SAMPLES,
    SAMPLE_FLOWS,
    BusinessError,
    SampleFlow,
    SampleKind,
    business_error,
    catalogue_outline,
    fault_for,
)
from stand_ins.esign_simulator.faults import GATEWAY_401_REASONS, Fault, FaultKind
from stand_ins.esign_simulator.gateway import SIM_APP_ID, SIM_APP_SECRET, signature, string_to_sign
from stand_ins.esign_simulator.server import EsignSimulator, RecordedRequest

__all__ = [
    "BUSINESS_ERRORS",
    "BUSINESS_ERROR_SAMPLES",
    "FAULT_FLOWS",
    "FAULT_SAMPLES",
    "GATEWAY_401_REASONS",
    "OUTLINE_SAMPLES",
    "SAMPLE_FLOWS",
    "SIM_APP_ID",
    "SIM_APP_SECRET",
    "BusinessError",
    "EsignSimulator",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "SampleFlow",
    "SampleKind",
    "business_error",
    "catalogue_outline",
    "fault_for",
    "signature",
    "string_to_sign",
]
