"""Use cases of device profiles. Flushes, never commits; raises domain errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events
from roadwatch.devices.models import DeviceProfile
from roadwatch.devices.repository import ProfileRepository
from roadwatch.devices.schemas import (
    ProfileCreate,
    ProfileRead,
    ProfileUpdate,
    ProvisionStrategy,
)
from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.errors import Conflict, InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate


def profile_read(profile: DeviceProfile) -> ProfileRead:
    return ProfileRead.model_validate(
        {
            "id": profile.id,
            "name": profile.name,
            "description": profile.description,
            "telemetry_keys": profile.telemetry_keys,
            "inactivity_timeout_s": profile.inactivity_timeout_s,
            "alarm_rules": profile.alarm_rules,
            "transport": profile.transport,
            "provision_strategy": profile.provision_strategy,
            "provision_key": profile.provision_key,
            "has_provision_secret": profile.provision_secret_hash is not None,
            "created_at": profile.created_at,
            "updated_at": profile.updated_at,
        }
    )


def _state(profile: DeviceProfile) -> dict[str, Any]:
    return {**profile_read(profile).model_dump(mode="json"), "active": profile.active}


class ProfileService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.repo = ProfileRepository(session)
        self.actor = actor

    async def get(self, profile_id: str) -> DeviceProfile:
        profile = await self.repo.get(profile_id)
        if profile is None or not profile.active:
            raise NotFound(f"device profile {profile_id} not found")
        return profile

    async def list(self, params: PageParams, search: str | None) -> tuple[list[DeviceProfile], int]:
        return await paginate(
            self.session,
            self.repo.query(search),
            params,
            self.repo.sortable,
            tiebreak=DeviceProfile.id,
            default_sort="name",
        )

    async def _ensure_unique(self, profile: DeviceProfile) -> None:
        same_name = await self.repo.by_name(profile.name)
        if same_name is not None and same_name.id != profile.id:
            raise Conflict(f"name: a profile named {profile.name!r} already exists", field="name")
        if profile.provision_key is not None:
            same_key = await self.repo.by_provision_key(profile.provision_key)
            if same_key is not None and same_key.id != profile.id:
                raise Conflict("provision_key: another profile has this key", field="provision_key")

    @staticmethod
    def _check_provisioning(profile: DeviceProfile) -> None:
        if profile.provision_strategy == ProvisionStrategy.DISABLED:
            return
        if profile.provision_key is None or profile.provision_secret_hash is None:
            raise InvalidInput(
                f"provision_strategy {profile.provision_strategy} needs a provision_key "
                "and a provision_secret",
                field="provision_key",
            )

    def _publish(self, type: str, profile: DeviceProfile) -> None:
        publish(self.session, events.profile_event(type, profile.id, _state(profile), self.actor))

    async def create(self, data: ProfileCreate) -> DeviceProfile:
        profile = DeviceProfile(
            name=data.name,
            description=data.description,
            telemetry_keys=[k.model_dump() for k in data.telemetry_keys],
            inactivity_timeout_s=data.inactivity_timeout_s,
            alarm_rules=data.alarm_rules,
            transport=data.transport.model_dump(mode="json"),
            provision_strategy=data.provision_strategy.value,
            provision_key=data.provision_key,
            provision_secret_hash=(
                secret_digest(data.provision_secret) if data.provision_secret else None
            ),
        )
        self._check_provisioning(profile)
        await self._ensure_unique(profile)
        self.repo.add(profile)
        await self.session.flush()
        await self.session.refresh(profile)
        self._publish(events.PROFILE_CREATED, profile)
        return profile

    async def update(self, profile_id: str, data: ProfileUpdate) -> DeviceProfile:
        profile = await self.get(profile_id)
        changes = data.model_dump(exclude_unset=True)
        for field in ("name", "description", "provision_key"):
            if field in changes and (changes[field] is not None or field == "provision_key"):
                setattr(profile, field, changes[field])
        if data.telemetry_keys is not None:
            profile.telemetry_keys = [k.model_dump() for k in data.telemetry_keys]
        if "inactivity_timeout_s" in changes:
            profile.inactivity_timeout_s = data.inactivity_timeout_s
        if data.alarm_rules is not None:
            profile.alarm_rules = data.alarm_rules
        if data.transport is not None:
            profile.transport = data.transport.model_dump(mode="json")
        if data.provision_strategy is not None:
            profile.provision_strategy = data.provision_strategy.value
        if "provision_secret" in changes:
            secret = data.provision_secret
            profile.provision_secret_hash = secret_digest(secret) if secret else None
        self._check_provisioning(profile)
        await self._ensure_unique(profile)
        await self.session.flush()
        await self.session.refresh(profile)
        self._publish(events.PROFILE_UPDATED, profile)
        return profile

    async def delete(self, profile_id: str) -> None:
        profile = await self.get(profile_id)
        using = await self.repo.in_use(profile.id)
        if using:
            raise Conflict(
                f"{using} device(s) use this profile; move them to another profile first"
            )
        profile.active = False
        # frees the name and key for a new profile while keeping the row for the audit trail
        profile.name = f"{profile.name}#deleted-{profile.id}"
        profile.provision_key = None
        await self.session.flush()
        self._publish(events.PROFILE_DELETED, profile)
