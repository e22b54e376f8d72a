"""Anomaly rules: which device (by id, type or profile) and key, which kind, which params."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roadwatch.analytics.schemas import RuleCreate, RuleRead, RuleScope, RuleUpdate
from roadwatch.analytics.service.rules import RuleService, to_read
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep

router = APIRouter(prefix="/api/v1/analytics/rules", tags=["analytics"])

CanRead = Annotated[Principal, authorize("analytics:read")]
CanWrite = Annotated[Principal, authorize("analytics:write")]


@router.get("", operation_id="analytics_rules_list")
async def list_rules(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    scope: Annotated[RuleScope | None, Query(description="only rules of this scope")] = None,
    key: Annotated[str | None, Query(max_length=255, description="only rules of this key")] = None,
) -> Page[RuleRead]:
    items, total = await RuleService(session, principal.actor).list(
        page, scope.value if scope else None, key
    )
    return Page(
        items=[to_read(r) for r in items], total=total, limit=page.limit, offset=page.offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="analytics_rules_create")
async def create_rule(
    data: RuleCreate, session: SessionDep, principal: CanWrite, response: Response
) -> RuleRead:
    rule = await RuleService(session, principal.actor).create(data)
    response.headers["Location"] = f"{router.prefix}/{rule.id}"
    return to_read(rule)


@router.get("/{rule_id}", operation_id="analytics_rules_get")
async def get_rule(rule_id: str, session: SessionDep, principal: CanRead) -> RuleRead:
    return to_read(await RuleService(session, principal.actor).get(rule_id))


@router.patch("/{rule_id}", operation_id="analytics_rules_update")
async def update_rule(
    rule_id: str, data: RuleUpdate, session: SessionDep, principal: CanWrite
) -> RuleRead:
    return to_read(await RuleService(session, principal.actor).update(rule_id, data))


@router.delete(
    "/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="analytics_rules_delete"
)
async def delete_rule(rule_id: str, session: SessionDep, principal: CanWrite) -> None:
    await RuleService(session, principal.actor).delete(rule_id)
