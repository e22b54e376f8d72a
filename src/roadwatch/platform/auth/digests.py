"""The one way a stored secret (device token, refresh token, API key) is kept: its SHA-256.

These secrets are random and long, so a fast hash is enough (a slow one protects guessable
passwords only, see identity/passwords.py), and a lookup by digest stays one index probe.
"""

from __future__ import annotations

import hashlib


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
