"""The routing table: URL prefix -> service (from the registry) -> upstream base URL (settings)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from roadwatch.config import ConfigError, GatewaySettings
from roadwatch.platform.module import Module

DEFAULT = "default"


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str


def route_table(modules: Iterable[Module]) -> list[Route]:
    """Every service's prefixes, longest first, so a nested prefix wins over its parent."""
    owners: dict[str, str] = {}
    for module in modules:
        for prefix in module.prefixes:
            prefix = "/" + prefix.strip("/")
            if owners.setdefault(prefix, module.name) != module.name:
                raise ValueError(f"prefix {prefix} claimed by {owners[prefix]} and {module.name}")
    routes = [Route(prefix, service) for prefix, service in owners.items()]
    return sorted(routes, key=lambda r: len(r.prefix), reverse=True)


def upstream_for(settings: GatewaySettings, service: str) -> str | None:
    """The base URL serving `service`, or None when neither it nor a default is configured."""
    return settings.upstreams.get(service) or settings.default_upstream or None


def configured_upstreams(settings: GatewaySettings, services: Iterable[str]) -> dict[str, str]:
    """name -> base URL of every upstream the gateway may call; raises ConfigError if bad."""
    known = set(services)
    unknown = sorted(set(settings.upstreams) - known)
    if unknown:
        raise ConfigError(
            f"ROADWATCH_GATEWAY__UPSTREAMS: unknown service(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    named = {**settings.upstreams}
    if settings.default_upstream:
        named[DEFAULT] = settings.default_upstream
    for name, url in named.items():
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            setting = "DEFAULT_UPSTREAM" if name == DEFAULT else "UPSTREAMS"
            raise ConfigError(
                f"ROADWATCH_GATEWAY__{setting}: {name} must be an http(s)://host:port URL, "
                f"got {url!r}"
            )
    return named
