"""The one settings object: environment variables ``ROADWATCH_*`` and an optional TOML file.

Defaults describe the embedded shape (SQLite, in-process bus and cache, a local folder for
objects); a production adapter is picked by the scheme of its URL and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "ROADWATCH_CONFIG"


class ConfigError(Exception):
    """A setting is missing, malformed or points at something unreachable.

    The message is one line that names the setting, so start-up can print it as it is.
    """


class AuthSettings(BaseModel):
    # Empty means: generate one and keep it in var/ (embedded shape only).
    jwt_secret: str = ""
    jwt_key_id: str = "k1"
    # Older keys still accepted for verification during a rotation: {"kid": "secret"}.
    jwt_previous_keys: dict[str, str] = Field(default_factory=dict)
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 14 * 24 * 3600
    # login lock-out: this many failures for one account within the window lock it
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_window_s: int = Field(default=900, ge=1)
    lockout_s: int = Field(default=900, ge=1)


class RateLimitRule(BaseModel):
    requests: int = Field(ge=1)
    window_s: int = Field(ge=1)


class RateLimitSettings(BaseModel):
    """Requests per client per route class; shared through the cache (Redis when distributed)."""

    enabled: bool = True
    login: RateLimitRule = RateLimitRule(requests=10, window_s=60)
    public: RateLimitRule = RateLimitRule(requests=60, window_s=60)
    writes: RateLimitRule = RateLimitRule(requests=120, window_s=60)

    def rules(self) -> dict[str, RateLimitRule]:
        return {"login": self.login, "public": self.public, "writes": self.writes}


class TelemetrySettings(BaseModel):
    # the largest body the device HTTP API takes (413 above it)
    max_payload_bytes: int = Field(default=1024 * 1024, ge=1024)
    # points stamped further ahead than this are refused: a device clock gone wrong
    max_future_s: int = Field(default=24 * 3600, ge=0)
    # a device silent this long is offline (ThingsBoard's default is 10 minutes)
    inactivity_timeout_s: int = Field(default=600, ge=1)
    # PostgreSQL: whole daily partitions older than this are dropped; 0 keeps everything
    retention_days: int = Field(default=0, ge=0)


class MqttSettings(BaseModel):
    """The device-facing MQTT endpoint (`ROADWATCH_MQTT__*`)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    # 1883 is usually taken by a real broker on the same machine; 0 picks a free port
    port: int = Field(default=1884, ge=0, le=65535)
    # the largest packet a device may send; advertised in the MQTT 5 CONNACK
    max_packet_bytes: int = Field(default=256 * 1024, ge=1024, le=268_435_455)
    # messages of one connection received but not yet stored; advertised as Receive Maximum
    receive_maximum: int = Field(default=64, ge=1, le=65_535)
    # a TCP connection that has not sent CONNECT within this time is closed
    connect_timeout_s: float = Field(default=10.0, gt=0)
    # a device that does not read what it is sent for this long is disconnected
    write_timeout_s: float = Field(default=30.0, gt=0)
    # how long a message pushed to a device at QoS 1 waits for its PUBACK
    push_ack_timeout_s: float = Field(default=10.0, gt=0)


class MqttBridgeSettings(BaseModel):
    """Taking device messages from a site's existing MQTT broker (`ROADWATCH_MQTT_BRIDGE__*`).

    Devices publish to `<topic_prefix>/<access token>/telemetry` (or `/attributes`) on that
    broker; the bridge subscribes at QoS 1 in a persistent session, so messages sent while
    roadwatch is down wait in the broker, and acknowledges each only once it is stored.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    # the broker keeps the bridge's session (and what arrives meanwhile) under this id
    client_id: str = Field(default="roadwatch-bridge", min_length=1, max_length=64)
    topic_prefix: str = Field(default="roadwatch", pattern=r"^[^#+]+$")
    # replicas sharing the work: a shared subscription `$share/<group>/...` (empty: none)
    share_group: str = Field(default="", pattern=r"^[^/#+]*$")
    keep_alive_s: int = Field(default=30, ge=5, le=3600)
    reconnect_delay_s: float = Field(default=2.0, gt=0)


class AuditSettings(BaseModel):
    """The audit service (`ROADWATCH_AUDIT__*`)."""

    # signs checkpoints of the hash chain (HMAC-SHA256); keep it away from the database's
    # administrators, or a signed checkpoint proves nothing
    checkpoint_key: str = ""
    # events recorded longer ago are archived to the object store, then pruned from the
    # database (daily, and by `roadwatch audit prune`); 0 keeps everything in the database
    retention_days: int = Field(default=0, ge=0)


class TrafficSettings(BaseModel):
    """The traffic service (`ROADWATCH_TRAFFIC__*`); docs/traffic.md says what each does."""

    # PeMS delay and lost productivity count below this speed
    delay_threshold_kmh: float = Field(default=60.0, gt=0, le=200)
    # an interval closes once every reporting station has sent readings past its end and
    # the newest reading anywhere is this much past it
    grace_s: int = Field(default=60, ge=0, le=3600)
    # a station silent this long (behind the newest reading) no longer holds intervals open
    stale_s: int = Field(default=300, ge=60, le=86_400)
    # how often the state task looks for intervals to close when it has caught up
    state_poll_s: float = Field(default=0.5, gt=0, le=60)
    # the city's time zone: days of detector health and performance start at its midnight
    timezone: str = "UTC"
    # detector health looks at this part of the local day (PeMS: 05:00-22:00)
    health_day_start_h: int = Field(default=5, ge=0, le=23)
    health_day_end_h: int = Field(default=22, ge=1, le=24)
    # incident detection: thresholds per road class laid over the documented defaults,
    # e.g. {"ring": {"occdf_pct": 12}} (docs/traffic.md, "Incident detection")
    aid_thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _window(self) -> TrafficSettings:
        if self.health_day_end_h <= self.health_day_start_h:
            raise ValueError("health_day_end_h must be after health_day_start_h")
        return self


class GatewaySettings(BaseModel):
    # service name -> base URL of the replica(s) serving it, e.g. {"devices": "http://127.0.0.1:8101"}
    upstreams: dict[str, str] = Field(default_factory=dict)
    # fallback for every service not listed above
    default_upstream: str = ""
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 30.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ROADWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    log_json: bool = True

    database_url: str = ""
    database_replica_url: str = ""
    database_echo: bool = False
    database_pool_size: int = 10
    # unset: `serve` migrates on start in the embedded shape only; distributed deployments
    # run `roadwatch migrate` once, before starting replicas that would otherwise race
    auto_migrate: bool | None = None

    bus_url: str = "memory://"
    # names the durable queues of this process's consumers, so replicas share one queue
    bus_exchange: str = "roadwatch.events"
    bus_queue_prefix: str = "roadwatch"
    cache_url: str = "memory://"
    object_store_url: str = ""

    outbox_poll_interval_s: float = 0.5
    outbox_batch_size: int = 500

    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    mqtt_bridge: MqttBridgeSettings = Field(default_factory=MqttBridgeSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    traffic: TrafficSettings = Field(default_factory=TrafficSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("bus_url")
    @classmethod
    def _bus_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("memory", "amqp", "amqps"):
            raise ValueError("must be memory:// or amqp://user:password@host:port/vhost")
        return value

    @field_validator("cache_url")
    @classmethod
    def _cache_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("memory", "redis", "rediss"):
            raise ValueError("must be memory:// or redis://host:port/db")
        return value

    @field_validator("object_store_url")
    @classmethod
    def _store_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("file", "s3"):
            raise ValueError("must be file:///path or s3://bucket?endpoint=http://host:port")
        return value

    @property
    def embedded(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def migrates_on_start(self) -> bool:
        return self.embedded if self.auto_migrate is None else self.auto_migrate

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'roadwatch.db'}"

    @property
    def resolved_object_store_url(self) -> str:
        if self.object_store_url:
            return self.object_store_url
        return f"file://{(self.var_dir / 'objects').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one line that names the setting."""
    config_file = os.environ.get(CONFIG_FILE_ENV)
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"{CONFIG_FILE_ENV}: no such file {config_file}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "ROADWATCH_" + "__".join(str(part) for part in first["loc"]).upper()
        raise ConfigError(f"{name}: {first['msg']}") from None
