"""What the API, the pages and the exports show of a scope: the live counts merged with the latest computed
synthesis, axis labels from the scope's own framework(s), and only quotes of contributions still published."""

from collections import defaultdict
from typing import Any

from services.synthesis import store
from services.synthesis.domain.models import UNCLASSIFIED_LABEL, Synthesis
from services.synthesis.domain.text import is_traceable
from shared.frameworks import default_framework


def axis_labels(document_framework: dict | None, frameworks: list[dict]) -> tuple[dict[str, str], list[str]]:
    """(axis id → label, the ids of the scope's main framework): the computed document's framework first,
    then the other frameworks of the scope's consultations; the default framework when there are none."""
    if not frameworks:
        frameworks = [default_framework().model_dump()]
    ordered = sorted(frameworks, key=lambda f: (
        not (document_framework and f["id"] == document_framework.get("id")
             and f["version"] == document_framework.get("version")), f["id"], f["version"]))
    labels: dict[str, str] = {}
    for framework in ordered:
        for axis in framework["axes"]:
            labels.setdefault(axis["id"], axis["label"])
    return labels, [axis["id"] for axis in ordered[0]["axes"]]


def keep_published(document: dict[str, Any], published: dict[str, str]) -> dict[str, Any]:
    """The document without quotes of contributions no longer published (or whose published text changed);
    a proposal cluster whose representative is gone waits for the next recompute."""
    document = dict(document)
    axes = []
    for axis in document.get("axes", []):
        subthemes = []
        for sub in axis.get("subthemes", []):
            quotes = [q for q in sub["quotes"]
                      if q["contribution_id"] in published and is_traceable(q["text"], published[q["contribution_id"]])]
            subthemes.append({**sub, "quotes": quotes})
        axes.append({**axis, "subthemes": subthemes})
    document["axes"] = axes
    proposals = []
    for p in document.get("proposals", []):
        rep = p["representative"]
        if rep["contribution_id"] in published and is_traceable(rep["text"], published[rep["contribution_id"]]):
            quotes = [q for q in p.get("quotes", [])
                      if q["contribution_id"] in published and is_traceable(q["text"], published[q["contribution_id"]])]
            proposals.append({**p, "quotes": quotes,
                              "contribution_ids": [i for i in p["contribution_ids"] if i in published]})
    document["proposals"] = proposals
    return document


def quoted_ids(document: dict[str, Any]) -> list[str]:
    ids = {q["contribution_id"] for axis in document.get("axes", []) for sub in axis.get("subthemes", [])
           for q in sub["quotes"]}
    for p in document.get("proposals", []):
        ids.add(p["representative"]["contribution_id"])
        ids.update(p["contribution_ids"])
    return sorted(ids)


async def synthesis_view(pool, scope: str, key: str) -> dict[str, Any]:
    """DESIGN §5's synthesis JSON: `version`, `contributions_count`, `axes` (with sub-themes and quotes),
    `proposals`, `distinctive`, `convergences`, plus the live `counts` by axis × kind × author role × channel."""
    rows = await store.counts(pool, scope, key)
    computed = await store.latest_synthesis(pool, scope, key)
    document = dict(computed["document"]) if computed else {}
    if document:
        document = keep_published(document, await store.published_texts(pool, quoted_ids(document)))
    labels, main_axes = axis_labels(document.get("framework"), await store.scope_frameworks(pool, scope, key))
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["axis"]] += row["n"]
    computed_axes = {axis["id"]: axis for axis in document.get("axes", [])}
    axes = []
    for axis_id in [*main_axes, *sorted(set(totals) - set(main_axes) - {store.UNCLASSIFIED})]:
        previous = computed_axes.get(axis_id, {})
        axes.append({"id": axis_id, "label": labels.get(axis_id, previous.get("label", axis_id)),
                     "count": totals.get(axis_id, 0), "subthemes": previous.get("subthemes", [])})
    axes.append({"id": store.UNCLASSIFIED, "label": UNCLASSIFIED_LABEL, "count": totals.get(store.UNCLASSIFIED, 0),
                 "subthemes": []})
    return {
        "scope": scope,
        "key": key,
        "version": computed["version"] if computed else 0,
        "digest": document.get("digest"),
        "computed_at": computed["computed_at"].isoformat() if computed else None,
        "computed_contributions_count": computed["contributions_count"] if computed else 0,
        "framework": document.get("framework"),
        "contributions_count": sum(totals.values()),
        "unclassified_count": totals.get(store.UNCLASSIFIED, 0),
        "axes": axes,
        "counts": [{k: row[k] for k in ("axis", "kind", "author_role", "channel", "n")} for row in rows],
        "proposals": document.get("proposals", []),
        "distinctive": document.get("distinctive", []),
        "convergences": document.get("convergences", []),
    }


async def computed_synthesis(pool, scope: str, key: str) -> Synthesis | None:
    """The latest computed synthesis as the domain's model (for the exports), quotes filtered as above."""
    computed = await store.latest_synthesis(pool, scope, key)
    if computed is None:
        return None
    document = dict(computed["document"])
    document = keep_published(document, await store.published_texts(pool, quoted_ids(document)))
    document["version"] = f"{computed['version']} ({document.get('digest')})"
    return Synthesis.model_validate(document)
