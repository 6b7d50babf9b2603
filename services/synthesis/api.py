"""Synthesis's JSON API (DESIGN §5) and its exports (Markdown, PDF). Axis corrections are moderation's:
the synthesis applies the `contribution.axis-corrected` events it receives."""

import asyncio
import importlib.util
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.synthesis import store
from services.synthesis.domain.export import manifesto_markdown, manifesto_pdf, to_csv, to_markdown, to_pdf
from services.synthesis.domain.models import FrameworkSection, Synthesis
from services.synthesis.views import computed_synthesis, framework_sections, synthesis_view
from shared.http import Problem, network_admin

router = APIRouter()


def _pool(request: Request):
    return request.app.state.runtime.db


async def resolve_scope(request: Request, level: str, key: str | None) -> tuple[str, str]:
    """(scope, key) for a path, or a 404 problem: a country is an ISO code, a territory must be known."""
    if level == "network":
        return "network", "network"
    if level == "country":
        if key is None or len(key) != 2 or not key.isalpha():
            raise Problem(404, "Unknown country", "use an ISO 3166-1 alpha-2 code such as 'fr'")
        return "country", key.upper()
    if level == "consultation":
        if not await store.consultation_exists(_pool(request), key):
            raise Problem(404, "Unknown consultation", f"no consultation {key!r}")
        return "consultation", key
    if level == "framework":
        if not await store.framework_exists(_pool(request), key):
            raise Problem(404, "Unknown framework", f"no consultation uses a framework {key!r}")
        return "framework", key
    if not await store.territory_exists(_pool(request), key):
        raise Problem(404, "Unknown territory", f"no territory {key!r}")
    return "territory", key


@router.get("/v1/syntheses/network", tags=["syntheses"], summary="What the whole network says, axis by axis")
async def network_synthesis(request: Request):
    return await synthesis_view(_pool(request), "network", "network")


@router.get("/v1/syntheses/countries/{country}", tags=["syntheses"], summary="What a country's territories say")
async def country_synthesis(country: str, request: Request):
    return await synthesis_view(_pool(request), *await resolve_scope(request, "country", country))


@router.get("/v1/syntheses/territories/{territory}", tags=["syntheses"], summary="What a territory says")
async def territory_synthesis(territory: str, request: Request):
    return await synthesis_view(_pool(request), *await resolve_scope(request, "territory", territory))


@router.get("/v1/syntheses/consultations/{consultation}", tags=["syntheses"],
            summary="What a consultation's contributions say, on its framework's axes")
async def consultation_synthesis(consultation: str, request: Request):
    return await synthesis_view(_pool(request), *await resolve_scope(request, "consultation", consultation))


@router.get("/v1/syntheses/frameworks/{framework}", tags=["syntheses"],
            summary="What the network says on one framework's axes, across the territories that use it")
async def framework_synthesis(framework: str, request: Request):
    return await synthesis_view(_pool(request), *await resolve_scope(request, "framework", framework))


MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


def _document(content: str | bytes, fmt: str, name: str) -> Response:
    disposition = "attachment" if fmt == "csv" else "inline"
    return Response(content, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}.{fmt}"'})


async def _computed(request: Request, scope: str, key: str) -> Synthesis:
    synthesis = await computed_synthesis(_pool(request), scope, key)
    if synthesis is None:
        raise Problem(404, "Not computed yet", "no synthesis has been computed for this scope yet; retry shortly")
    return synthesis


async def _sections(request: Request, scope: str, key: str) -> list[FrameworkSection]:
    """The frameworks a scope's contributions answer, most used first, with their live counts."""
    rows = await store.framework_counts(_pool(request), scope, key)
    return [FrameworkSection.model_validate(section) for section in framework_sections(rows)]


async def _export(request: Request, scope: str, key: str, fmt: str) -> Response:
    """A scope's synthesis as a document: with one table per framework its contributions answer."""
    pool = _pool(request)
    sections = await _sections(request, scope, key)
    name = f"synthese-{key.lower()}"
    if fmt == "csv":  # the live counts: served before the first recompute too
        return _document(to_csv(sections, await computed_synthesis(pool, scope, key)), fmt, name)
    synthesis = await _computed(request, scope, key)
    if fmt == "md":
        return _document(to_markdown(synthesis, sections, _site(request)), fmt, name)
    return _document(await asyncio.to_thread(to_pdf, synthesis, sections, _site(request)), fmt, name)


async def _manifesto(request: Request, scope: str, key: str, fmt: str) -> Response:
    synthesis = await _computed(request, scope, key)
    sections = await _sections(request, scope, key)
    name = "manifeste" if scope == "network" else f"manifeste-{key.lower()}"
    if fmt == "md":
        return _document(manifesto_markdown(synthesis, base_url=_site(request), frameworks=sections), fmt, name)
    return _document(await asyncio.to_thread(manifesto_pdf, synthesis, _site(request), sections), fmt, name)


COLLECTIONS = {"countries": "country", "territories": "territory", "consultations": "consultation",
               "frameworks": "framework"}


async def _collection_scope(request: Request, collection: str, key: str) -> tuple[str, str]:
    level = COLLECTIONS.get(collection)
    if level is None:
        raise Problem(404, "Unknown scope", "syntheses are per network, country, territory, consultation or framework")
    return await resolve_scope(request, level, key)


@router.get("/v1/syntheses/network/export.{fmt}", tags=["exports"],
            summary="The network synthesis as Markdown, PDF or CSV (one table per framework)")
async def export_network(fmt: str, request: Request):
    return await _export(request, "network", "network", _format(fmt, EXPORT_FORMATS))


@router.get("/v1/syntheses/{collection}/{key}/export.{fmt}", tags=["exports"],
            summary="A country's, territory's, consultation's or framework's synthesis as Markdown, PDF or CSV "
                    "(`countries/{cc}`, `territories/{id}`, `consultations/{id}`, `frameworks/{id}`)")
async def export_scope(collection: str, key: str, fmt: str, request: Request):
    return await _export(request, *await _collection_scope(request, collection, key), _format(fmt, EXPORT_FORMATS))


@router.get("/v1/manifesto.{fmt}", tags=["exports"], summary="The manifesto draft: the network's proposal clusters")
async def export_manifesto(fmt: str, request: Request):
    return await _manifesto(request, "network", "network", _format(fmt))


@router.get("/v1/syntheses/network/manifesto.{fmt}", tags=["exports"],
            summary="The manifesto draft of the network (as `/v1/manifesto`)")
async def export_network_manifesto(fmt: str, request: Request):
    return await _manifesto(request, "network", "network", _format(fmt))


@router.get("/v1/syntheses/{collection}/{key}/manifesto.{fmt}", tags=["exports"],
            summary="The proposal clusters of a country, territory, consultation or framework, as a manifesto draft")
async def export_scope_manifesto(collection: str, key: str, fmt: str, request: Request):
    return await _manifesto(request, *await _collection_scope(request, collection, key), _format(fmt))


def _site(request: Request) -> str:
    """Where this service's pages are, for the links of an export (a contribution's page)."""
    return str(request.base_url).rstrip("/")


DOCUMENT_FORMATS = ("md", "pdf")
EXPORT_FORMATS = ("md", "pdf", "csv")


def _format(fmt: str, allowed: tuple[str, ...] = DOCUMENT_FORMATS) -> str:
    if fmt not in allowed:
        raise Problem(404, "Unknown format", f"this export is {' or '.join('.' + a for a in allowed)}, not .{fmt}")
    if fmt == "pdf" and importlib.util.find_spec("weasyprint") is None:
        raise Problem(501, "PDF export not installed",
                      "this installation has no PDF renderer (install palabre[pdf]); the .md export is available")
    return fmt


def _contribution_uuid(contribution_id: str) -> str:
    try:
        return str(uuid.UUID(contribution_id))
    except ValueError:
        raise Problem(404, "Unknown contribution", f"no published contribution {contribution_id!r}") from None


@router.get("/v1/contributions/{contribution_id}", tags=["syntheses"],
            summary="The axis assigned to a published contribution, where it came from, its sub-theme, and "
                    "every move of its axis since it arrived (old axis, new axis, classifier version or person, time)")
async def contribution_axis(contribution_id: str, request: Request):
    contribution_id = _contribution_uuid(contribution_id)
    row = await store.contribution(_pool(request), contribution_id)
    if row is None:
        raise Problem(404, "Unknown contribution", f"no published contribution {contribution_id!r}")
    labels = {a["id"]: a["label"] for a in (row["framework"] or {}).get("axes", [])}
    history = [{"changed_at": h["changed_at"].isoformat(), "previous_axis": h["previous_axis"] or store.UNCLASSIFIED,
                "axis": h["axis"] or store.UNCLASSIFIED, "axis_source": h["axis_source"],
                "classifier_version": h["classifier_version"], "confidence": h["confidence"],
                "changed_by": h["changed_by"]}
               for h in await store.axis_history(_pool(request), contribution_id)]
    return {"id": str(row["id"]), "territory": row["territory"], "country": row["country"],
            "axis": row["axis"] or store.UNCLASSIFIED, "axis_label": labels.get(row["axis"], "Non classé"),
            "axis_source": row["axis_source"], "confidence": row["axis_confidence"],
            "corrected_by": row["corrected_by"], "subtheme": row["subtheme"], "question": row["question"],
            "axis_history": history}


@router.post("/v1/syntheses/recompute", status_code=202, tags=["syntheses"],
             summary="Ask for every scope to be recomputed (after a method change, or to check determinism)")
async def request_full_recompute(request: Request, who: Annotated[str, Depends(network_admin)]):
    pool = _pool(request)
    scopes = {("network", "network")}
    for territory in await store.territories(pool):
        scopes |= {("territory", territory["id"]), ("country", territory["country"])}
    async with pool.acquire() as conn:
        await store.request_recompute(conn, scopes, asked=True)
    return {"requested": [{"scope": s, "key": k} for s, k in sorted(scopes)]}
