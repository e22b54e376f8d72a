from tests.fixtures.app import admin, running
from tests.fixtures.backends import backend
from tests.fixtures.services import pg_database

__all__ = ["admin", "backend", "pg_database", "running"]
