"""Use cases of the audit service, split by what they do."""

from roadwatch.audit.service.integrity import Integrity, Verification
from roadwatch.audit.service.queries import AuditQueries, to_read
from roadwatch.audit.service.recording import Recorder

__all__ = ["AuditQueries", "Integrity", "Recorder", "Verification", "to_read"]
