"""Request and response shapes of the identity service (its public contract with events.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from roadwatch.platform.auth import PERMISSIONS, Role

# deliberately loose: one @, a dot in the domain, no spaces; delivery is the real test
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _scope(value: str) -> str:
    if value not in PERMISSIONS:
        raise ValueError(f"unknown permission {value!r}; one of {', '.join(sorted(PERMISSIONS))}")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
# the policy (length, common passwords) is checked by the service, which names the field
Password = Annotated[str, Field(min_length=1, max_length=256)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
Phone = Annotated[str, Field(max_length=40, pattern=r"^[+0-9 ()-]*$")]
Scope = Annotated[str, AfterValidator(_scope)]


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(default="", max_length=200)
    phone: Phone = ""
    language: Language = "en"
    unit: str | None = Field(default=None, max_length=60)
    badge: str | None = Field(default=None, max_length=60)


class UserRegister(Profile):
    """A citizen signing up; the role is always citizen."""

    email: Email
    password: Password


class UserCreate(Profile):
    """A staff account made by an administrator."""

    email: Email
    password: Password
    role: Role


class UserUpdate(BaseModel):
    """Profile fields; the role and the active flag have their own endpoints."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    phone: Phone | None = None
    language: Language | None = None
    unit: str | None = Field(default=None, max_length=60)
    badge: str | None = Field(default=None, max_length=60)

    @model_validator(mode="after")
    def _not_empty(self) -> UserUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    role: Role
    full_name: str
    phone: str
    language: str
    unit: str | None
    badge: str | None
    active: bool
    last_login_at: datetime | None
    deactivated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth2 names the scheme)
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200)


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    client: str
    user_agent: str
    created_at: datetime
    last_refreshed_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1, max_length=len(PERMISSIONS))
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _aware_future(self) -> ApiKeyCreate:
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at: give a timezone, e.g. 2030-01-01T00:00:00Z")
        return self


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    # the only time the key itself is shown; only its hash is kept
    key: str
