"""State at any time: random sequences of operations on users, devices, device attributes
and alarms (raised by device telemetry, then handled by people) through the public API;
afterwards the state the audit service rebuilds for every entity equals what the owning
service shows now, and at every moment a snapshot was taken, equals that snapshot."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roadwatch.platform.auth import Role
from tests.factories import identity as accounts
from tests.factories.audit import (
    attributes_now,
    audit_state,
    comparable_attributes,
    comparable_device,
    device_now,
    user_now,
)
from tests.factories.devices import until_token_accepted
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually

ROLES = st.sampled_from([r for r in Role if r is not Role.ADMINISTRATOR])
PICK = st.integers(min_value=0, max_value=50)
TEXT = st.text(alphabet="abcdefghij KLM-", min_size=0, max_size=12)
VALUE = st.one_of(
    st.integers(-1000, 1000),
    st.booleans(),
    st.text(alphabet="xyz", max_size=5),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
KEYS = st.sampled_from(["mode", "lanes", "limit", "note"])

OPERATIONS = st.one_of(
    st.tuples(st.just("create_user"), ROLES),
    st.tuples(
        st.just("update_user"),
        PICK,
        st.fixed_dictionaries(
            {"full_name": TEXT},
            optional={
                "phone": st.sampled_from(["", "+1 555 0100", "(02) 123"]),
                "language": st.sampled_from(["en", "de", "fr-CA"]),
                "unit": st.one_of(st.none(), st.sampled_from(["north", "P-12"])),
                "badge": st.one_of(st.none(), st.sampled_from(["4411", "A-7"])),
            },
        ),
    ),
    st.tuples(st.just("change_role"), PICK, ROLES),
    st.tuples(st.just("deactivate_user"), PICK),
    st.tuples(st.just("login"), PICK),
    st.tuples(st.just("create_device"), st.sampled_from(["camera", "speed_sensor", "generic"])),
    st.tuples(
        st.just("update_device"),
        PICK,
        st.fixed_dictionaries(
            {"label": TEXT},
            optional={
                "type": st.sampled_from(["camera", "weather_station"]),
                "location": st.one_of(
                    st.none(),
                    st.builds(
                        lambda lon, lat: {"lon": lon, "lat": lat},
                        st.integers(-180, 180),
                        st.integers(-90, 90),
                    ),
                ),
                "extra": st.dictionaries(KEYS, st.integers(0, 9), max_size=2),
            },
        ),
    ),
    st.tuples(st.just("rotate_credentials"), PICK),
    st.tuples(st.just("revoke_credentials"), PICK),
    st.tuples(st.just("delete_device"), PICK),
    st.tuples(
        st.just("set_attributes"),
        PICK,
        st.sampled_from(["shared", "server"]),
        st.dictionaries(KEYS, VALUE, min_size=1, max_size=3),
    ),
    st.tuples(
        st.just("delete_attributes"),
        PICK,
        st.sampled_from(["shared", "server"]),
        st.lists(KEYS, min_size=1, max_size=2, unique=True),
    ),
    st.tuples(st.just("raise_alarm"), PICK),
    st.tuples(st.just("ack_alarm"), PICK),
    st.tuples(st.just("clear_alarm"), PICK),
    st.tuples(st.just("assign_alarm"), PICK, st.sampled_from(["officer-7", None])),
    st.tuples(st.just("comment_alarm"), PICK, TEXT.filter(bool)),
    st.just(("snapshot",)),
)
ALARMS = "/api/v1/analytics/alarms"
HOUR = 3_600_000


@dataclass
class Run:
    running: RunningApp
    admin: dict[str, str]
    users: list[accounts.Account] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    # access tokens of the devices that still have one
    tokens: dict[str, str] = field(default_factory=dict)
    # devices with a speeding rule, and the alarms raised so far
    ruled: set[str] = field(default_factory=set)
    alarms: list[str] = field(default_factory=list)
    clock: int = field(
        default_factory=lambda: int(datetime.now(UTC).timestamp() * 1000) - 3_600_000
    )
    # (moment, {(entity type, id): state the owning service showed})
    snapshots: list[tuple[datetime, dict[tuple[str, str], Any]]] = field(default_factory=list)

    def user(self, n: int) -> accounts.Account | None:
        return self.users[n % len(self.users)] if self.users else None

    def device(self, n: int) -> str | None:
        return self.devices[n % len(self.devices)] if self.devices else None

    async def apply(self, operation: tuple[Any, ...]) -> None:
        client, admin = self.running.client, self.admin
        name, *args = operation
        if name == "create_user":
            self.users.append(await accounts.create_user(client, admin, args[0]))
        elif name == "create_device":
            created = await client.post(
                "/api/v1/devices",
                json={"name": f"dev-{uuid.uuid4().hex[:8]}", "type": args[0]},
                headers=admin,
            )
            assert created.status_code == 201, created.text
            self.devices.append(created.json()["id"])
            self.tokens[created.json()["id"]] = created.json()["access_token"]
        elif name == "snapshot":
            await self.snapshot()
        elif name == "raise_alarm":
            await self.raise_alarm(args[0])
        elif name.endswith("_alarm"):
            await self.handle_alarm(name, *args)
        elif name in ("update_user", "change_role", "deactivate_user", "login"):
            account = self.user(args[0])
            if account is None:
                return
            if name == "update_user":
                await client.patch(f"/api/v1/users/{account.id}", json=args[1], headers=admin)
            elif name == "change_role":
                await client.put(
                    f"/api/v1/users/{account.id}/role", json={"role": args[1]}, headers=admin
                )
            elif name == "deactivate_user":
                await client.delete(f"/api/v1/users/{account.id}", headers=admin)
            else:
                # refused for a deactivated account: an event, and no change
                await accounts.login(client, account.email, account.password)
        else:
            device = self.device(args[0])
            if device is None:
                return
            if name == "update_device":
                await client.patch(f"/api/v1/devices/{device}", json=args[1], headers=admin)
            elif name == "rotate_credentials":
                url = f"/api/v1/devices/{device}/credentials"
                rotated = await client.post(url, json={}, headers=admin)
                if rotated.status_code == 200:
                    self.tokens[device] = rotated.json()["access_token"]
            elif name == "revoke_credentials":
                await client.delete(f"/api/v1/devices/{device}/credentials", headers=admin)
                self.tokens.pop(device, None)
            elif name == "delete_device":
                await client.delete(f"/api/v1/devices/{device}", headers=admin)
                self.tokens.pop(device, None)
            elif name == "set_attributes":
                await self.when_telemetry_knows(device)
                done = await client.post(
                    f"/api/v1/telemetry/{device}/attributes/{args[1]}", json=args[2], headers=admin
                )
                assert done.status_code == 200, done.text
            elif name == "delete_attributes":
                await self.when_telemetry_knows(device)
                await client.delete(
                    f"/api/v1/telemetry/{device}/attributes/{args[1]}",
                    params={"keys": ",".join(args[2])},
                    headers=admin,
                )

    async def raise_alarm(self, pick: int) -> None:
        """The device drops under the limit, then goes over it: a new alarm (the one still
        open, if any, is cleared by the drop); waits until analytics has raised it."""
        client, admin = self.running.client, self.admin
        device = self.device(pick)
        token = self.tokens.get(device) if device else None
        if device is None or token is None:
            return
        if device not in self.ruled:
            rule = {
                "name": "Speeding",
                "scope": "device",
                "scope_value": device,
                "key": "speed",
                "kind": "threshold",
                "params": {"operator": "above", "threshold": 100},
            }
            made = await client.post("/api/v1/analytics/rules", json=rule, headers=admin)
            assert made.status_code == 201, made.text
            self.ruled.add(device)
        await until_token_accepted(client, token)
        self.clock += 2000
        points = [
            {"ts": self.clock - 1000, "values": {"speed": 50}},
            {"ts": self.clock, "values": {"speed": 150}},
        ]
        sent = await client.post(f"/api/v1/{token}/telemetry", json=points)
        assert sent.status_code == 200, sent.text
        raised: list[str] = []

        async def analysed() -> bool:
            listed = await client.get(ALARMS, params={"originator_id": device}, headers=admin)
            raised[:] = [a["id"] for a in listed.json()["items"] if a["start_ts"] == self.clock]
            return bool(raised)

        await eventually(analysed)
        self.alarms.append(raised[0])

    async def handle_alarm(self, name: str, pick: int, *args: Any) -> None:
        """What a dispatcher does with an alarm; refused moves (409) change nothing."""
        if not self.alarms:
            return
        client, admin = self.running.client, self.admin
        url = f"{ALARMS}/{self.alarms[pick % len(self.alarms)]}"
        if name == "ack_alarm":
            await client.post(f"{url}/ack", headers=admin)
        elif name == "clear_alarm":
            await client.post(f"{url}/clear", headers=admin)
        elif name == "assign_alarm":
            await client.put(f"{url}/assignee", json={"assignee_id": args[0]}, headers=admin)
        else:
            await client.post(f"{url}/comments", json={"text": args[0]}, headers=admin)

    async def when_telemetry_knows(self, device: str) -> None:
        # telemetry learns of devices from events; in the distributed shape that takes a moment
        async def known() -> bool:
            probe = await self.running.client.get(
                f"/api/v1/telemetry/{device}/attributes/shared", headers=self.admin
            )
            return probe.status_code == 200

        await eventually(known)

    async def service_states(self) -> dict[tuple[str, str], Any]:
        client, admin = self.running.client, self.admin
        states: dict[tuple[str, str], Any] = {}
        for account in self.users:
            states["user", account.id] = await user_now(client, admin, account.id)
        for device in self.devices:
            states["device", device] = await device_now(client, admin, device)
            states["device_attributes", device] = await attributes_now(client, admin, device)
        for alarm in self.alarms:
            states["alarm", alarm] = (await client.get(f"{ALARMS}/{alarm}", headers=admin)).json()
        return states

    async def snapshot(self) -> None:
        states = await self.service_states()
        # every change shown above committed before this moment; the next one comes after
        self.snapshots.append((datetime.now(UTC), states))

    async def rebuilt(self, at: datetime | None = None) -> dict[tuple[str, str], Any]:
        client, reader = self.running.client, self.running.as_role(Role.AUDITOR)
        states: dict[tuple[str, str], Any] = {}
        for account in self.users:
            states["user", account.id] = await audit_state(client, reader, "user", account.id, at)
        for device in self.devices:
            states["device", device] = comparable_device(
                await audit_state(client, reader, "device", device, at)
            )
            states["device_attributes", device] = comparable_attributes(
                await audit_state(client, reader, "device_attributes", device, at)
            )
        for alarm in self.alarms:
            states["alarm", alarm] = await audit_state(client, reader, "alarm", alarm, at)
        return states


def differences(want: dict[Any, Any], got: dict[Any, Any]) -> list[str]:
    return [
        f"{key}: service {want[key]!r} != audit {got.get(key)!r}"
        for key in want
        if want[key] != got.get(key)
    ]


async def check_run(running: RunningApp, operations: list[tuple[Any, ...]]) -> None:
    run = Run(running, running.as_role(Role.ADMINISTRATOR))
    # something for the first operations to act on
    first = [("create_user", Role.CITIZEN), ("create_device", "generic")]
    for operation in [*first, *operations]:
        await run.apply(operation)
    now = await run.service_states()

    mismatch: list[str] = []

    async def caught_up() -> bool:
        nonlocal mismatch
        mismatch = differences(now, await run.rebuilt())
        return not mismatch

    try:
        await eventually(caught_up, timeout_s=30)
    except AssertionError:
        raise AssertionError("state now:\n" + "\n".join(mismatch)) from None
    for moment, then in run.snapshots:
        # entities made after the snapshot did not exist yet: the audit says so with null
        rebuilt = await run.rebuilt(moment)
        wrong = differences(then, rebuilt)
        assert not wrong, f"state at {moment.isoformat()}:\n" + "\n".join(wrong)
        later = {k for k in rebuilt if k not in then and k[0] != "device_attributes"}
        assert all(rebuilt[k] is None for k in later), f"existed before creation: {later}"


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=3, max_size=16))
async def test_rebuilt_state_equals_the_services_now_and_every_snapshot(
    audited: RunningApp, operations: list[tuple[Any, ...]]
) -> None:
    # one application serves every example; each example's entities are its own
    await check_run(audited, operations)
