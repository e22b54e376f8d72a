"""The gateway of the distributed shape: routes each request by URL prefix to its service.

It knows services only through the registry (roadwatch.modules): their names and prefixes.
"""

from roadwatch.gateway.app import create_gateway_app

__all__ = ["create_gateway_app"]
