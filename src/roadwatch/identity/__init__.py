"""The identity service: users, roles, login sessions and tokens, API keys."""

from fastapi import APIRouter

from roadwatch.identity.api import api_keys_router, auth_router, users_router
from roadwatch.identity.service.api_keys import resolve_api_key
from roadwatch.platform.module import Module
from roadwatch.platform.runtime import Platform

router = APIRouter()
for _part in (auth_router, users_router, api_keys_router):
    router.include_router(_part)


async def _accept_api_keys(platform: Platform) -> None:
    # routes of every service in this process may then be called with X-API-Key
    platform.api_key_resolver = resolve_api_key


module = Module(
    name="identity",
    router=router,
    prefixes=(auth_router.prefix, users_router.prefix, api_keys_router.prefix),
    startup=(_accept_api_keys,),
)
