"""Device self-provisioning, as ThingsBoard devices do it: a device that knows its profile's
provision key and secret gets its own access token without an operator.

`allow_create_new` registers a new device under the name it gives; `check_pre_provisioned`
only hands credentials to a device an operator registered beforehand with that profile, and
each such request replaces the device's token (the secret is what guards it).
"""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices.repository import DeviceRepository, ProfileRepository
from roadwatch.devices.schemas import DeviceCreate, ProvisionRequest, ProvisionStrategy
from roadwatch.devices.service import DeviceService
from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.errors import Conflict, InvalidInput, Unauthenticated


class ProvisionRefused(Unauthenticated):
    title = "Provisioning refused"
    kind = "provision-refused"


async def self_provision(session: AsyncSession, request: ProvisionRequest) -> tuple[str, str]:
    """The device's id and its access token."""
    if request.credentials_type != "ACCESS_TOKEN":
        raise InvalidInput(
            f"credentialsType: only ACCESS_TOKEN is supported, got {request.credentials_type!r}",
            field="credentialsType",
        )
    profile = await ProfileRepository(session).by_provision_key(request.provision_key)
    # one answer for an unknown key, a wrong secret and a disabled profile: a caller learns
    # nothing about which keys exist
    refused = ProvisionRefused(
        "provisionDeviceKey/provisionDeviceSecret: no profile allows provisioning with them",
        errorMsg="Provision data was not found!",
    )
    if profile is None or profile.provision_strategy == ProvisionStrategy.DISABLED:
        raise refused
    if profile.provision_secret_hash is None or not hmac.compare_digest(
        profile.provision_secret_hash, secret_digest(request.provision_secret)
    ):
        raise refused
    service = DeviceService(session, f"provision:{profile.id}")
    existing = await DeviceRepository(session).by_name(request.device_name)
    if profile.provision_strategy == ProvisionStrategy.ALLOW_CREATE_NEW:
        if existing is not None:
            raise Conflict(
                f"deviceName: a device named {request.device_name!r} is already provisioned",
                field="deviceName",
                errorMsg="Device already provisioned",
            )
        device, token = await service.create(
            DeviceCreate(
                name=request.device_name, profile_id=profile.id, access_token=request.token
            )
        )
        return device.id, token
    if existing is None or not existing.active or existing.profile_id != profile.id:
        raise ProvisionRefused(
            f"deviceName: no device {request.device_name!r} was registered with this profile",
            errorMsg="Device was not pre-provisioned",
        )
    return existing.id, await service.rotate_credentials(existing.id, request.token)
