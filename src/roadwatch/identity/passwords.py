"""Password hashing (Argon2id) and the password policy.

Hashing runs in a worker thread: Argon2 is deliberately slow and would stall every other
request on the event loop.
"""

from __future__ import annotations

import asyncio
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from roadwatch.identity.common_passwords import COMMON_PASSWORDS
from roadwatch.platform.errors import InvalidInput

MIN_LENGTH = 10
_hasher = PasswordHasher()
# compared against when the account does not exist, so an unknown address costs the same
# time as a wrong password and the two cannot be told apart
_DUMMY_HASH = _hasher.hash("roadwatch-dummy-password-for-timing")


def check_policy(password: str, field: str, email: str = "") -> None:
    """Raise InvalidInput naming `field` when the password is too weak."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"{field}: must be at least {MIN_LENGTH} characters long", field=field)
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise InvalidInput(f"{field}: is a commonly used password; choose another", field=field)
    if email and hmac.compare_digest(lowered, email.lower()):
        raise InvalidInput(f"{field}: must not be the email address", field=field)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    # argon2 compares the digests in constant time
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash, spend the same time and say no."""
    if stored_hash is None:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        return False
    return await asyncio.to_thread(_verify, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
