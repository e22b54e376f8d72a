"""`roadwatch users create-admin`: the first administrator of a new installation."""

from __future__ import annotations

from tests.factories.identity import login
from tests.fixtures.app import run_app
from tests.fixtures.backends import Backend
from tests.support.cli import roadwatch

PASSWORD = "first-admin-passphrase"


async def test_the_first_administrator_is_created_from_the_command_line(
    backend: Backend,
) -> None:
    created = roadwatch(
        "users",
        "create-admin",
        "--email",
        "Chief@City.example",
        "--password-stdin",
        env=backend.env(),
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    # it says what it made and nothing secret
    assert created.stdout.startswith("administrator chief@city.example created (id ")
    assert PASSWORD not in created.stdout + created.stderr

    async with run_app(backend.settings()) as running:
        response = await login(running.client, "chief@city.example", PASSWORD)
        assert response.status_code == 200, response.text
        me = await running.client.get(
            "/api/v1/users/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        )
        assert me.json()["role"] == "administrator"


def test_a_weak_password_or_a_taken_address_is_one_line(backend: Backend) -> None:
    weak = roadwatch(
        "users",
        "create-admin",
        "--email",
        "a@city.example",
        "--password-stdin",
        env=backend.env(),
        stdin="admin\n",
    )
    assert weak.returncode == 2
    assert weak.stderr == "roadwatch: password: must be at least 10 characters long\n"

    args = ("users", "create-admin", "--email", "b@city.example", "--password-stdin")
    assert roadwatch(*args, env=backend.env(), stdin=PASSWORD).returncode == 0
    taken = roadwatch(*args, env=backend.env(), stdin=PASSWORD)
    assert taken.returncode == 2
    assert taken.stderr.startswith("roadwatch: email: an account with 'b@city.example'")
    assert len(taken.stderr.splitlines()) == 1
