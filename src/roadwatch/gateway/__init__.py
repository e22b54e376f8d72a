"""The gateway of the distributed shape: routes each request by URL prefix to its service.

It knows services only through the registry (roadwatch.modules): their names and prefixes.
It refuses bad bearer access tokens itself, so they never reach a service.
"""

from roadwatch.gateway.app import create_gateway_app
from roadwatch.gateway.auth import require_cache

__all__ = ["create_gateway_app", "require_cache"]
