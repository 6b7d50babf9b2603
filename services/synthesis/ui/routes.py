"""Synthesis pages: server-rendered HTML for the network, each country, territory, consultation and
framework, every contribution quoted, and the manifesto draft. Charts are inline SVG from the domain; text
always escaped."""

from collections import defaultdict
from pathlib import Path

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from services.synthesis import store
from services.synthesis.api import _contribution_uuid, resolve_scope
from services.synthesis.domain.charts import bar_chart, series_colours, stacked_chart
from services.synthesis.views import synthesis_view
from shared.http import Problem
from shared.vocabulary import Kind

router = APIRouter(include_in_schema=False)
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined,
)

KIND_LABELS = {"attente": "attentes", "vigilance": "points de vigilance", "proposition": "propositions"}


def render(name: str, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context))


def charts(view: dict, by_territory: list[dict]) -> list[Markup]:
    """Axis distribution, kind × axis, and (for several territories) the comparison of territories."""
    labels = {axis["id"]: axis["label"] for axis in view["axes"]}
    shown = [axis for axis in view["axes"] if axis["count"] or axis["id"] != store.UNCLASSIFIED]
    out = [bar_chart({axis["label"]: axis["count"] for axis in shown}, "Contributions par axe")]
    by_kind: dict[str, dict[str, int]] = {axis["label"]: {} for axis in shown}
    for row in view["counts"]:
        label = labels.get(row["axis"], row["axis"])
        by_kind.setdefault(label, {})
        by_kind[label][row["kind"]] = by_kind[label].get(row["kind"], 0) + row["n"]
    out.append(stacked_chart(by_kind, [k.value for k in Kind], "Nature des contributions par axe"))
    territories: dict[str, dict[str, int]] = defaultdict(dict)
    for row in by_territory:
        territories[row["name"]][labels.get(row["axis"], row["axis"])] = row["n"]
    if len(territories) > 1:
        series = [axis["label"] for axis in shown]
        out.append(stacked_chart(dict(sorted(territories.items())), series, "Comparaison des territoires, par axe",
                                 width=760, colours=series_colours(series), legend_w=160))
    return [Markup(svg) for svg in out]  # noqa: S704  # nosec B704 # charts.py escapes every text it draws


async def scope_page(request: Request, level: str, key: str | None, title: str) -> HTMLResponse:
    pool = request.app.state.runtime.db
    scope, scope_key = await resolve_scope(request, level, key)
    view = await synthesis_view(pool, scope, scope_key)
    by_territory = await store.counts_by_territory(pool, scope, scope_key)
    if scope in ("consultation", "framework"):
        territories = await store.territories_using(pool, scope, scope_key)
    else:
        territories = await store.territories(pool, scope_key if scope == "country" else None)
    if scope == "territory":
        territories = [t for t in territories if t["id"] == scope_key]
    export_base = {"network": "/v1/syntheses/network", "country": f"/v1/syntheses/countries/{scope_key.lower()}",
                   "territory": f"/v1/syntheses/territories/{scope_key}",
                   "consultation": f"/v1/syntheses/consultations/{scope_key}",
                   "framework": f"/v1/syntheses/frameworks/{scope_key}"}[scope]
    return render("synthesis.html", title=title, view=view, charts=charts(view, by_territory),
                  territories=territories, countries=sorted({t["country"] for t in territories}),
                  export_base=export_base, kind_labels=KIND_LABELS)


@router.get("/", response_class=HTMLResponse)
async def network_page(request: Request):
    return await scope_page(request, "network", None, "Synthèse du réseau")


@router.get("/countries/{country}", response_class=HTMLResponse)
async def country_page(country: str, request: Request):
    return await scope_page(request, "country", country, f"Synthèse — {country.upper()}")


@router.get("/territories/{territory}", response_class=HTMLResponse)
async def territory_page(territory: str, request: Request):
    pool = request.app.state.runtime.db
    names = {t["id"]: t["name"] for t in await store.territories(pool)}
    return await scope_page(request, "territory", territory, f"Synthèse — {names.get(territory, territory)}")


@router.get("/consultations/{consultation}", response_class=HTMLResponse)
async def consultation_page(consultation: str, request: Request):
    return await scope_page(request, "consultation", consultation, f"Synthèse — consultation {consultation}")


@router.get("/frameworks/{framework}", response_class=HTMLResponse)
async def framework_page(framework: str, request: Request):
    return await scope_page(request, "framework", framework, f"Synthèse — cadre {framework}")


@router.get("/contributions/{contribution_id}", response_class=HTMLResponse)
async def contribution_page(contribution_id: str, request: Request):
    row = await store.contribution(request.app.state.runtime.db, _contribution_uuid(contribution_id))
    if row is None:
        raise Problem(404, "Unknown contribution", "this contribution is not published (or no longer)")
    labels = {a["id"]: a["label"] for a in (row["framework"] or {}).get("axes", [])}
    return render("contribution.html", title="Contribution", c=row, axis_label=labels.get(row["axis"], "Non classé"),
                  kind_labels=KIND_LABELS)


@router.get("/manifesto", response_class=HTMLResponse)
async def manifesto_page(request: Request):
    view = await synthesis_view(request.app.state.runtime.db, "network", "network")
    return render("manifesto.html", title="Projet de manifeste", view=view)
