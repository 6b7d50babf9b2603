"""What every service's HTTP side shares: RFC 9457 problems, health, readiness, metrics, AsyncAPI."""

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.auth import bearer_token, hash_api_key
from shared.errors import Conflict, DomainError, Gone, Invalid, NotAllowed, NotFound, Unavailable

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://palabre.org/problems/"
VALIDATION_PROBLEM = PROBLEM_TYPES + "validation"

# The one mapping from what a use case refuses to the status answered.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    Gone: 410,
    Invalid: 422,
    Unavailable: 503,
}


def problem_of(error: DomainError) -> tuple[int, str]:
    """The status and problem type of a domain error (a named refusal has a type of its own)."""
    status = next((DOMAIN_STATUS[kind] for kind in type(error).__mro__ if kind in DOMAIN_STATUS), 400)
    return status, PROBLEM_TYPES + error.kind if error.kind else "about:blank"


class Problem(Exception):
    """An error answered as an RFC 9457 problem document."""

    def __init__(self, status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = headers
        self.extra = extra


NETWORK_ADMIN = "network-admin"


def is_network_admin(request: Request, authorization: str | None) -> bool:
    """Whether the Authorization header carries the network-admin key as a Bearer token."""
    token = bearer_token(authorization)
    expected = request.app.state.runtime.settings.admin_key
    return bool(token and expected and hmac.compare_digest(hash_api_key(token), hash_api_key(expected)))


async def network_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The dependency of the routes only the network admin may call; returns who acts."""
    if not is_network_admin(request, authorization):
        raise Problem(401, "Network-admin key required", "send the network-admin key as a Bearer token",
                      headers={"WWW-Authenticate": "Bearer"})
    return NETWORK_ADMIN


def problem_response(status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
                     instance: str | None = None, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        errors.append({
            "pointer": "/" + "/".join(str(part) for part in error.get("loc", ()) if part != "body"),
            "detail": error.get("msg", "invalid"),
            "type": error.get("type"),
        })
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, type_=exc.type,
                                instance=request.url.path, headers=exc.headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        status, problem_type = problem_of(exc)
        return problem_response(status, exc.title, exc.detail, type_=problem_type, instance=request.url.path,
                                **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(error["type"] == "json_invalid" for error in errors):
            return problem_response(400, "Malformed JSON", errors[0]["detail"], instance=request.url.path,
                                    type_="https://palabre.org/problems/malformed-json")
        detail = "; ".join(f"{e['pointer'] or '/'}: {e['detail']}" for e in errors[:10])
        return problem_response(422, "Invalid request", detail, instance=request.url.path,
                                type_=VALIDATION_PROBLEM, errors=errors[:100])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), instance=request.url.path,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(500, "Internal error", "The error was logged; retry later.",
                                instance=request.url.path)


class Metrics:
    """Per-service Prometheus registry with the request and event counters every service exposes."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter("palabre_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                     registry=self.registry)
        self.http_latency = Histogram("palabre_http_request_seconds", "HTTP latency", ["route"],
                                      registry=self.registry)
        self.events_processed = Counter("palabre_events_processed_total", "Bus events processed",
                                        ["consumer"], registry=self.registry)
        self.events_dead_lettered = Counter("palabre_events_dead_lettered_total", "Events dead-lettered",
                                            ["consumer"], registry=self.registry)
        self.batch_messages = Histogram("palabre_batch_messages", "Messages per fetched batch", ["consumer"],
                                        buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), registry=self.registry)
        self.batch_seconds = Histogram("palabre_batch_seconds", "Time to settle a fetched batch (process, "
                                       "commit, ack)", ["consumer"], registry=self.registry)
        self.service = service


def install_operational_routes(app: FastAPI, *, metrics: Metrics, alive: Callable[[], dict[str, bool]],
                               ready: Callable[[], Awaitable[dict[str, bool]]],
                               asyncapi: Callable[[], dict[str, Any]]) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """503 when the process cannot recover by itself (the liveness probe restarts it)."""
        checks = alive()
        healthy = all(checks.values())
        return JSONResponse({"status": "ok" if healthy else "failing", "service": metrics.service,
                             "checks": checks}, status_code=200 if healthy else 503)

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        checks = await ready()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/docs/asyncapi", include_in_schema=False)
    async def asyncapi_document() -> JSONResponse:
        return JSONResponse(asyncapi())

    app.add_middleware(RequestMetrics, metrics=metrics)


class RequestMetrics:
    """Counts requests by route and status and times them. Plain ASGI: Starlette's `BaseHTTPMiddleware`
    streams every response through a memory channel, which cost a tenth of intake's CPU per request."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http_requests.labels(scope["method"], path, str(status)).inc()
            self.metrics.http_latency.labels(path).observe(time.perf_counter() - started)


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "Request too large")
        self.limit = limit


class BodyLimit:
    """Refuses a request body above `limit` bytes (`limits` by path) with a 413 problem: at once when its
    Content-Length says so, before any authentication; otherwise as soon as the bytes read pass it, so an
    endless chunked body is never held whole."""

    def __init__(self, app, limit: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.limits = limits or {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _too_large(limit, scope, send)
            return
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def noting_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, noting_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit, scope, send)


async def _too_large(limit: int, scope, send) -> None:
    response = problem_response(413, "Request too large", f"at most {limit} bytes per request",
                                instance=scope["path"], headers={"Connection": "close"})
    await response(scope, _no_body, send)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.disconnect"}


def install_body_limit(app: FastAPI, limit: int, limits: dict[str, int] | None = None) -> None:
    """Outermost, so that an oversize body is refused before routing, authentication or reading it."""
    app.add_middleware(BodyLimit, limit=limit, limits=limits)
