"""The synthesis as Markdown, HTML (charts inline) and PDF; the manifesto draft as Markdown.

Contribution text is always escaped in HTML; quotes keep their contribution id so every claim is traceable.
"""

from __future__ import annotations

from html import escape

from shared.vocabulary import Kind

from .charts import bar_chart, stacked_chart
from .models import UNCLASSIFIED, UNCLASSIFIED_LABEL, ProposalCluster, Synthesis


def _scope_title(s: Synthesis) -> str:
    return {"network": "le réseau", "country": f"le pays {s.scope.id}",
            "territory": f"le territoire {s.scope.id}"}[s.scope.level]


def _md_text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def manifesto_sections(s: Synthesis, limit: int = 60) -> list[tuple[str, str, list[ProposalCluster]]]:
    """(anchor, title, claims) per axis of the framework, in its order, then the claims on no axis: each
    proposal cluster goes to the axis most of its contributions are on."""
    by_axis: dict[str, list[ProposalCluster]] = {}
    for p in s.proposals[:limit]:
        axis = max(sorted(p.axes), key=lambda a: p.axes[a]) if p.axes else UNCLASSIFIED
        by_axis.setdefault(axis, []).append(p)
    sections = [(f"axe-{a.id}", a.label, by_axis[a.id]) for a in s.axes if a.id in by_axis]
    known = {a.id for a in s.axes}
    rest = [p for axis, claims in sorted(by_axis.items()) if axis not in known for p in claims]
    if rest:
        sections.append(("hors-axes", "Hors des axes du cadre", rest))
    return sections


def _support(p: ProposalCluster) -> str:
    weighted = f"{p.support_weighted:g}"
    return (f"{p.territories_count} territoire{'s' if p.territories_count > 1 else ''}, "
            f"{p.countries_count} pays ; {p.contributions_count} contribution{'s' if p.contributions_count > 1 else ''}"
            f" ({weighted} une fois les répétitions d'un même territoire comptées pour une) ; "
            f"cohérence {p.coherence:.2f}")


def manifesto_markdown(s: Synthesis, limit: int = 60, base_url: str = "") -> str:
    """The manifesto draft as a document: title, contents, one section per axis, each claim (a proposal in
    its author's words) followed by its support, its quotes and links to the contributions."""
    sections = manifesto_sections(s, limit)
    lines = [f"# Projet de manifeste — {_scope_title(s)}", "",
             f"*Cadre {s.framework.id} {s.framework.version} · {s.contributions_count} contributions · "
             f"version {s.version}*", "",
             "Chaque proposition est énoncée avec les mots d'une contribution, suivie de son soutien et de "
             "citations des contributions qui la portent.", "", "## Sommaire", ""]
    lines += [f"{n}. [{title}](#{anchor}) ({len(claims)})" for n, (anchor, title, claims) in enumerate(sections, 1)]
    for anchor, title, claims in sections:
        lines += ["", f'<a id="{anchor}"></a>', "", f"## {title}", ""]
        for p in claims:
            lines += [f"### {_md_text(p.label)}", "", f"Soutien : {_support(p)}.", "",
                      f"Territoires : {', '.join(p.territories)}.", ""]
            for q in [p.representative, *p.quotes]:
                lines += [f"> {_md_text(q.text)}", ">", f"> — [contribution {q.contribution_id}]"
                          f"({base_url}/contributions/{q.contribution_id})", ""]
    return "\n".join(lines) + "\n"


def to_markdown(s: Synthesis) -> str:
    lines = [f"# Synthèse — {_scope_title(s)}", "",
             f"Version {s.version} · cadre {s.framework.id} {s.framework.version} · "
             f"{s.contributions_count} contributions, dont {s.unclassified_count} non classées.", "",
             "## Par axe", "", "| axe | contributions | " + " | ".join(k.value for k in Kind) + " |",
             "|---|---:|" + "---:|" * len(Kind)]
    for axis in s.axes:
        by_kind = s.counts.by_axis_kind.get(axis.id, {})
        lines.append(f"| {axis.label} | {axis.count} | " + " | ".join(str(by_kind.get(k.value, 0)) for k in Kind) + " |")
    for axis in s.axes:
        lines += ["", f"## {axis.label} ({axis.count})", ""]
        for sub in axis.subthemes:
            lines += [f"### {sub.label} ({sub.count})", "", f"Mots caractéristiques : {', '.join(sub.keywords)}.", ""]
            lines += [f"> {_md_text(q.text)} — `{q.contribution_id}`" + "\n" for q in sub.quotes]
    if s.distinctive:
        lines += ["", "## Singularités des territoires", "",
                  "Log-odds pondérés avec a priori de Dirichlet informatif ; la force est le score z.", ""]
        for d in s.distinctive:
            axes = ", ".join(f"{a.term} (z={a.z})" for a in d.axes) or "—"
            terms = ", ".join(f"{t.term} (z={t.z})" for t in d.terms) or "—"
            lines.append(f"- **{d.territory}** ({d.country}, {d.contributions_count}) : axes {axes} ; termes {terms}")
            for said in d.said_more:
                lines.append(f"  - *{_md_text(said.term)}* (z={said.z}) : « {_md_text(said.quote.text)} » "
                             f"— `{said.quote.contribution_id}`")
    if s.convergences:
        lines += ["", "## Convergences", "", "| type | thème | territoires | pays | contributions |",
                  "|---|---|---:|---:|---:|"]
        lines += [f"| {c.kind} | {_md_text(c.label)} | {c.territories_count} | {c.countries_count} | "
                  f"{c.contributions_count} |" for c in s.convergences]
    lines += ["", "## Projet de manifeste", ""]
    for p in s.proposals[:30]:
        lines += [f"### {_md_text(p.label)}", "", f"Soutien : {_support(p)}.", "",
                  f"> {_md_text(p.representative.text)} — `{p.representative.contribution_id}`", ""]
    return "\n".join(lines) + "\n"


def charts(s: Synthesis) -> list[str]:
    labels = {a.id: a.label for a in s.axes}
    labels[UNCLASSIFIED] = UNCLASSIFIED_LABEL
    distribution = {labels.get(k, k): v for k, v in s.counts.by_axis.items()}
    kinds = {labels.get(k, k): v for k, v in s.counts.by_axis_kind.items()}
    return [bar_chart(distribution, "Contributions par axe"),
            stacked_chart(kinds, [k.value for k in Kind], "Nature des contributions par axe")]


def to_html(s: Synthesis) -> str:
    e = escape
    body = [f"<h1>Synthèse — {e(_scope_title(s))}</h1>",
            f"<p>Version {e(s.version)} · {s.contributions_count} contributions, "
            f"dont {s.unclassified_count} non classées.</p>", *charts(s)]
    for axis in s.axes:
        body.append(f"<h2>{e(axis.label)} ({axis.count})</h2>")
        for sub in axis.subthemes:
            body.append(f"<h3>{e(sub.label)} ({sub.count})</h3><p>{e(', '.join(sub.keywords))}</p>")
            body += [f"<blockquote>{e(q.text)} <cite>{e(q.contribution_id)}</cite></blockquote>" for q in sub.quotes]
    if s.proposals:
        body.append("<h2>Projet de manifeste</h2><ol>")
        for p in s.proposals[:30]:
            body.append(f"<li><strong>{e(p.label)}</strong> — {p.territories_count} territoires, "
                        f"{p.countries_count} pays, {p.contributions_count} contributions"
                        f"<blockquote>{e(p.representative.text)} <cite>{e(p.representative.contribution_id)}"
                        "</cite></blockquote></li>")
        body.append("</ol>")
    style = ("body{font-family:sans-serif;font-size:11pt;margin:2em}blockquote{border-left:3px solid #2f6f9f;"
             "margin:.5em 0;padding-left:.8em}cite{color:#666;font-size:9pt}svg{display:block;margin:1em 0}")
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Synthèse</title>'
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


MANIFESTO_STYLE = """
@page { size: A4; margin: 2.2cm 2cm; @bottom-center { content: counter(page); font-size: 9pt; color: #666; } }
@page :first { @bottom-center { content: none; } }
body { font-family: "DejaVu Serif", serif; font-size: 10.5pt; line-height: 1.45; color: #1d1d1d; }
.title-page { page-break-after: always; padding-top: 7cm; text-align: center; }
.title-page h1 { font-size: 26pt; margin-bottom: .3em; }
.title-page p { color: #444; }
nav { page-break-after: always; } nav h2 { font-size: 16pt; }
nav ol { list-style: none; padding: 0; } nav li { margin: .4em 0; }
nav a { color: inherit; text-decoration: none; }
nav a::after { content: leader('.') target-counter(attr(href), page); }
section.axis { page-break-before: always; } section.axis:first-of-type { page-break-before: auto; }
h2 { font-size: 17pt; color: #24506e; border-bottom: 1px solid #24506e; padding-bottom: .2em; }
h3 { font-size: 12pt; margin: 1.4em 0 .3em; page-break-after: avoid; }
.support { color: #555; font-size: 9pt; margin: 0 0 .4em; }
blockquote { border-left: 3px solid #3c8d5a; margin: .4em 0 .6em; padding: .1em .8em; font-style: italic; }
blockquote a { font-style: normal; font-size: 8.5pt; color: #2f6f9f; }
"""


def manifesto_html(s: Synthesis, limit: int = 60, base_url: str = "") -> str:
    """The manifesto draft as a printable document (same structure as `manifesto_markdown`)."""
    e = escape
    sections = manifesto_sections(s, limit)
    body = [f'<div class="title-page"><h1>Projet de manifeste</h1><p>{e(_scope_title(s)).capitalize()}</p>'
            f"<p>Cadre {e(s.framework.id)} {e(s.framework.version)} · {s.contributions_count} contributions</p>"
            f"<p>Version {e(s.version)}</p></div>",
            "<nav><h2>Sommaire</h2><ol>"]
    body += [f'<li><a href="#{anchor}">{e(title)} ({len(claims)})</a></li>' for anchor, title, claims in sections]
    body.append("</ol></nav>")
    for anchor, title, claims in sections:
        body.append(f'<section class="axis" id="{anchor}"><h2>{e(title)}</h2>')
        for p in claims:
            body.append(f'<h3>{e(p.label)}</h3><p class="support">{e(_support(p))}<br>'
                        f"Territoires : {e(', '.join(p.territories))}</p>")
            for q in [p.representative, *p.quotes]:
                href = e(f"{base_url}/contributions/{q.contribution_id}")
                body.append(f'<blockquote>{e(q.text)}<br><a href="{href}">contribution {e(q.contribution_id)}</a>'
                            "</blockquote>")
        body.append("</section>")
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Projet de manifeste</title>'
            f"<style>{MANIFESTO_STYLE}</style></head><body>{''.join(body)}</body></html>")


def manifesto_pdf(s: Synthesis, base_url: str = "") -> bytes:
    from weasyprint import HTML

    return HTML(string=manifesto_html(s, base_url=base_url)).write_pdf()


def to_pdf(s: Synthesis) -> bytes:
    from weasyprint import HTML

    return HTML(string=to_html(s)).write_pdf()
