from tests.fixtures.app import admin, running
from tests.fixtures.backends import backend, distributed_backend, embedded_backend
from tests.fixtures.services import empty_pg_database
from tests.fixtures.tcp_proxy import tcp_proxy

__all__ = [
    "admin",
    "backend",
    "distributed_backend",
    "embedded_backend",
    "empty_pg_database",
    "running",
    "tcp_proxy",
]
