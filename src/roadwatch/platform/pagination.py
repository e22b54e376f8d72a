"""The one way every list endpoint pages and sorts: limit/offset over a stable order."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from roadwatch.platform.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 1000


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0
    # comma-separated fields, '-' for descending: "-created_at,name"
    sort: str | None = None


def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
    sort: Annotated[
        str | None, Query(description="comma-separated fields, '-' prefix for descending")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, offset=offset, sort=sort)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    params: PageParams,
    sortable: dict[str, InstrumentedAttribute[Any]],
    tiebreak: InstrumentedAttribute[Any],
    default_sort: str = "",
) -> tuple[list[Any], int]:
    """Run `statement` sorted and paged; the tiebreak column (the primary key) keeps the
    order stable when sort keys repeat, so pages never skip or repeat a row."""
    order = []
    for field in filter(None, (params.sort or default_sort).split(",")):
        name = field.strip().lstrip("-")
        if name not in sortable:
            raise InvalidInput(
                f"sort: unknown field {name!r}; one of {', '.join(sorted(sortable))}",
            )
        column = sortable[name]
        order.append(column.desc() if field.strip().startswith("-") else column.asc())
    order.append(tiebreak.asc())
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(
        statement.order_by(*order).limit(params.limit).offset(params.offset)
    )
    return list(rows.all()), int(total or 0)
