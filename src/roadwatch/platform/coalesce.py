"""Coalescing: many callers asking for the same kind of work at once share one run of it.

At most one run is in flight; whatever is submitted meanwhile waits and goes into the next
run together. Each caller still gets its own answer (or the run's exception) and waits no
longer than one run beyond the one in flight. Used where thousands of devices each need a
small database round trip (a commit, a token lookup, an activity write): the number of
round trips then follows the database's speed, not the number of devices.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[Sequence[R]]],
        max_weight: int = 10_000,
        weight: Callable[[T], int] = lambda _: 1,
    ) -> None:
        """`run` takes the items of one run, in arrival order, and returns one answer per
        item in the same order; a run takes whole items up to `max_weight` (at least one)."""
        self._run = run
        self._max_weight = max_weight
        self._weight = weight
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._running: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        waiter: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        # read by the run even when the caller is gone, so it is never reported unread
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append((item, waiter))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        # a caller that gives up (its connection closed) does not cancel the others' run
        return await asyncio.shield(waiter)

    async def _drain(self) -> None:
        while self._queue:
            items: list[T] = []
            waiters: list[asyncio.Future[R]] = []
            taken = 0
            while self._queue and (
                not items or taken + self._weight(self._queue[0][0]) <= self._max_weight
            ):
                item, waiter = self._queue.popleft()
                items.append(item)
                waiters.append(waiter)
                taken += self._weight(item)
            try:
                answers = await self._run(items)
            except Exception as exc:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            for waiter, answer in zip(waiters, answers, strict=True):
                if not waiter.done():
                    waiter.set_result(answer)
