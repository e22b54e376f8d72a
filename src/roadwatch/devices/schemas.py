"""Request and response shapes of the devices service (its public contract with events.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DeviceType(StrEnum):
    INDUCTION_LOOP = "induction_loop"
    SPEED_SENSOR = "speed_sensor"
    CAMERA = "camera"
    WEATHER_STATION = "weather_station"
    PATROL_GPS = "patrol_gps"
    TRAFFIC_LIGHT_CONTROLLER = "traffic_light_controller"
    GENERIC = "generic"


class Location(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


# what a device can carry as its MQTT user name and in a URL path, as ThingsBoard allows
AccessToken = Annotated[str, Field(pattern=r"^[A-Za-z0-9._~-]{1,64}$")]


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # given for a device already flashed with one; generated when absent
    access_token: AccessToken | None = None
    name: str = Field(min_length=1, max_length=200)
    type: DeviceType = DeviceType.GENERIC
    label: str = Field(default="", max_length=200)
    location: Location | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    profile_id: str | None = Field(default=None, max_length=36)


class DeviceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: DeviceType | None = None
    label: str | None = Field(default=None, max_length=200)
    location: Location | None = None
    extra: dict[str, Any] | None = None
    # null detaches the device from its profile
    profile_id: str | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _not_empty(self) -> DeviceUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    type: DeviceType
    label: str
    location: Location | None
    extra: dict[str, Any]
    profile_id: str | None
    active: bool
    has_credentials: bool
    created_at: datetime
    updated_at: datetime


class DeviceCreated(DeviceRead):
    # shown here and on rotation only: the registry keeps just its hash
    access_token: str


class CredentialsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: AccessToken | None = None


class Credentials(BaseModel):
    device_id: str
    access_token: str


# one bulk request at most; larger fleets go in several requests, each all-or-nothing
MAX_BULK_DEVICES = 10_000


class DeviceBulkCreate(BaseModel):
    """The JSON body of a bulk provisioning request (CSV takes the same fields as columns)."""

    model_config = ConfigDict(extra="forbid")

    devices: list[DeviceCreate] = Field(min_length=1, max_length=MAX_BULK_DEVICES)


class ProvisionedDevice(BaseModel):
    id: str
    name: str
    # shown in this answer only: the registry keeps just its hash
    access_token: str


class DeviceBulkCreated(BaseModel):
    created: int
    devices: list[ProvisionedDevice]


class Protocol(StrEnum):
    HTTP = "http"
    MQTT = "mqtt"


class ProvisionStrategy(StrEnum):
    # no self-provisioning with this profile
    DISABLED = "disabled"
    # a device that knows the profile's key and secret registers itself under a new name
    ALLOW_CREATE_NEW = "allow_create_new"
    # only devices registered beforehand (by name, with this profile) may fetch credentials
    CHECK_PRE_PROVISIONED = "check_pre_provisioned"


class TelemetryKey(BaseModel):
    """A key devices of the profile send; numeric values outside [min, max] are refused."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=255)
    unit: str = Field(default="", max_length=40)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TelemetryKey:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.key}: min {self.min} is above max {self.max}")
        return self


class TransportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the device API protocols devices of the profile may use
    protocols: list[Protocol] = Field(
        default_factory=lambda: [Protocol.HTTP, Protocol.MQTT], min_length=1
    )


MAX_ALARM_RULES = 100
# a minimum keeps the offline sweep from flapping devices that report every few seconds
MIN_INACTIVITY_TIMEOUT_S = 10


class _ProfileFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _distinct_keys(self) -> _ProfileFields:
        keys = [k.key for k in getattr(self, "telemetry_keys", None) or []]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"telemetry_keys: {', '.join(repeated)} given more than once")
        return self


class ProfileCreate(_ProfileFields):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)
    telemetry_keys: list[TelemetryKey] = Field(default_factory=list, max_length=500)
    inactivity_timeout_s: int | None = Field(
        default=None, ge=MIN_INACTIVITY_TIMEOUT_S, le=30 * 24 * 3600
    )
    # opaque here: the analytics service defines and checks their shape
    alarm_rules: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ALARM_RULES)
    transport: TransportSettings = Field(default_factory=TransportSettings)
    provision_strategy: ProvisionStrategy = ProvisionStrategy.DISABLED
    provision_key: str | None = Field(default=None, min_length=8, max_length=100)
    provision_secret: str | None = Field(default=None, min_length=8, max_length=100)


class ProfileUpdate(_ProfileFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    telemetry_keys: list[TelemetryKey] | None = Field(default=None, max_length=500)
    # null: the platform's default
    inactivity_timeout_s: int | None = Field(
        default=None, ge=MIN_INACTIVITY_TIMEOUT_S, le=30 * 24 * 3600
    )
    alarm_rules: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_ALARM_RULES)
    transport: TransportSettings | None = None
    provision_strategy: ProvisionStrategy | None = None
    provision_key: str | None = Field(default=None, min_length=8, max_length=100)
    provision_secret: str | None = Field(default=None, min_length=8, max_length=100)

    @model_validator(mode="after")
    def _not_empty(self) -> ProfileUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class ProfileRead(BaseModel):
    id: str
    name: str
    description: str
    telemetry_keys: list[TelemetryKey]
    inactivity_timeout_s: int | None
    alarm_rules: list[dict[str, Any]]
    transport: TransportSettings
    provision_strategy: ProvisionStrategy
    provision_key: str | None
    # the secret itself is never shown again
    has_provision_secret: bool
    created_at: datetime
    updated_at: datetime


class ProvisionRequest(BaseModel):
    """ThingsBoard's device self-provisioning request, field names as its SDKs send them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    device_name: str = Field(alias="deviceName", min_length=1, max_length=200)
    provision_key: str = Field(alias="provisionDeviceKey", min_length=1, max_length=100)
    provision_secret: str = Field(alias="provisionDeviceSecret", min_length=1, max_length=100)
    credentials_type: str = Field(alias="credentialsType", default="ACCESS_TOKEN")
    # a token the device already holds (credentialsType ACCESS_TOKEN)
    token: AccessToken | None = None


class ProvisionResponse(BaseModel):
    """ThingsBoard's answer to a provisioning request (serialised by alias)."""

    model_config = ConfigDict(populate_by_name=True)

    status: str = "SUCCESS"
    credentials_type: str = Field(alias="credentialsType", default="ACCESS_TOKEN")
    credentials_value: str = Field(alias="credentialsValue")
    device_id: str = Field(alias="deviceId")
