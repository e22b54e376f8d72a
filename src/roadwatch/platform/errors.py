"""One error hierarchy for every service, and the handlers that render it as RFC 9457.

Services raise these domain errors; they never build HTTP responses for failures themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from roadwatch.platform.context import correlation_id_var

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    title = "Bad request"
    # a stable machine-readable kind, part of the `type` URI
    kind = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"
    kind = "invalid-input"


class Unauthenticated(DomainError):
    status = 401
    title = "Not authenticated"
    kind = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    kind = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    kind = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    kind = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    kind = "payload-too-large"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    kind = "rate-limited"

    def __init__(self, detail: str, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    """A dependency (database, bus, cache, object store, upstream) cannot be reached now."""

    status = 503
    title = "Service unavailable"
    kind = "unavailable"

    def __init__(self, detail: str, retry_after_s: int = 5, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = retry_after_s


def problem(
    status: int,
    title: str,
    detail: str,
    kind: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://roadwatch.dev/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    correlation_id = correlation_id_var.get()
    if correlation_id:
        body["correlation_id"] = correlation_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "location", "lon") -> "location.lon"; the first part says where, not what
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {}
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        exc.kind,
        instance=request.url.path,
        headers=headers,
        **exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(err["loc"]), "message": err["msg"], "in": str(err["loc"][0])}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(
        422, "Invalid input", detail, "invalid-input", instance=request.url.path, errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 401: "Not authenticated"}
    return problem(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        str(exc.detail),
        f"http-{exc.status_code}",
        instance=request.url.path,
        headers=dict(exc.headers or {}),
    )


# Failures that mean "a dependency is unreachable right now", not "the code is wrong".
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    OSError,
)


# SQLite reports a wrong schema as an OperationalError too; that is a bug to see as a 500,
# not an outage to wait out
_SCHEMA_FAULTS = ("no such table", "no such column", "has no column", "syntax error")


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError) and any(
        fault in str(exc.orig) for fault in _SCHEMA_FAULTS
    ):
        return False
    return isinstance(exc, _UNAVAILABLE)


async def _dependency_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    log.warning("dependency unavailable on %s %s: %s", request.method, request.url.path, exc)
    return problem(
        503,
        "Service unavailable",
        "a dependency of this service is unreachable; retry shortly",
        "unavailable",
        request.url.path,
        headers={"Retry-After": "5"},
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # services check names and references before writing; a constraint that still refuses
    # the commit means another request took the name (or removed the row) in between
    log.warning("constraint refused a write on %s %s: %s", request.method, request.url.path, exc)
    return problem(
        409,
        "Conflict",
        "another change made at the same moment conflicts with this one (a name or id "
        "already taken, or a referenced item removed); read the current state and retry",
        "conflict",
        request.url.path,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500, "Internal error", "an unexpected error occurred", "internal", request.url.path
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # registered per class: Starlette re-raises whatever reaches the catch-all Exception
    # handler, so dependency failures get their own handlers to end as a clean 503
    for exc_class in (*_UNAVAILABLE, sa_exc.DBAPIError):
        app.add_exception_handler(exc_class, _dependency_error)
    app.add_exception_handler(sa_exc.IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)
