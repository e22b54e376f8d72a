"""What each route of an application declares about who may call it, read from its
dependencies, so a test can call every route and check the answer against the declaration."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from roadwatch.platform.auth import Authorize, Public
from roadwatch.platform.live.endpoint import live as live_endpoint

_PATH_PARAM = re.compile(r"{([^}:]+)(:[^}]*)?}")


class RouteNotWalkable(AssertionError):
    """The application has a route kind the walk cannot call yet: extend the walk first."""


@dataclass(frozen=True)
class Access:
    """A route's declaration: open to anyone, or for an authenticated caller holding all of
    `permissions` (none: any authenticated caller)."""

    public: bool
    permissions: frozenset[str] = frozenset()

    def __str__(self) -> str:
        if self.public:
            return "public()"
        if not self.permissions:
            return "authenticated()"
        return "authorize(" + ", ".join(sorted(self.permissions)) + ")"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Callable[..., Any]
    # None: the route declares neither authorize()/authenticated() nor public()
    access: Access | None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, value: str) -> str:
        """The path with every parameter set to `value`."""
        return _PATH_PARAM.sub(value, self.path)

    def calls(self, name: str) -> bool:
        """Whether the handler's own code refers to `name` (not what the functions it calls do)."""
        code = getattr(self.handler, "__code__", None)
        return code is not None and name in code.co_names


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def declared_access(dependant: Dependant) -> Access | None:
    guards = [call for call in _calls(dependant) if isinstance(call, Authorize)]
    if guards:
        # every Authorize in the tree runs, so a caller needs all their permissions
        needed = {guard.permission for guard in guards if guard.permission is not None}
        return Access(public=False, permissions=frozenset(needed))
    if any(isinstance(call, Public) for call in _calls(dependant)):
        return Access(public=True)
    return None


def endpoints(app: FastAPI) -> list[Endpoint]:
    """One Endpoint per method of every API route, in the application's routing order.

    Plain Starlette routes (/docs, /openapi.json, /metrics, mounts) are left out: they are not
    service routes and carry no FastAPI dependencies to declare anything with.
    """
    found: list[Endpoint] = []
    # iter_route_contexts resolves included routers, so paths and dependant trees carry the
    # prefixes and router-level dependencies the application really serves them with
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIWebSocketRoute):
            if route.endpoint is live_endpoint:
                # authenticates on connect and checks each channel's permission on subscribe:
                # tests/platform/test_live.py walks every channel with every role
                continue
            raise RouteNotWalkable(
                f"WebSocket route {context.path}: the route walk cannot call it yet"
            )
        if not isinstance(route, APIRoute):
            continue
        access = declared_access(context.dependant)
        for method in sorted(context.methods or ()):
            found.append(Endpoint(method, str(context.path), route.endpoint, access))
    return found


def undeclared(found: list[Endpoint]) -> list[str]:
    return [str(endpoint) for endpoint in found if endpoint.access is None]
