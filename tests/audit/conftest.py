from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend


@pytest.fixture
async def audited(backend: Backend) -> AsyncIterator[RunningApp]:
    """Every service running; no rate limits, since these tests make many changes quickly."""
    async with run_app(backend.settings(rate_limits={"enabled": False})) as running:
        yield running


@pytest.fixture
def auditor(audited: RunningApp) -> dict[str, str]:
    return audited.as_role(Role.AUDITOR)


@pytest.fixture
def administrator(audited: RunningApp) -> dict[str, str]:
    return audited.as_role(Role.ADMINISTRATOR)
