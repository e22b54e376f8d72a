"""The RPC lifecycle table and the one function that enforces it."""

from __future__ import annotations

import pytest

from roadwatch.telemetry.rpc_states import (
    TRANSITIONS,
    Cause,
    InvalidTransition,
    RpcStatus,
    check,
    is_final,
    sources,
)

S = RpcStatus


def test_a_two_way_call_goes_queued_sent_delivered_replied() -> None:
    check(S.QUEUED, S.SENT, oneway=False, cause=Cause.DELIVERY)
    check(S.SENT, S.DELIVERED, oneway=False, cause=Cause.DELIVERY)
    check(S.DELIVERED, S.REPLIED, oneway=False, cause=Cause.DEVICE)


def test_a_long_poll_delivers_a_queued_call_at_once() -> None:
    check(S.QUEUED, S.DELIVERED, oneway=True, cause=Cause.DELIVERY)


def test_a_one_way_call_takes_no_reply_and_does_not_expire_once_handed_over() -> None:
    with pytest.raises(InvalidTransition, match="one-way"):
        check(S.DELIVERED, S.REPLIED, oneway=True, cause=Cause.DEVICE)
    with pytest.raises(InvalidTransition, match="one-way"):
        check(S.SENT, S.EXPIRED, oneway=True, cause=Cause.SYSTEM)
    check(S.QUEUED, S.EXPIRED, oneway=True, cause=Cause.SYSTEM)
    assert is_final(S.SENT, oneway=True)
    assert not is_final(S.SENT, oneway=False)


@pytest.mark.parametrize("final", [S.REPLIED, S.EXPIRED, S.FAILED])
def test_nothing_leaves_a_final_status(final: RpcStatus) -> None:
    assert not [t for t in TRANSITIONS if t[0] is final]
    for target in RpcStatus:
        for cause in Cause:
            with pytest.raises(InvalidTransition):
                check(final, target, oneway=False, cause=cause)


def test_only_the_device_replies_and_only_the_system_expires() -> None:
    with pytest.raises(InvalidTransition, match="caused by device"):
        check(S.SENT, S.REPLIED, oneway=False, cause=Cause.SYSTEM)
    with pytest.raises(InvalidTransition, match="caused by system"):
        check(S.QUEUED, S.EXPIRED, oneway=False, cause=Cause.DEVICE)


def test_a_reply_may_come_once_the_call_left() -> None:
    assert set(sources(S.REPLIED, oneway=False, cause=Cause.DEVICE)) == {S.SENT, S.DELIVERED}
    assert sources(S.REPLIED, oneway=True, cause=Cause.DEVICE) == ()


def test_a_refused_transition_is_a_conflict() -> None:
    with pytest.raises(InvalidTransition) as raised:
        check(S.QUEUED, S.REPLIED, oneway=False, cause=Cause.DEVICE)
    assert raised.value.status == 409
