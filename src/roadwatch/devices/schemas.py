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


class DeviceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: DeviceType | None = None
    label: str | None = Field(default=None, max_length=200)
    location: Location | None = None
    extra: dict[str, Any] | None = None

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
