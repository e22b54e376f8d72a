"""The life of an RPC call as data: the allowed transitions, who causes each, and the one
function that enforces them (rpc.py moves a call only through `check`).

    queued ──▶ sent ──▶ delivered ──▶ replied        (two-way calls only reach `replied`)
      │  ▲       │          │
      │  └───────┘ (a push that failed is queued again)
      └──▶ delivered (an HTTP long-poll hands the call over: the device has it)
    queued / sent / delivered ──▶ expired  (sent/delivered: two-way only; a one-way call
                                            handed over is done)
    queued / sent / delivered ──▶ failed   (the device was deactivated or deleted)

`sent` means written to the device's connection without a confirmation (MQTT QoS 0);
`delivered` means the device has it: an MQTT QoS 1 PUBACK, or the answer to its HTTP
long-poll (as ThingsBoard counts it). A one-way call ends at `sent` or `delivered`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from roadwatch.platform.errors import Conflict


class RpcStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    REPLIED = "replied"
    EXPIRED = "expired"
    FAILED = "failed"


class Cause(StrEnum):
    # the transport handing the call over (MQTT push, HTTP long-poll)
    DELIVERY = "delivery"
    # the device itself (its reply)
    DEVICE = "device"
    # the platform's own bookkeeping (expiry, a device gone)
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Transition:
    cause: Cause
    # only calls that expect a reply may take it
    two_way_only: bool = False


S = RpcStatus
TRANSITIONS: dict[tuple[RpcStatus, RpcStatus], Transition] = {
    (S.QUEUED, S.SENT): Transition(Cause.DELIVERY),
    (S.QUEUED, S.DELIVERED): Transition(Cause.DELIVERY),
    (S.SENT, S.DELIVERED): Transition(Cause.DELIVERY),
    (S.SENT, S.QUEUED): Transition(Cause.DELIVERY),
    (S.SENT, S.REPLIED): Transition(Cause.DEVICE, two_way_only=True),
    (S.DELIVERED, S.REPLIED): Transition(Cause.DEVICE, two_way_only=True),
    (S.QUEUED, S.EXPIRED): Transition(Cause.SYSTEM),
    (S.SENT, S.EXPIRED): Transition(Cause.SYSTEM, two_way_only=True),
    (S.DELIVERED, S.EXPIRED): Transition(Cause.SYSTEM, two_way_only=True),
    (S.QUEUED, S.FAILED): Transition(Cause.SYSTEM),
    (S.SENT, S.FAILED): Transition(Cause.SYSTEM, two_way_only=True),
    (S.DELIVERED, S.FAILED): Transition(Cause.SYSTEM, two_way_only=True),
}

# statuses after which nothing more happens to a call
FINAL: frozenset[RpcStatus] = frozenset({S.REPLIED, S.EXPIRED, S.FAILED})


class InvalidTransition(Conflict):
    title = "RPC call cannot change so"
    kind = "rpc-invalid-transition"


def is_final(status: RpcStatus, oneway: bool) -> bool:
    """Whether the call has nothing more to wait for."""
    if status in FINAL:
        return True
    return oneway and status in (S.SENT, S.DELIVERED)


def check(current: RpcStatus, target: RpcStatus, oneway: bool, cause: Cause) -> Transition:
    """The transition from `current` to `target`, or InvalidTransition (409) saying why not."""
    transition = TRANSITIONS.get((current, target))
    if transition is None:
        raise InvalidTransition(f"a call that is {current} cannot become {target}")
    if transition.cause is not cause:
        raise InvalidTransition(
            f"{current} → {target} is caused by {transition.cause}, not {cause}"
        )
    if transition.two_way_only and oneway:
        raise InvalidTransition(f"a one-way call that is {current} cannot become {target}")
    return transition


def sources(target: RpcStatus, oneway: bool, cause: Cause) -> tuple[RpcStatus, ...]:
    """The statuses from which `cause` may move a call to `target`."""
    return tuple(
        current
        for (current, to), transition in TRANSITIONS.items()
        if to is target and transition.cause is cause and not (transition.two_way_only and oneway)
    )
