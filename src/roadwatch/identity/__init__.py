"""The identity service: users, roles, login sessions and tokens, API keys."""

import asyncio

from fastapi import APIRouter

from roadwatch.identity.api import api_keys_router, auth_router, users_router
from roadwatch.identity.service.api_keys import resolve_api_key, sync_api_keys
from roadwatch.platform.module import Module
from roadwatch.platform.runtime import Platform

router = APIRouter()
for _part in (auth_router, users_router, api_keys_router):
    router.include_router(_part)


# how often live API keys are rewritten to the cache and their uses collected
API_KEY_SYNC_S = 30.0


async def _accept_api_keys(platform: Platform) -> None:
    # in this process keys are checked against the table itself; elsewhere, via the cache
    platform.api_key_resolver = resolve_api_key
    await sync_api_keys(platform)


async def _keep_api_keys_in_cache(platform: Platform) -> None:
    while True:
        await asyncio.sleep(API_KEY_SYNC_S)
        await sync_api_keys(platform)


module = Module(
    name="identity",
    router=router,
    prefixes=(auth_router.prefix, users_router.prefix, api_keys_router.prefix),
    startup=(_accept_api_keys,),
    tasks=(_keep_api_keys_in_cache,),
)
