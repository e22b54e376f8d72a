"""Fixtures of the device-facing MQTT tests: an endpoint on its own port, paho devices."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures.backends import Backend
from tests.telemetry.test_mqtt import Endpoint, PahoDevice, serving


@pytest.fixture
async def endpoint(backend: Backend) -> AsyncIterator[Endpoint]:
    async with serving(backend) as running:
        yield running


@pytest.fixture
async def devices() -> AsyncIterator[list[PahoDevice]]:
    """Paho clients a test opens, closed afterwards whatever happened."""
    opened: list[PahoDevice] = []
    yield opened
    for device in opened:
        await device.close()
