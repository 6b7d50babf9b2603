"""Intake's HTTP routes: thin, they authenticate, validate and call `commands`."""

import hmac
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from services.intake import commands, store
from services.intake.domain.contribution import ContributionBatch, ContributionIn
from services.intake.domain.registry import ConsultationIn, TerritoryIn
from shared.auth import bearer_token, hash_api_key
from shared.frameworks import shipped_frameworks
from shared.http import Problem

MAX_REQUEST_BYTES = 8 * 1024 * 1024
KEY_CACHE_SECONDS = 5.0

router = APIRouter()
_key_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}


def runtime_of(request: Request):
    return request.app.state.runtime


async def territory_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """The territory whose key signs the request (a short cache keeps revocation within seconds)."""
    token = bearer_token(authorization)
    if token is None:
        raise Problem(401, "Missing credentials", "send 'Authorization: Bearer <territory key>'",
                      headers={"WWW-Authenticate": "Bearer"})
    key_hash = hash_api_key(token)
    cached = _key_cache.get(key_hash)
    now = time.monotonic()
    if cached and now - cached[0] < KEY_CACHE_SECONDS:
        territory = cached[1]
    else:
        territory = await store.territory_for_key(runtime_of(request).db, key_hash)
        _key_cache[key_hash] = (now, territory)
    if territory is None:
        raise Problem(401, "Invalid credentials", "this key is unknown or revoked",
                      headers={"WWW-Authenticate": "Bearer"})
    return territory


async def admin_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = bearer_token(authorization)
    expected = runtime_of(request).settings.admin_key
    if token is None or not expected or not hmac.compare_digest(hash_api_key(token), hash_api_key(expected)):
        raise Problem(401, "Network-admin key required", "this route needs the network-admin key",
                      headers={"WWW-Authenticate": "Bearer"})


async def caller_may_read(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict | None:
    """A territory key, or the admin key (None)."""
    token = bearer_token(authorization)
    expected = runtime_of(request).settings.admin_key
    if token and expected and hmac.compare_digest(hash_api_key(token), hash_api_key(expected)):
        return None
    return await territory_caller(request, authorization)


async def read_json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_REQUEST_BYTES:
        raise Problem(413, "Request too large", f"at most {MAX_REQUEST_BYTES} bytes per request")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise Problem(413, "Request too large", f"at most {MAX_REQUEST_BYTES} bytes per request")
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type not in ("application/json", "application/cloudevents+json") and not content_type.endswith("+json"):
        raise Problem(415, "Unsupported media type", "send application/json")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Invalid encoding", f"the body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Problem(400, "Malformed JSON", f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc


def validation_problem(exc: ValidationError, prefix: str = "") -> Problem:
    errors = [
        {"pointer": prefix + "/" + "/".join(str(p) for p in error["loc"]), "detail": error["msg"],
         "type": error["type"]}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:10])
    return Problem(422, "Invalid contribution", detail, type_="https://palabre.org/problems/validation",
                   errors=errors[:200])


_single = TypeAdapter(ContributionIn)


@router.post("/v1/contributions", status_code=202, tags=["contributions"],
             summary="Submit one contribution, or a batch of up to 1,000",
             responses={202: {"description": "Accepted and duplicates"}, 422: {"description": "Invalid"}})
async def submit_contributions(request: Request, territory: Annotated[dict, Depends(territory_caller)]):
    payload = await read_json(request)
    try:
        if isinstance(payload, dict) and "contributions" in payload:
            items = ContributionBatch.model_validate(payload).contributions
        else:
            items = [_single.validate_python(payload)]
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    result = await commands.submit(runtime_of(request).db, territory, items)
    return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates}, status_code=202)


@router.get("/v1/contributions/{contribution_id}", tags=["contributions"],
            summary="What became of a contribution, and why")
async def contribution_status(contribution_id: str, request: Request,
                              caller: Annotated[dict | None, Depends(caller_may_read)]):
    row = None
    if _is_uuid(contribution_id):
        row = await store.get_contribution(runtime_of(request).db, contribution_id)
    if row is None or (caller is not None and row["territory"] != caller["id"]):
        raise Problem(404, "Unknown contribution", f"no contribution {contribution_id!r} for this key")
    body: dict[str, Any] = {"id": str(row["id"]), "external_id": row["external_id"],
                            "territory": row["territory"], "status": row["status"]}
    if row["decision"] is not None:
        body["decision"] = row["decision"]
    if row["published_text"] is not None:
        body["published_text"] = row["published_text"]
        if row["published_title"] is not None:
            body["published_title"] = row["published_title"]
    return body


@router.post("/v1/territories", status_code=201, tags=["administration"], dependencies=[Depends(admin_caller)],
             summary="Register a territory; its API key is shown once")
async def create_territory(territory: TerritoryIn, request: Request):
    return await commands.register_territory(runtime_of(request).db, territory)


@router.get("/v1/territories", tags=["administration"], dependencies=[Depends(admin_caller)])
async def list_territories(request: Request):
    rows = await store.list_territories(runtime_of(request).db)
    return {"territories": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                            for row in rows]}


@router.post("/v1/territories/{territory}/keys", status_code=201, tags=["administration"],
             dependencies=[Depends(admin_caller)], summary="Issue a new key; optionally revoke the others")
async def rotate_territory_key(territory: str, request: Request, revoke_others: bool = False):
    key = await commands.rotate_key(runtime_of(request).db, territory, revoke_others=revoke_others)
    _key_cache.clear()
    return {"territory": territory, "api_key": key, "revoked_others": revoke_others}


@router.delete("/v1/territories/{territory}/keys", tags=["administration"], dependencies=[Depends(admin_caller)],
               summary="Revoke every key of a territory")
async def revoke_territory_keys(territory: str, request: Request):
    async with runtime_of(request).db.acquire() as conn:
        revoked = await store.revoke_api_keys(conn, territory)
    _key_cache.clear()
    return {"territory": territory, "revoked": revoked}


@router.post("/v1/consultations", status_code=201, tags=["administration"], dependencies=[Depends(admin_caller)])
async def create_consultation(consultation: ConsultationIn, request: Request):
    return await commands.open_consultation(runtime_of(request).db, consultation)


@router.get("/v1/frameworks", tags=["administration"])
async def list_frameworks():
    return {"frameworks": [framework.model_dump() for framework in shipped_frameworks().values()]}


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
