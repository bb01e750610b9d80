"""Reading flow ids out of what people type and what messages say."""

import pytest

from bot.esign.errors import InvalidFlowId
from bot.flows.ids import find_flow_ids, parse_command_text
from bot.slack.button_value import ButtonValue, ButtonValueError


@pytest.mark.parametrize("text", [None, "", "   ", "help", "HELP", "--help", "帮助", 42])
def test_help(text: object) -> None:
    assert parse_command_text(text, cap=5).wants_help


def test_several_ids_with_mixed_separators_deduplicated() -> None:
    request = parse_command_text(
        "803719636976683872, 802965095964494307，803719636976683872 3456789012345678901", cap=5
    )
    assert request.flow_ids == ["803719636976683872", "802965095964494307", "3456789012345678901"]
    assert request.rejected == []


def test_cap_and_rejected_tokens() -> None:
    ids = " ".join(f"80371963697668{n:04d}" for n in range(100))
    request = parse_command_text(ids + " ../etc <!channel>", cap=5)
    assert len(request.flow_ids) == 5
    assert request.over_cap == 95
    assert request.rejected == ["../etc", "<!channel>"]


def test_rejected_tokens_are_shortened_and_printable() -> None:
    request = parse_command_text("x" * 10_000 + " a\x00b", cap=5)
    assert all(len(token) <= 40 for token in request.rejected)
    assert all(token.isprintable() for token in request.rejected)


def test_find_ids_in_message_text_ignores_uuids_phones_and_decimals() -> None:
    text = (
        "客户说流程803719636976683872卡住了, sub-flow 5ffbafb2-c3be-45ba-bfeb-fda1f8eb083d, "
        "phone 13812345678 / +8613812345678901234, amount 1.2345678901234567890, "
        "see <https://x.example/flows/3456789012345678901|3456789012345678901>. "
        "and 802965095964494307."
    )
    assert find_flow_ids(text, cap=5).flow_ids == [
        "803719636976683872",
        "3456789012345678901",
        "802965095964494307",
    ]


def test_find_ids_ignores_uuid_digit_runs_and_fullwidth() -> None:
    text = "id 12345678-1234567890123456-ab and ８０３７１９６３６９７６６８３８７２"
    assert find_flow_ids(text, cap=5).flow_ids == []


def test_find_ids_in_a_long_message_keeps_first_mentions_and_counts_distinct_ones() -> None:
    named = [f"{2990000000000000000 + n}" for n in range(2000)]
    # Every id named twice, the second time in reverse order: repeats count once.
    text = " ".join(named) + " 再说一遍 " + " ".join(reversed(named))
    found = find_flow_ids(text, cap=5)
    assert found.flow_ids == named[:5]
    assert found.over_cap == 1995


def test_button_value_round_trip_and_refusal() -> None:
    for value in [
        ButtonValue("803719636976683872", "1764354000.000100"),
        ButtonValue("803719636976683872", "1764354000.000100", "U0PLAYER1"),
        ButtonValue("803719636976683872", requested_by="W012ABCDEF"),
    ]:
        assert ButtonValue.decode(value.encode()) == value
    assert ButtonValue("803719636976683872", None, "U1ABC").encode() == "803719636976683872||U1ABC"
    assert ButtonValue.decode("803719636976683872") == ButtonValue("803719636976683872")
    # Values made before the requester rode along still work.
    assert ButtonValue.decode("803719636976683872|1764354000.000100") == ButtonValue(
        "803719636976683872", "1764354000.000100"
    )
    for forged, part in [
        ("", "flow"),
        ("../x", "flow"),
        ("803719636976683872|../../", "thread"),
        ("803719636976683872||<!channel>", "requester"),
        ("803719636976683872||u0lower", "requester"),
        ("803719636976683872|1764354000.000100|U0PLAYER1|extra", "value"),
        ("8" * 3000, "value"),
        (None, "value"),
        (42, "value"),
    ]:
        with pytest.raises(ButtonValueError) as refused:
            ButtonValue.decode(forged)
        assert refused.value.part == part, forged
        # A forged button is not a mistyped flow id: it is never reported as one.
        assert not isinstance(refused.value, InvalidFlowId)


def test_digest_takes_a_time_or_off_or_nothing_and_never_flow_ids() -> None:
    from bot.flows.ids import parse_command_text

    assert parse_command_text("digest 09:30", cap=5).verb == "digest"
    assert parse_command_text("digest 09:30", cap=5).argument == "09:30"
    assert parse_command_text("DIGEST off", cap=5).argument == "off"
    bare = parse_command_text("digest", cap=5)
    assert (bare.verb, bare.argument, bare.flow_ids) == ("digest", "", [])
    assert parse_command_text("digest 803719636976683872", cap=5).flow_ids == []
