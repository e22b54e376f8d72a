"""The devices service: the registry of road detectors, cameras, trackers and other devices,
their profiles and credentials."""

from fastapi import APIRouter

from roadwatch.devices.api import router as devices_router
from roadwatch.devices.profiles_api import provision_router
from roadwatch.devices.profiles_api import router as profiles_router
from roadwatch.platform.module import Module

router = APIRouter()
for _part in (devices_router, profiles_router, provision_router):
    router.include_router(_part)

module = Module(
    name="devices",
    router=router,
    prefixes=(devices_router.prefix, profiles_router.prefix, provision_router.prefix),
)
