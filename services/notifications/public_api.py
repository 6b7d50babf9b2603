"""Notifications' public HTTP routes (no key): pull feeds, published items, open-data downloads."""

import re
import uuid
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from services.notifications import store
from services.notifications.domain import feeds, open_data
from services.notifications.handlers import links_of
from shared.frameworks import DEFAULT_FRAMEWORK_ID
from shared.http import Problem

router = APIRouter()

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
FEED_TYPES = {"json": "application/feed+json", "atom": "application/atom+xml; charset=utf-8"}
DEFAULT_PAGE = 50
UNCLASSIFIED = "non-classe"
SCOPE_TITLES = {"network": "le réseau", "countries": "le pays {key}", "territories": "le territoire {key}",
                "frameworks": "le cadre {key}", "framework-axes": "l'axe {axis} du cadre {key}",
                "framework-unclassified": "le cadre {key}, sur aucun de ses axes"}


def _split(file: str, formats: set[str]) -> tuple[str, str]:
    name, dot, extension = file.rpartition(".")
    if not dot or extension not in formats:
        raise Problem(404, "Unknown format", f"use one of {', '.join('.' + f for f in sorted(formats))}")
    return name, extension


def _check_key(scope: str, key: str) -> str:
    if scope == "countries":
        if not COUNTRY.fullmatch(key):
            raise Problem(404, "Unknown country", f"{key!r} is not an ISO 3166-1 alpha-2 code")
        return key.upper()
    if not SLUG.fullmatch(key):
        raise Problem(404, "Unknown feed", f"{key!r} is not a valid identifier")
    return key


async def _feed(request: Request, scope: str, keys: list[str], fmt: str, before: int | None, limit: int,
                if_none_match: str | None, if_modified_since: str | None) -> Response:
    runtime = request.app.state.runtime
    base = runtime.settings.base_url_of("notifications")
    items = await store.feed_page(runtime.db, scope, keys, before=before, limit=limit)
    query = f"?before={before}" if before is not None else ""
    if limit != DEFAULT_PAGE:
        query += ("&" if query else "?") + f"limit={limit}"
    path = request.url.path
    next_url = None
    if len(items) == limit:
        next_url = f"{base}{path}?before={items[-1]['seq']}" + (f"&limit={limit}" if limit != DEFAULT_PAGE else "")
    title = "Palabre — contributions publiées dans " + SCOPE_TITLES[scope].format(key=keys[0] if keys else "",
                                                                                   axis=keys[-1] if keys else "")
    page = feeds.FeedPage(title=title, home_url=base + path.rsplit(".", 1)[0], self_url=f"{base}{path}{query}",
                          next_url=next_url, items=items, item_url=links_of(runtime).item("{id}"))
    page_etag = feeds.etag(fmt, page)
    modified = feeds.last_modified(items)
    headers = {"ETag": page_etag, "Last-Modified": feeds.http_date(modified), "Cache-Control": "public, max-age=30"}
    since = None
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            since = None
    if feeds.not_modified(page_etag, modified, if_none_match, since):
        return Response(status_code=304, headers=headers)
    if fmt == "json":
        return JSONResponse(feeds.json_feed(page), media_type=FEED_TYPES["json"], headers=headers)
    return Response(feeds.atom_feed(page), media_type=FEED_TYPES["atom"], headers=headers)


PageBefore = Annotated[int | None, Query(ge=1, description="Items older than this feed position (from next_url)")]
PageLimit = Annotated[int, Query(ge=1, le=200)]


@router.get("/feeds/network.{fmt}", tags=["feeds"], summary="The network's published contributions (JSON Feed or Atom)")
async def network_feed(fmt: str, request: Request, before: PageBefore = None, limit: PageLimit = DEFAULT_PAGE,
                       if_none_match: Annotated[str | None, Header()] = None,
                       if_modified_since: Annotated[str | None, Header()] = None):
    if fmt not in FEED_TYPES:
        raise Problem(404, "Unknown format", "use .json (JSON Feed 1.1) or .atom")
    return await _feed(request, "network", [], fmt, before, limit, if_none_match, if_modified_since)


@router.get("/feeds/{scope}/{file}", tags=["feeds"],
            summary="Published contributions of a country, a territory, a framework, or an axis of the network's "
                    "common framework (`{key}.json` or `{key}.atom`)",
            description="`/feeds/frameworks/{framework}.*`: the contributions synthesis placed in that framework "
                        "(on any of its axes, or on none). `/feeds/axes/{axis}.*` is "
                        f"`/feeds/frameworks/{DEFAULT_FRAMEWORK_ID}/axes/{{axis}}.*`: the axes of the common "
                        "framework of the call, never another framework's axis of the same name.")
async def scoped_feed(scope: str, file: str, request: Request, before: PageBefore = None,
                      limit: PageLimit = DEFAULT_PAGE, if_none_match: Annotated[str | None, Header()] = None,
                      if_modified_since: Annotated[str | None, Header()] = None):
    if scope not in ("countries", "territories", "frameworks", "axes"):
        raise Problem(404, "Unknown feed", "feeds exist for network, countries, territories, frameworks and axes")
    key, fmt = _split(file, set(FEED_TYPES))
    key = _check_key(scope, key)
    if scope == "axes":
        return await _axis_feed(request, DEFAULT_FRAMEWORK_ID, key, fmt, before, limit, if_none_match,
                                if_modified_since)
    if scope == "frameworks":
        await _framework_axes(request, key)
    else:
        await _known(request, {"countries": "country", "territories": "territory"}[scope], key)
    return await _feed(request, scope, [key], fmt, before, limit, if_none_match, if_modified_since)


@router.get("/feeds/frameworks/{framework}/axes/{file}", tags=["feeds"],
            summary="Published contributions synthesis placed on an axis of a framework (`{axis}.json` or "
                    "`{axis}.atom`)",
            description="The axis synthesis placed each contribution on (from its source, its classifier or a "
                        "person, as `GET /v1/contributions/{id}` on synthesis tells), not the one the source gave; "
                        "a contribution moved by a recompute or a person moves feed. `non-classe`: the "
                        "contributions on none of the framework's axes.")
async def framework_axis_feed(framework: str, file: str, request: Request, before: PageBefore = None,
                              limit: PageLimit = DEFAULT_PAGE, if_none_match: Annotated[str | None, Header()] = None,
                              if_modified_since: Annotated[str | None, Header()] = None):
    axis, fmt = _split(file, set(FEED_TYPES))
    return await _axis_feed(request, _check_key("frameworks", framework), _check_key("axes", axis), fmt, before,
                            limit, if_none_match, if_modified_since)


async def _axis_feed(request: Request, framework: str, axis: str, fmt: str, before: int | None, limit: int,
                     if_none_match: str | None, if_modified_since: str | None) -> Response:
    if axis != UNCLASSIFIED and axis not in await _framework_axes(request, framework):
        raise Problem(404, "Unknown axis", f"the framework {framework!r} has no axis {axis!r}")
    if axis == UNCLASSIFIED:
        scope, keys = "framework-unclassified", [framework]
    else:
        scope, keys = "framework-axes", [framework, axis]
    return await _feed(request, scope, keys, fmt, before, limit, if_none_match, if_modified_since)


async def _framework_axes(request: Request, framework: str) -> set[str]:
    """The axes of a framework the network uses; a 404 for one it does not."""
    axes = await store.framework_axes(request.app.state.runtime.db, framework)
    if axes is None:
        raise Problem(404, "Unknown framework", f"no consultation of the network uses a framework {framework!r}")
    return axes


async def _known(request: Request, scope: str, key: str) -> None:
    """An unknown territory or country is a 404, not an empty feed a typo would hide behind."""
    if not await store.scope_known(request.app.state.runtime.db, scope, key):
        raise Problem(404, f"Unknown {scope}", f"no {scope} {key!r} in the network")


@router.get("/v1/items/{contribution_id}", tags=["feeds"], summary="One published contribution, in full",
            responses={404: {"description": "No such published contribution"},
                       410: {"description": "Withdrawn: rejected after its publication, or erased"}})
async def published_item(contribution_id: str, request: Request):
    try:
        contribution_id = str(uuid.UUID(contribution_id))
    except ValueError:
        raise Problem(404, "Unknown item", f"no published contribution {contribution_id!r}") from None
    pool = request.app.state.runtime.db
    item = await store.feed_item(pool, contribution_id)
    if item is None:
        if withdrawn := await store.withdrawal(pool, contribution_id):
            raise Problem(410, "Withdrawn", "this contribution is no longer published; delete any copy of it",
                          decision_id=withdrawn["decision_id"], withdrawn_at=withdrawn["withdrawn_at"].isoformat(),
                          reason="erased" if withdrawn["erased"] else "decision")
        raise Problem(404, "Unknown item", f"no published contribution {contribution_id!r}")
    return {"id": str(item["contribution_id"]), "territory": item["territory"],
            "country": (item["country"] or "").strip(), "consultation": item["consultation"],
            "framework": item["framework"], "axis": item["axis"],
            "kind": item["kind"], "title": item["title"], "text": item["text"],
            "published_at": item["occurred_at"].isoformat()}


# --- open data -------------------------------------------------------------------------------------

OPEN_DATA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
EXPORT_CHUNK = 1000


def _open_scope(scope: str, key: str | None) -> tuple[str, str]:
    """('network'|'country'|'territory', key) from the URL's scope."""
    if scope == "network":
        return "network", "network"
    if scope == "countries":
        return "country", _check_key("countries", key or "")
    if scope == "territories":
        return "territory", _check_key("territories", key or "")
    raise Problem(404, "Unknown scope", "open data exists for network, countries and territories")


async def _contributions_export(request: Request, scope: str, key: str, fmt: str) -> StreamingResponse:
    pool = request.app.state.runtime.db
    licences = await store.licences(pool)
    if scope == "territory":
        stated = [open_data.licence_of(key, licences)]
    else:
        stated = sorted(set(licences.values()) | {open_data.DEFAULT_LICENCE})
    sql = store.open_contributions_query(scope)
    args = [] if scope == "network" else [key]

    async def body() -> AsyncIterator[str]:
        if fmt == "csv":
            yield open_data.csv_header(open_data.CONTRIBUTION_COLUMNS)
        else:
            yield open_data.json_head("contributions", scope, key, stated)
        first = True
        async with pool.acquire() as conn, conn.transaction():
            chunk: list[dict[str, Any]] = []
            async for row in conn.cursor(sql, *args, prefetch=EXPORT_CHUNK):
                chunk.append(open_data.public_row(dict(row)))
                if len(chunk) == EXPORT_CHUNK:
                    yield _chunk(chunk, fmt, first)
                    first, chunk = False, []
            if chunk:
                yield _chunk(chunk, fmt, first)
        if fmt == "json":
            yield open_data.JSON_TAIL

    filename = f"palabre-contributions-{key}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if link := open_data.licence_header(stated):
        headers["Link"] = link
    return StreamingResponse(body(), media_type=OPEN_DATA_TYPES[fmt], headers=headers)


def _chunk(rows: list[dict[str, Any]], fmt: str, first: bool) -> str:
    if fmt == "csv":
        return open_data.csv_lines(rows, open_data.CONTRIBUTION_COLUMNS)
    return open_data.json_items(rows, first=first)


async def _syntheses_export(request: Request, scope: str, key: str, fmt: str) -> Response:
    runtime = request.app.state.runtime
    licences = await store.licences(runtime.db)
    licence = open_data.licence_of(key, licences) if scope == "territory" else open_data.DEFAULT_LICENCE
    versions = [{**row, "country": (row["country"] or "").strip() or None,
                 "computed_at": row["computed_at"].isoformat(), "licence": licence}
                for row in await store.synthesis_versions(runtime.db, scope, key)]
    headers = {"Content-Disposition": f'attachment; filename="palabre-syntheses-{key}.{fmt}"'}
    if link := open_data.licence_header([licence]):
        headers["Link"] = link
    if fmt == "csv":
        text = open_data.csv_header(open_data.SYNTHESIS_COLUMNS) + open_data.csv_lines(
            versions, open_data.SYNTHESIS_COLUMNS)
        return Response(text, media_type=OPEN_DATA_TYPES["csv"], headers=headers)
    # The versions come from the events received; the document itself is the synthesis service's to
    # serve, so the export links to it rather than fetching it while the caller waits.
    return JSONResponse({"kind": "syntheses", "scope": scope, "key": key,
                         "licences": [{"name": licence, "url": open_data.KNOWN_LICENCE_URLS.get(licence)}],
                         "versions": versions,
                         "current_document_url": links_of(runtime).synthesis_document(scope, key)},
                        headers=headers)


@router.get("/v1/open-data/network/{file}", tags=["open data"],
            summary="The network's published contributions or synthesis versions (`contributions.csv|json`, "
                    "`syntheses.csv|json`)")
async def network_open_data(file: str, request: Request):
    return await _open_data(request, "network", None, file)


@router.get("/v1/open-data/{scope}/{key}/{file}", tags=["open data"],
            summary="A country's or a territory's published contributions or synthesis versions")
async def scoped_open_data(scope: str, key: str, file: str, request: Request):
    if scope not in ("countries", "territories"):
        raise Problem(404, "Unknown scope", "open data exists for network, countries and territories")
    return await _open_data(request, scope, key, file)


async def _open_data(request: Request, url_scope: str, key: str | None, file: str) -> Response:
    scope, key = _open_scope(url_scope, key)
    name, fmt = _split(file, set(OPEN_DATA_TYPES))
    if scope != "network":
        await _known(request, scope, key)
    if name == "contributions":
        return await _contributions_export(request, scope, key, fmt)
    if name == "syntheses":
        return await _syntheses_export(request, scope, key, fmt)
    raise Problem(404, "Unknown dataset", "datasets: contributions, syntheses")
