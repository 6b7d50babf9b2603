"""What the API, the pages and the exports show of a scope: the live counts merged with the latest computed
synthesis, axis labels from the scope's own framework(s), and only quotes of contributions still published."""

from collections import defaultdict
from collections.abc import Callable
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
    return keep_quotes(document, lambda quote: quote["contribution_id"] in published
                       and is_traceable(quote["text"], published[quote["contribution_id"]]),
                       lambda contribution_id: contribution_id in published)


def without_contributions(document: dict[str, Any], removed: set[str]) -> dict[str, Any]:
    """The document without any quote of these contributions, nor proposal cluster they represent."""
    return keep_quotes(document, lambda quote: quote["contribution_id"] not in removed,
                       lambda contribution_id: contribution_id not in removed)


def keep_quotes(document: dict[str, Any], keeps_quote: Callable[[dict[str, Any]], bool],
                keeps_id: Callable[[str], bool]) -> dict[str, Any]:
    document = dict(document)
    axes = []
    for axis in document.get("axes", []):
        subthemes = [{**sub, "quotes": [q for q in sub["quotes"] if keeps_quote(q)]} for sub in axis.get("subthemes", [])]
        axes.append({**axis, "subthemes": subthemes})
    document["axes"] = axes
    document["proposals"] = [{**p, "quotes": [q for q in p.get("quotes", []) if keeps_quote(q)],
                              "contribution_ids": [i for i in p["contribution_ids"] if keeps_id(i)]}
                             for p in document.get("proposals", []) if keeps_quote(p["representative"])]
    return document


def quoted_ids(document: dict[str, Any]) -> list[str]:
    ids = {q["contribution_id"] for axis in document.get("axes", []) for sub in axis.get("subthemes", [])
           for q in sub["quotes"]}
    for p in document.get("proposals", []):
        ids.add(p["representative"]["contribution_id"])
        ids.update(p["contribution_ids"])
    return sorted(ids)


def framework_sections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One section per framework (id and version) of a scope, most used first (ties: by id): its axes in its
    own order with their live counts, then its contributions on none of them."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        section = grouped.setdefault((row["framework_id"], row["framework_version"]),
                                     {"framework": row["framework"], "counts": defaultdict(int)})
        section["counts"][row["axis"]] += row["n"]
    sections = []
    for (framework_id, version), section in grouped.items():
        framework, counts = section["framework"], section["counts"]
        own = [axis["id"] for axis in framework["axes"]]
        axes = [{"id": axis["id"], "label": axis["label"], "count": counts.get(axis["id"], 0)}
                for axis in framework["axes"]]
        unclassified = sum(n for axis, n in counts.items() if axis not in own)
        sections.append({"framework": {"id": framework_id, "version": version, "title": framework.get("title")},
                         "contributions_count": sum(counts.values()), "unclassified_count": unclassified,
                         "axes": axes + [{"id": store.UNCLASSIFIED, "label": UNCLASSIFIED_LABEL,
                                          "count": unclassified}]})
    return sorted(sections, key=lambda s: (-s["contributions_count"], s["framework"]["id"],
                                           s["framework"]["version"]))


async def synthesis_view(pool, scope: str, key: str) -> dict[str, Any]:
    """DESIGN §5's synthesis JSON: `version`, `contributions_count`, `axes` (with sub-themes and quotes),
    `proposals`, `distinctive`, `convergences`, plus the live `counts` by axis × kind × author role × channel.

    `frameworks` holds one section per framework the scope's contributions answer, most used first; `axes`
    are those of the first (the framework of the computed document), never a sum over frameworks."""
    per_framework = scope in ("consultation", "framework")
    rows = await (store.contribution_counts if per_framework else store.counts)(pool, scope, key)
    computed = await store.latest_synthesis(pool, scope, key)
    document = dict(computed["document"]) if computed else {}
    if document:
        document = keep_published(document, await store.published_texts(pool, quoted_ids(document)))
    sections = framework_sections(await store.framework_counts(pool, scope, key))
    same = sections and (document.get("framework") or {}).get("id") == sections[0]["framework"]["id"]
    computed_axes = {axis["id"]: axis for axis in document.get("axes", [])} if same else {}
    if sections:
        axes = [{**axis, "subthemes": computed_axes.get(axis["id"], {}).get("subthemes", [])}
                for axis in sections[0]["axes"]]
    else:  # nothing published yet: the scope's framework, empty
        labels, main_axes = axis_labels(document.get("framework"), await store.scope_frameworks(pool, scope, key))
        axes = [{"id": axis_id, "label": labels[axis_id], "count": 0, "subthemes": []} for axis_id in main_axes]
        axes.append({"id": store.UNCLASSIFIED, "label": UNCLASSIFIED_LABEL, "count": 0, "subthemes": []})
    total = sum(row["n"] for row in rows)
    return {
        "scope": scope,
        "key": key,
        "version": computed["version"] if computed else 0,
        "digest": document.get("digest"),
        "computed_at": computed["computed_at"].isoformat() if computed else None,
        "computed_contributions_count": computed["contributions_count"] if computed else 0,
        "framework": document.get("framework"),
        "contributions_count": total,
        "unclassified_count": sum(s["unclassified_count"] for s in sections),
        "axes": axes,
        "frameworks": sections,
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
