"""The devices service: the registry of road detectors, cameras, trackers and other devices."""

from roadwatch.devices.api import router
from roadwatch.platform.module import Module

module = Module(name="devices", router=router, prefixes=("/api/v1/devices",))
