"""Start-up from the command line: settings from env or TOML, one clear line when wrong."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.server import free_port, roadwatch_process
from tests.support.cli import roadwatch


def test_version_prints_the_package_version() -> None:
    from roadwatch import __version__

    result = roadwatch("version")
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


def test_a_database_on_a_closed_port_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = roadwatch(
        "serve",
        env={
            "ROADWATCH_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x",
            "ROADWATCH_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("roadwatch: ROADWATCH_DATABASE_URL: cannot reach")
    assert "Traceback" not in result.stderr


def test_a_malformed_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    for name, value in [
        ("ROADWATCH_BUS_URL", "kafka://x"),
        ("ROADWATCH_PORT", "eighty"),
        ("ROADWATCH_CACHE_URL", "memcached://x"),
    ]:
        result = roadwatch("serve", env={name: value, "ROADWATCH_VAR_DIR": str(tmp_path)})
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"roadwatch: {name}:"), result.stderr


def test_an_unreachable_broker_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = roadwatch(
        "serve",
        env={
            "ROADWATCH_BUS_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
            "ROADWATCH_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode != 0
    assert result.stderr.startswith("roadwatch: ROADWATCH_BUS_URL: cannot reach amqp://***@")
    assert "guest:guest" not in result.stderr


def test_an_unknown_service_is_named(tmp_path: Path) -> None:
    result = roadwatch(
        "serve", "--services", "devices,teleport", env={"ROADWATCH_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "teleport" in result.stderr


def test_settings_come_from_a_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "roadwatch.toml"
    config.write_text(f'var_dir = "{tmp_path / "from-toml"}"\nlog_level = "WARNING"\n')
    env = {"ROADWATCH_CONFIG": str(config), "ROADWATCH_LOG_LEVEL": "INFO"}
    with roadwatch_process(["serve"], env, tmp_path / "server.log"):
        assert (tmp_path / "from-toml" / "roadwatch.db").exists()
    missing = roadwatch("serve", env={"ROADWATCH_CONFIG": str(tmp_path / "nope.toml")})
    assert missing.returncode != 0
    assert "ROADWATCH_CONFIG" in missing.stderr


def test_postgres_is_migrated_by_the_migrate_command_not_by_serve(
    empty_pg_database: str, tmp_path: Path
) -> None:
    from tests.fixtures.services import pg_url

    env = {
        "ROADWATCH_DATABASE_URL": pg_url(empty_pg_database),
        "ROADWATCH_AUTH__JWT_SECRET": "s" * 40,
        "ROADWATCH_VAR_DIR": str(tmp_path),
    }
    unmigrated = roadwatch("serve", "--services", "devices", env=env)
    assert unmigrated.returncode != 0
    assert unmigrated.stderr.startswith(
        "roadwatch: ROADWATCH_DATABASE_URL: schema is at revision none"
    )
    assert "run `roadwatch migrate` first" in unmigrated.stderr
    assert len(unmigrated.stderr.strip().splitlines()) == 1

    result = roadwatch("migrate", env=env)
    assert result.returncode == 0, result.stderr
    with roadwatch_process(
        ["serve", "--services", "devices"], env, tmp_path / "server.log"
    ) as server:
        import httpx

        spec = httpx.get(f"{server.url}/openapi.json").json()
        assert any(path.startswith("/api/v1/devices") for path in spec["paths"])
