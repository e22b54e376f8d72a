"""Registering the city's devices through the platform's public device-registry API.

Idempotent: devices are found by name; missing ones are created in one bulk request,
existing ones are reused with the token remembered in the state file or, without one, get a
fresh token (the registry keeps only hashes, so a token cannot be read back). Their type,
label, location and `extra` are brought up to date when the city's description changed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from roadwatch.simulation.city import Network
from roadwatch.simulation.engine import SimulationSettings
from roadwatch.simulation.pacing import Pacer

log = logging.getLogger("roadwatch.simulation")

# the registry's device types (devices/schemas.py DeviceType), spelled out: this is a client
LOOP_TYPE = "induction_loop"
PATROL_TYPE = "patrol_gps"


class ProvisioningError(Exception):
    """The platform refused or could not be reached; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    source: str
    name: str
    type: str
    label: str
    location: dict[str, float] | None
    extra: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "location": self.location,
            "extra": self.extra,
        }


@dataclass(frozen=True, slots=True)
class Provisioned:
    source: str
    name: str
    id: str
    token: str
    # issued by this run (and so maybe not yet known to the telemetry service)
    fresh: bool = True


def device_specs(network: Network, settings: SimulationSettings, prefix: str) -> list[DeviceSpec]:
    """One device per detector station and patrol car, placed by `extra` and `location`."""
    specs: list[DeviceSpec] = []
    for site in network.detectors:
        seg = network.segments[site.segment_id]
        measures = ["count", "occupancy"] + (["speed"] if site.measures_speed else [])
        specs.append(
            DeviceSpec(
                source=site.id,
                name=f"{prefix}-{site.id}",
                type=LOOP_TYPE,
                label=f"{seg.road} {seg.direction}, {seg.from_node}→{seg.to_node}",
                location={"lon": site.lon, "lat": site.lat},
                extra={
                    "simulation": prefix,
                    "network": network.name,
                    "segment_id": site.segment_id,
                    "offset_m": site.offset_m,
                    "lanes": site.lanes,
                    "detector_kind": site.kind,
                    "measures": measures,
                    "interval_s": settings.detector_interval_s,
                    "occupancy_unit": "percent",
                    "speed_unit": "km/h",
                },
            )
        )
    for n in range(1, settings.patrols + 1):
        specs.append(
            DeviceSpec(
                source=f"patrol-{n}",
                name=f"{prefix}-patrol-{n}",
                type=PATROL_TYPE,
                label=f"Patrol car {n}",
                location=None,
                extra={
                    "simulation": prefix,
                    "network": network.name,
                    "unit": f"P{n}",
                    "interval_s": settings.patrol_interval_s,
                    "speed_unit": "km/h",
                },
            )
        )
    return specs


@dataclass(frozen=True)
class Credentials:
    api_key: str | None = None
    email: str | None = None
    password: str | None = None


class RegistryClient:
    """The management API as the simulator uses it: sign-in, device list, bulk create."""

    def __init__(self, http: httpx.AsyncClient, credentials: Credentials, pacer: Pacer) -> None:
        self.http = http
        self.credentials = credentials
        self.pacer = pacer
        self._headers: dict[str, str] = {}

    async def sign_in(self) -> None:
        if self.credentials.api_key:
            self._headers = {"X-API-Key": self.credentials.api_key}
            return
        if not (self.credentials.email and self.credentials.password):
            raise ProvisioningError(
                "give --api-key (ROADWATCH_API_KEY) or --email and --password to provision devices"
            )
        await self.pacer.acquire()
        answer = await self.http.post(
            "/api/v1/auth/token",
            data={"username": self.credentials.email, "password": self.credentials.password},
        )
        _check(answer, "sign in")
        self._headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    @property
    def auth_headers(self) -> dict[str, str]:
        """The credentials' headers once signed in, for the platform's other APIs."""
        return dict(self._headers)

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        while True:
            if method != "GET":
                await self.pacer.acquire()
            answer = await self.http.request(method, path, headers=self._headers, **kwargs)
            if answer.status_code == 429:
                await self.pacer.hold(float(answer.headers.get("Retry-After", "5")))
                continue
            _check(answer, what)
            return answer

    async def find(self, names: set[str], prefix: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            page = (
                await self._call(
                    "GET",
                    "/api/v1/devices",
                    "list devices",
                    params={"q": prefix, "limit": 200, "offset": offset, "sort": "name"},
                )
            ).json()
            for device in page["items"]:
                if device["name"] in names:
                    found[device["name"]] = device
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return found

    async def create(self, specs: list[DeviceSpec]) -> dict[str, tuple[str, str]]:
        answer = await self._call(
            "POST", "/api/v1/devices/bulk", "register devices",
            json={"devices": [s.body() for s in specs]},
        )  # fmt: skip
        return {d["name"]: (d["id"], d["access_token"]) for d in answer.json()["devices"]}

    async def rotate(self, device_id: str) -> str:
        answer = await self._call(
            "POST", f"/api/v1/devices/{device_id}/credentials", "rotate a token", json={}
        )
        token: str = answer.json()["access_token"]
        return token

    async def update(self, device_id: str, changes: dict[str, Any]) -> None:
        await self._call("PATCH", f"/api/v1/devices/{device_id}", "update a device", json=changes)


def _check(answer: httpx.Response, what: str) -> None:
    if answer.is_success:
        return
    try:
        detail = answer.json().get("detail") or answer.text
    except ValueError:
        detail = answer.text
    raise ProvisioningError(f"{what}: {answer.status_code} from {answer.request.url}: {detail}")


def _load_state(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None or not path.is_file():
        return {}
    data: dict[str, dict[str, str]] = json.loads(path.read_text())
    return data


def _save_state(path: Path | None, devices: list[Provisioned]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # access tokens: readable by their owner only, as var/jwt.key
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({d.name: {"id": d.id, "token": d.token} for d in devices}, out, indent=1)
    tmp.replace(path)


async def provision(
    registry: RegistryClient, specs: list[DeviceSpec], prefix: str, state_path: Path | None
) -> list[Provisioned]:
    """Every device of `specs` registered, with a working token for each."""
    await registry.sign_in()
    remembered = _load_state(state_path)
    existing = await registry.find({s.name for s in specs}, prefix)
    missing = [s for s in specs if s.name not in existing]
    created = await registry.create(missing) if missing else {}
    out: list[Provisioned] = []
    reused = rotated = updated = 0
    for spec in specs:
        fresh = True
        if spec.name in created:
            device_id, token = created[spec.name]
        else:
            device = existing[spec.name]
            device_id = device["id"]
            changes = {k: v for k, v in spec.body().items() if device.get(k) != v and k != "name"}
            if changes:
                await registry.update(device_id, changes)
                updated += 1
            kept = remembered.get(spec.name)
            if kept and kept.get("id") == device_id and device.get("has_credentials"):
                token = kept["token"]
                fresh = False
                reused += 1
            else:
                token = await registry.rotate(device_id)
                rotated += 1
        out.append(Provisioned(spec.source, spec.name, device_id, token, fresh))
    _save_state(state_path, out)
    log.info(
        "simulated devices ready: %d created, %d reused, %d given new tokens, %d updated",
        len(created), reused, rotated, updated,
    )  # fmt: skip
    return out
