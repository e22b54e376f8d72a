"""Fixtures of the traffic service's tests: the app on each backend (`running`, `admin`
from tests/fixtures) and a caller per role."""

from __future__ import annotations

import pytest

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp


@pytest.fixture
def dispatcher(running: RunningApp) -> dict[str, str]:
    return running.as_role(Role.DISPATCHER)


@pytest.fixture
def analyst(running: RunningApp) -> dict[str, str]:
    return running.as_role(Role.ANALYST)
