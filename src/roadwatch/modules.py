"""The service registry: every service that `roadwatch serve` can run, in start order."""

from __future__ import annotations

from roadwatch.analytics import module as analytics
from roadwatch.audit import module as audit
from roadwatch.devices import module as devices
from roadwatch.identity import module as identity
from roadwatch.platform.module import Module
from roadwatch.telemetry import module as telemetry
from roadwatch.traffic import module as traffic

ALL: tuple[Module, ...] = (identity, devices, telemetry, analytics, traffic, audit)
BY_NAME: dict[str, Module] = {m.name: m for m in ALL}


class UnknownService(ValueError):
    pass


def select(names: list[str] | None) -> list[Module]:
    """The modules named (all when None) plus what they depend on, dependencies first."""
    if not names:
        return list(ALL)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise UnknownService(
            f"unknown service(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}"
        )
    wanted: list[str] = []

    def visit(name: str) -> None:
        if name in wanted:
            return
        for dep in BY_NAME[name].depends_on:
            visit(dep)
        wanted.append(name)

    for name in names:
        visit(name)
    return [BY_NAME[n] for n in wanted]
