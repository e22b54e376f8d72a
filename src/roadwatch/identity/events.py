"""Events the identity service publishes: its asynchronous public contract.

User events carry the user's full state after the change (never a password hash or any
secret), so the audit service can rebuild every account from its events alone.
"""

from __future__ import annotations

from typing import Any

from roadwatch.platform.events import Event, new_event

USER_CREATED = "identity.user.created"
USER_UPDATED = "identity.user.updated"
USER_ROLE_CHANGED = "identity.user.role_changed"
USER_PASSWORD_CHANGED = "identity.user.password_changed"  # noqa: S105 (an event name)
USER_DEACTIVATED = "identity.user.deactivated"
USER_LOCKED_OUT = "identity.user.locked_out"
LOGIN_SUCCEEDED = "identity.login.succeeded"
LOGIN_FAILED = "identity.login.failed"
SESSION_REVOKED = "identity.session.revoked"
API_KEY_CREATED = "identity.api_key.created"
API_KEY_REVOKED = "identity.api_key.revoked"

USER = "user"
SESSION = "session"
LOGIN = "login"
API_KEY = "api_key"


def user_event(type: str, user_id: str, state: dict[str, Any], actor: str, **extra: Any) -> Event:
    return new_event(type, USER, user_id, {"state": state, **extra}, actor=actor)


def session_event(type: str, session_id: str, payload: dict[str, Any], actor: str) -> Event:
    return new_event(type, SESSION, session_id, payload, actor=actor)


def login_event(type: str, email: str, payload: dict[str, Any], actor: str) -> Event:
    # keyed by the address tried: a failure may name no existing user
    return new_event(type, LOGIN, email, {"email": email, **payload}, actor=actor)


def api_key_event(type: str, key_id: str, state: dict[str, Any], actor: str) -> Event:
    return new_event(type, API_KEY, key_id, {"state": state}, actor=actor)
