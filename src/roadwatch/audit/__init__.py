"""The audit service: an append-only, hash-chained store of every domain event; queries,
exports, and the state of any entity at any past time."""

from roadwatch.audit.api import router
from roadwatch.audit.handlers import GROUP, PATTERNS, record, record_many
from roadwatch.audit.tasks import keep_retention
from roadwatch.platform.module import EventHandler, Module

module = Module(
    name="audit",
    router=router,
    prefixes=(router.prefix,),
    handlers=(EventHandler(GROUP, PATTERNS, record, handle_many=record_many),),
    tasks=(keep_retention,),
)
