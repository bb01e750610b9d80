"""No user text can change the request path or query: hostile ids are refused before any call."""

import pytest

from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id

HOSTILE = [
    "",
    "   ",
    "../../v1/oauth2/access_token",
    "8037196369766838/../x",
    "%2e%2e%2f803719636976683872",
    "803719636976683872?appId=1",
    "803719636976683872#frag",
    "803719636976683872;x",
    "803719636976683872\r\nX-Injected: 1",
    "803719636976683872\n",
    "8037196369 76683872",
    "803719636976683872\x00",
    "//evil.example/803719636976683872",
    "８０３７１９６３６９７６６８３８７２",  # full-width digits
    "٨٠٣٧١٩٦٣٦٩٧٦٦٨٣٨٧٢",  # Arabic-Indic digits
    "803719636976683872\u200f",  # RTL mark
    "\u202e803719636976683872",
    "8037196369766838😀",
    "1" * 65,
    "12345",
    "<!channel>",
    "80371963697668387２",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_ids_are_refused(raw: str) -> None:
    with pytest.raises(InvalidFlowId):
        validate_flow_id(raw)


@pytest.mark.parametrize(
    "raw", ["803719636976683872", "3456789012345678901", " 802965095964494307 ", "abc123DEF"]
)
def test_plain_ids_pass_unchanged(raw: str) -> None:
    assert validate_flow_id(raw) == raw.strip()


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidFlowId):
        validate_flow_id(None)  # type: ignore[arg-type]
