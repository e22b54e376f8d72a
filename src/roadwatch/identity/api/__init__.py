"""HTTP routes of the identity service, one router per URL prefix."""

from roadwatch.identity.api.api_keys import router as api_keys_router
from roadwatch.identity.api.auth import router as auth_router
from roadwatch.identity.api.users import router as users_router

__all__ = ["api_keys_router", "auth_router", "users_router"]
