"""Rule configuration: create, change, delete, list; parameters checked against the kind."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics import events
from roadwatch.analytics.models import Rule, RuleState
from roadwatch.analytics.repository import RuleRepository
from roadwatch.analytics.rules import KINDS
from roadwatch.analytics.schemas import RuleCreate, RuleRead, RuleUpdate
from roadwatch.platform.errors import InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate


def to_read(rule: Rule) -> RuleRead:
    return RuleRead.model_validate(rule, from_attributes=True)


def checked_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters with defaults filled in, or a 422 naming each wrong one."""
    try:
        model = KINDS[kind].params.model_validate(params)
    except ValidationError as exc:
        problems = [
            {
                "field": "params." + ".".join(str(p) for p in err["loc"]),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        raise InvalidInput(
            "; ".join(f"{p['field']}: {p['message']}" for p in problems), errors=problems
        ) from None
    return model.model_dump(mode="json")


class RuleService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.repo = RuleRepository(session)
        self.actor = actor

    async def _publish(self, type: str, rule: Rule) -> None:
        await self.session.flush()
        await self.session.refresh(rule)
        state = to_read(rule).model_dump(mode="json")
        publish(self.session, events.rule_event(type, rule.id, state, self.actor))

    async def get(self, rule_id: str) -> Rule:
        rule = await self.session.get(Rule, rule_id)
        if rule is None:
            raise NotFound(f"rule {rule_id} not found")
        return rule

    async def list(
        self, params: PageParams, scope: str | None, key: str | None
    ) -> tuple[list[Rule], int]:
        return await paginate(
            self.session,
            self.repo.query(scope, key),
            params,
            self.repo.sortable,
            tiebreak=Rule.id,
            default_sort="created_at",
        )

    async def create(self, data: RuleCreate) -> Rule:
        rule = Rule(
            name=data.name,
            scope=data.scope.value,
            scope_value=data.scope_value,
            key=data.key,
            kind=data.kind,
            params=checked_params(data.kind, data.params),
            alarm_type=data.alarm_type or data.name,
            severity=data.severity.value,
            enabled=data.enabled,
        )
        self.session.add(rule)
        await self._publish(events.RULE_CREATED, rule)
        return rule

    async def update(self, rule_id: str, data: RuleUpdate) -> Rule:
        rule = await self.get(rule_id)
        if data.name is not None:
            rule.name = data.name
        if data.params is not None:
            rule.params = checked_params(rule.kind, data.params)
            # what was learnt under the old parameters no longer applies
            await self.session.execute(delete(RuleState).where(RuleState.rule_id == rule.id))
        if data.severity is not None:
            rule.severity = data.severity.value
        if data.enabled is not None:
            rule.enabled = data.enabled
        await self._publish(events.RULE_UPDATED, rule)
        return rule

    async def delete(self, rule_id: str) -> None:
        rule = await self.get(rule_id)
        await self._publish(events.RULE_DELETED, rule)
        await self.session.execute(delete(RuleState).where(RuleState.rule_id == rule.id))
        await self.session.delete(rule)
