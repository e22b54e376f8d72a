"""Which segment feeds which: derived from shared nodes when a network does not say."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Directed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def from_node(self) -> str: ...
    @property
    def to_node(self) -> str: ...


def derived_links(segment: Directed, others: Iterable[Directed]) -> tuple[list[str], list[str]]:
    """(upstream, downstream) of `segment` among `others` by their nodes: a segment ending
    where this one starts feeds it, one starting where it ends is fed by it. The reverse
    twin of a two-way road (the U-turn) is left out, as drivers cannot turn there."""
    upstream: list[str] = []
    downstream: list[str] = []
    for other in others:
        if other.id == segment.id:
            continue
        twin = other.from_node == segment.to_node and other.to_node == segment.from_node
        if twin:
            continue
        if other.to_node == segment.from_node:
            upstream.append(other.id)
        if other.from_node == segment.to_node:
            downstream.append(other.id)
    return sorted(upstream), sorted(downstream)
