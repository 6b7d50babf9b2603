"""Intake's HTTP routes: thin, they authenticate, validate and call `commands` (and `imports`)."""

import asyncio
import json
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from services.intake import commands, imports, store
from services.intake.domain.decidim import SOURCE_RE
from services.intake.domain.registry import SLUG, ConsultationIn, TerritoryIn
from services.intake.ratelimit import RateLimiter
from shared.auth import bearer_token, hash_api_key
from shared.contribution import ContributionBatch, ContributionIn
from shared.csv_safety import write_csv
from shared.frameworks import shipped_frameworks
from shared.http import Problem, is_network_admin, network_admin

KEY_CACHE_SECONDS = 5.0
KEY_CACHE_MAX = 10_000
EXPORT_MAX_ROWS = 100_000

router = APIRouter()
_key_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}


def runtime_of(request: Request):
    return request.app.state.runtime


def rate_limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        settings = runtime_of(request).settings
        limiter = request.app.state.rate_limiter = RateLimiter(settings.intake_rate_per_s,
                                                               settings.intake_rate_burst)
    return limiter


async def territory_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """The territory whose key signs the request (a short cache keeps revocation within seconds), within
    its rate limit."""
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
        if len(_key_cache) >= KEY_CACHE_MAX:  # forged keys must not grow the cache without bound
            _key_cache.clear()
        _key_cache[key_hash] = (now, territory)
    if territory is None:
        raise Problem(401, "Invalid credentials", "this key is unknown or revoked",
                      headers={"WWW-Authenticate": "Bearer"})
    wait_s = rate_limiter(request).acquire(territory["id"])
    if wait_s:
        raise Problem(429, "Too many requests",
                      f"territory {territory['id']!r} is above its rate limit; retry after the delay given",
                      headers={"Retry-After": RateLimiter.retry_after_header(wait_s)})
    return territory


async def caller_may_read(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict | None:
    """A territory key, or the admin key (None)."""
    if is_network_admin(request, authorization):
        return None
    return await territory_caller(request, authorization)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    too_large = Problem(413, "Request too large", f"at most {limit} bytes per request")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def read_json(request: Request) -> Any:
    body = await read_body(request, runtime_of(request).settings.intake_max_request_bytes)
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
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
    except RecursionError as exc:
        raise Problem(400, "Malformed JSON", "nested too deeply") from exc


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
    batch = isinstance(payload, dict) and "contributions" in payload
    try:
        items = ContributionBatch.model_validate(payload).contributions if batch else [_single.validate_python(payload)]
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    runtime = runtime_of(request)
    result = await commands.submit(runtime.db, territory, items, batch=batch, relay=runtime.relay)
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
    if row["erased_at"] is not None:
        body["erasure"] = {"id": str(row["erasure_id"]), "erased_at": row["erased_at"].isoformat()}
    return body


@router.post("/v1/contributions/{contribution_id}/erasure", tags=["administration"],
             dependencies=[Depends(network_admin)],
             summary="Erase a contribution at its author's request (GDPR Art. 17): its text leaves every service, "
                     "its decisions stay, partners receive contribution.withdrawn")
async def erase_contribution(contribution_id: str, request: Request):
    erased = await commands.erase(runtime_of(request).db, contribution_id, "network-admin") \
        if _is_uuid(contribution_id) else None
    if erased is None:
        raise Problem(404, "Unknown contribution", f"no contribution {contribution_id!r}")
    return {"id": contribution_id, "external_id": erased["external_id"], "territory": erased["territory"],
            "status": "erased", "erasure": {"id": erased["erasure_id"], "erased_at": erased["erased_at"].isoformat(),
                                            "erased_by": erased["erased_by"]}}


IMPORT_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file", "format"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "The exported file"},
            "format": {"type": "string", "enum": ["decidim", "csv"]},
            "mapping": {"type": "string", "description": "JSON: Decidim {category: axis} or "
                        "{category_to_axis, resource, locales}; CSV {field: column} or "
                        "{columns, value_maps, defaults, delimiter}"},
            "consultation": {"type": "string", "pattern": SLUG,
                             "description": "For rows naming none (default: the territory's open one)"},
            "source": {"type": "string", "pattern": SOURCE_RE.pattern, "description": "Decidim: the instance "
                       "the export comes from (its host name), for an export without url or component/id column; "
                       "ids are unique only within one instance"},
            "row_offset": {"type": "integer", "minimum": 0, "description": "Added to the row numbers reported "
                           "(for a file sent in chunks)"},
        },
    }}},
}


@router.post("/v1/imports", tags=["contributions"], summary="Import a Decidim or CSV export",
             openapi_extra={"requestBody": IMPORT_BODY},
             responses={200: {"description": "{accepted, duplicates, errors: [{row, detail}], skipped, notes}"},
                        422: {"description": "Unreadable file or invalid mapping: nothing written"}})
async def import_file(request: Request, territory: Annotated[dict, Depends(territory_caller)]):
    runtime = runtime_of(request)
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        raise Problem(415, "Unsupported media type", "send multipart/form-data with 'file' and 'format'")
    # the body limit is the service's (`intake_max_import_bytes` on this path); the file part is spooled
    # to disk by the form parser, and its records counted from there before it is read whole
    form = await request.form(max_files=1, max_fields=10, max_part_size=1024 * 1024)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Problem(422, "No file", "send the exported file in the multipart field 'file'")
    fmt = form.get("format")
    if fmt not in ("decidim", "csv"):
        raise Problem(422, "Unknown format", f"format must be 'decidim' or 'csv', not {fmt!r}")
    mapping = None
    if isinstance(form.get("mapping"), str) and form["mapping"].strip():
        try:
            mapping = json.loads(form["mapping"])
        except json.JSONDecodeError as exc:
            raise Problem(422, "Invalid mapping", f"mapping is not JSON: {exc.msg} (column {exc.colno})") from exc
    consultation = form.get("consultation") or None
    if consultation is not None and (not isinstance(consultation, str) or not _matches(SLUG, consultation)):
        raise Problem(422, "Invalid consultation", "consultation must be a consultation id (a slug)")
    source = form.get("source") or None
    if source is not None and (not isinstance(source, str) or not SOURCE_RE.match(source)):
        raise Problem(422, "Invalid source", "source must name the Decidim instance, such as its host name")
    row_offset = form.get("row_offset") or "0"
    if not isinstance(row_offset, str) or not row_offset.isdigit() or len(row_offset) > 9:
        raise Problem(422, "Invalid row_offset", "row_offset must be a non-negative integer")
    max_rows = runtime.settings.intake_max_import_rows
    if await asyncio.to_thread(imports.more_records_than, upload.file, max_rows):
        raise Problem(413, "Too many rows", f"at most {max_rows} rows per import; send the file in parts "
                      "(palabre import does, --chunk-rows)", type_="https://palabre.org/problems/too-many-rows")
    data = await upload.read()
    parsed_mapping = imports.read_mapping(fmt, mapping, data)
    result = await asyncio.to_thread(imports.parse_file, fmt, data, parsed_mapping, territory=territory,
                                     secret_key=runtime.settings.secret_key, source=source)
    return await imports.import_parsed(runtime.db, territory, result, consultation=consultation,
                                       row_offset=int(row_offset))


@router.get("/v1/exports/contributions.csv", tags=["contributions"], response_class=Response,
            summary="The territory's contributions and what became of them, as CSV (formula-safe)")
async def export_contributions(request: Request, territory: Annotated[dict, Depends(territory_caller)],
                               limit: Annotated[int, Query(ge=1, le=EXPORT_MAX_ROWS)] = EXPORT_MAX_ROWS):
    rows = await store.export_rows(runtime_of(request).db, territory["id"], limit)
    columns = ["id", "external_id", "consultation", "axis", "kind", "status", "submitted_at", "received_at",
               "decided_at", "published_title", "published_text"]
    return Response(write_csv(rows, columns), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{territory["id"]}-contributions.csv"'})


@router.post("/v1/territories", status_code=201, tags=["administration"], dependencies=[Depends(network_admin)],
             summary="Register a territory; its API key (and NATS credentials) are shown once")
async def create_territory(territory: TerritoryIn, request: Request):
    runtime = runtime_of(request)
    return await commands.register_territory(runtime.db, territory, runtime.settings)


@router.get("/v1/territories", tags=["administration"], dependencies=[Depends(network_admin)])
async def list_territories(request: Request):
    rows = await store.list_territories(runtime_of(request).db)
    return {"territories": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                            for row in rows]}


@router.post("/v1/territories/{territory}/keys", status_code=201, tags=["administration"],
             dependencies=[Depends(network_admin)], summary="Issue a new key; optionally revoke the others")
async def rotate_territory_key(territory: str, request: Request, revoke_others: bool = False):
    key = await commands.rotate_key(runtime_of(request).db, territory, revoke_others=revoke_others)
    _key_cache.clear()
    return {"territory": territory, "api_key": key, "revoked_others": revoke_others}


@router.delete("/v1/territories/{territory}/keys", tags=["administration"], dependencies=[Depends(network_admin)],
               summary="Revoke every key of a territory")
async def revoke_territory_keys(territory: str, request: Request):
    async with runtime_of(request).db.acquire() as conn:
        if await store.get_territory(conn, territory) is None:
            raise Problem(404, "Unknown territory", f"no territory {territory!r}")
        revoked = await store.revoke_api_keys(conn, territory)
    _key_cache.clear()
    return {"territory": territory, "revoked": revoked}


@router.post("/v1/territories/{territory}/nats-credentials", status_code=201, tags=["administration"],
             dependencies=[Depends(network_admin)],
             summary="New NATS credentials for bus intake (shown once; the old password stops working)")
async def rotate_nats_credentials(territory: str, request: Request):
    runtime = runtime_of(request)
    return {"territory": territory,
            "nats": await commands.rotate_nats_credentials(runtime.db, runtime.settings, territory)}


@router.delete("/v1/territories/{territory}/nats-credentials", tags=["administration"],
               dependencies=[Depends(network_admin)], summary="Revoke the territory's NATS credentials")
async def revoke_nats_credentials(territory: str, request: Request):
    runtime = runtime_of(request)
    revoked = await commands.revoke_nats_credentials(runtime.db, runtime.settings, territory)
    return {"territory": territory, "revoked": revoked}


@router.post("/v1/consultations", status_code=201, tags=["administration"], dependencies=[Depends(network_admin)],
             summary="Open a consultation, with a shipped framework's id or a framework object")
async def create_consultation(consultation: ConsultationIn, request: Request):
    return await commands.open_consultation(runtime_of(request).db, consultation)


@router.post("/v1/consultations/{consultation}/close", tags=["administration"],
             dependencies=[Depends(network_admin)], summary="Close a consultation (no more contributions)")
async def close_consultation(consultation: str, request: Request):
    return await commands.close_consultation(runtime_of(request).db, consultation)


@router.get("/v1/frameworks", tags=["administration"], summary="The frameworks shipped with Palabre")
async def list_frameworks():
    return {"frameworks": [framework.model_dump() for framework in shipped_frameworks().values()]}


def document_request_bodies(app: FastAPI) -> None:
    """`POST /v1/contributions` reads its body itself (size limit, precise errors): describe it in OpenAPI."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        body = TypeAdapter(ContributionIn | ContributionBatch).json_schema(
            ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(body.pop("$defs", {}))
        schema["paths"]["/v1/contributions"]["post"]["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": body}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _matches(pattern: str, value: str) -> bool:
    import re

    return re.match(pattern, value) is not None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
