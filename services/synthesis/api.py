"""Synthesis's JSON API (DESIGN §5)."""

import uuid
from typing import Any

from fastapi import APIRouter, Request

from services.synthesis import store
from shared.frameworks import default_framework
from shared.http import Problem

router = APIRouter()


async def synthesis_document(request: Request, scope: str, key: str) -> dict[str, Any]:
    """Live counts merged with the latest computed synthesis (sub-themes, proposals...)."""
    pool = request.app.state.runtime.db
    rows = await store.counts(pool, scope, key)
    computed = await store.latest_synthesis(pool, scope, key)
    document = dict(computed["document"]) if computed else {}
    labels = {axis.id: axis.label for axis in default_framework().axes}
    labels[store.UNCLASSIFIED] = "Non classé"
    computed_axes = {axis["id"]: axis for axis in document.get("axes", [])}
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["axis"]] = totals.get(row["axis"], 0) + row["n"]
    axes = []
    for axis_id in [*labels, *sorted(set(totals) - set(labels))]:
        if axis_id not in totals and axis_id not in computed_axes:
            continue
        previous = computed_axes.get(axis_id, {})
        axes.append({**previous, "id": axis_id, "label": previous.get("label") or labels.get(axis_id, axis_id),
                     "count": totals.get(axis_id, 0), "subthemes": previous.get("subthemes", [])})
    return {
        **document,
        "scope": scope,
        "key": key,
        "version": computed["version"] if computed else 0,
        "computed_at": computed["computed_at"].isoformat() if computed else None,
        "contributions_count": sum(totals.values()),
        "axes": axes,
        "counts": [{k: row[k] for k in ("axis", "kind", "author_role", "channel", "n")} for row in rows],
        "proposals": document.get("proposals", []),
        "distinctive": document.get("distinctive", []),
        "convergences": document.get("convergences", []),
    }


@router.get("/v1/syntheses/network", tags=["syntheses"], summary="What the whole network says, axis by axis")
async def network_synthesis(request: Request):
    return await synthesis_document(request, "network", "network")


@router.get("/v1/syntheses/countries/{country}", tags=["syntheses"])
async def country_synthesis(country: str, request: Request):
    if len(country) != 2 or not country.isalpha():
        raise Problem(404, "Unknown country", "use an ISO 3166-1 alpha-2 code such as 'fr'")
    return await synthesis_document(request, "country", country.upper())


@router.get("/v1/syntheses/territories/{territory}", tags=["syntheses"])
async def territory_synthesis(territory: str, request: Request):
    if not await store.territory_exists(request.app.state.runtime.db, territory):
        raise Problem(404, "Unknown territory", f"no territory {territory!r}")
    return await synthesis_document(request, "territory", territory)


@router.get("/v1/contributions/{contribution_id}", tags=["syntheses"],
            summary="The axis assigned to a published contribution, where it came from, and its sub-theme")
async def contribution_axis(contribution_id: str, request: Request):
    try:
        uuid.UUID(contribution_id)
    except ValueError:
        raise Problem(404, "Unknown contribution", f"no published contribution {contribution_id!r}") from None
    row = await store.contribution(request.app.state.runtime.db, contribution_id)
    if row is None:
        raise Problem(404, "Unknown contribution", f"no published contribution {contribution_id!r}")
    return {"id": str(row["id"]), "territory": row["territory"], "axis": row["axis"] or store.UNCLASSIFIED,
            "axis_source": row["axis_source"], "confidence": row["axis_confidence"], "subtheme": row["subtheme"]}
