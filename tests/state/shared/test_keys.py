"""Keys used together share a hash tag (one Cluster slot); two apps' keys never collide."""

from __future__ import annotations

import pytest
from redis.cluster import key_slot

from bot.state.shared.keys import KeySpace, hash_tag, with_hash_tag

KEYS = KeySpace("production", "5111000000000001")
FLOW = "803719636976683872"


def slot(key: str) -> int:
    return int(key_slot(key.encode()))


def test_one_flows_outline_lock_and_failure_note_share_a_slot() -> None:
    together = {KEYS.outline(FLOW), KEYS.outline_lock(FLOW), KEYS.outline_failure(FLOW)}
    assert len(together) == 3 and {hash_tag(k) for k in together} == {f"flow:{FLOW}"}
    assert len({slot(k) for k in together}) == 1
    # Different flows spread over the cluster rather than piling on one node.
    flows = {slot(KEYS.outline(f"80371963697668{n:04d}")) for n in range(50)}
    assert len(flows) > 40


def test_the_token_and_its_lock_share_a_slot() -> None:
    assert slot(KEYS.token) == slot(KEYS.token_lock)
    assert KEYS.token != KEYS.token_lock


def test_every_key_names_its_environment_and_app() -> None:
    other = KeySpace("sandbox", "7438000000000001")
    for ours, theirs in [
        (KEYS.outline(FLOW), other.outline(FLOW)),
        (KEYS.token, other.token),
        (KEYS.call_budget, other.call_budget),
    ]:
        assert ours != theirs and ours.startswith("esign-flow:")
        assert "production" in ours and "5111000000000001" in ours


@pytest.mark.parametrize(
    ("base", "tagged"),
    [
        ("esign-flow:sandbox:test-app", "esign-flow:{sandbox:test-app}"),
        ("esign-flow:{production:app}", "esign-flow:{production:app}"),
        ("elsewhere:app", "{elsewhere:app}"),
        ("esign-flow:{}:app", "esign-flow:{{}:app}"),
    ],
)
def test_a_state_base_gets_one_hash_tag(base: str, tagged: str) -> None:
    assert with_hash_tag(base) == tagged
    assert hash_tag(f"{tagged}:state:v1:watches") == hash_tag(f"{tagged}:state:v1:lease:w1")
