"""The synthesis as Markdown, HTML (charts inline), PDF and CSV; the manifesto draft as Markdown and PDF.

Contribution text is always escaped in HTML; quotes keep their contribution id so every claim is traceable.
A scope whose contributions answer several frameworks shows one table per framework: the axes of two
frameworks are never added together.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from shared.csv_safety import write_csv
from shared.vocabulary import Kind

from .charts import bar_chart, stacked_chart
from .models import UNCLASSIFIED, UNCLASSIFIED_LABEL, AxisSummary, FrameworkSection, ProposalCluster, Synthesis


def _scope_title(s: Synthesis) -> str:
    return {"network": "le réseau", "country": f"le pays {s.scope.id}",
            "territory": f"le territoire {s.scope.id}", "consultation": f"la consultation {s.scope.id}",
            "framework": f"le cadre {s.scope.id}, dans les territoires qui l'utilisent"}[s.scope.level]


def _section_title(section: FrameworkSection) -> str:
    framework = section.framework
    return f"{framework.title or framework.id} (cadre {framework.id} {framework.version})"


def _framework_export(base_url: str, section: FrameworkSection, fmt: str) -> str:
    return f"{base_url}/v1/syntheses/frameworks/{section.framework.id}/export.{fmt}"


def _is_main(s: Synthesis, section: FrameworkSection) -> bool:
    return (section.framework.id, section.framework.version) == (s.framework.id, s.framework.version)


def frameworks_markdown(s: Synthesis, sections: Sequence[FrameworkSection], base_url: str = "") -> list[str]:
    """The scope's frameworks, one table each (most used first), when there is more than one."""
    if len(sections) < 2:
        return []
    lines = ["## Cadres", "",
             f"Les contributions de ce périmètre répondent à {len(sections)} cadres. Les axes de deux cadres ne "
             f"s'additionnent pas : chaque cadre a son tableau ci-dessous, et le détail par axe qui suit porte "
             f"sur le cadre {s.framework.id}.", ""]
    for section in sections:
        lines += [f"### {_md_text(_section_title(section))}", "",
                  f"{section.contributions_count} contributions, dont {section.unclassified_count} non classées"
                  f"{' (détail ci-dessous)' if _is_main(s, section) else ''}. Synthèse du cadre : "
                  f"[Markdown]({_framework_export(base_url, section, 'md')}) · "
                  f"[PDF]({_framework_export(base_url, section, 'pdf')}) · "
                  f"[CSV]({_framework_export(base_url, section, 'csv')}).", "",
                  "| axe | contributions |", "|---|---:|"]
        lines += [f"| {_md_text(axis.label)} | {axis.count} |" for axis in section.axes]
        lines.append("")
    return lines


def _md_text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def manifesto_sections(s: Synthesis, limit: int = 60, frameworks: Sequence[FrameworkSection] = ()
                       ) -> list[tuple[str, str, list[ProposalCluster]]]:
    """(anchor, title, claims) per axis of the framework, in its order; then, per axis of the scope's other
    `frameworks` (most used first), the claims on it, titled with that framework; then the claims on no axis.
    Each proposal cluster goes to the axis most of its contributions are on."""
    by_axis: dict[str, list[ProposalCluster]] = {}
    for p in s.proposals[:limit]:
        axis = max(sorted(p.axes), key=lambda a: p.axes[a]) if p.axes else UNCLASSIFIED
        by_axis.setdefault(axis, []).append(p)
    sections = [(f"axe-{a.id}", a.label, by_axis.pop(a.id)) for a in s.axes if a.id in by_axis]
    for section in frameworks:
        if _is_main(s, section):
            continue
        framework = section.framework
        sections += [(f"cadre-{framework.id}-axe-{a.id}", f"{framework.title or framework.id} — {a.label}",
                      by_axis.pop(a.id)) for a in section.axes if a.id != UNCLASSIFIED and a.id in by_axis]
    rest = [p for _, claims in sorted(by_axis.items()) for p in claims]
    if rest:
        sections.append(("hors-axes", "Hors des axes du cadre", rest))
    return sections


def _support(p: ProposalCluster) -> str:
    weighted = f"{p.support_weighted:g}"
    return (f"{p.territories_count} territoire{'s' if p.territories_count > 1 else ''}, "
            f"{p.countries_count} pays ; {p.contributions_count} contribution{'s' if p.contributions_count > 1 else ''}"
            f" ({weighted} une fois les répétitions d'un même territoire comptées pour une) ; "
            f"cohérence {p.coherence:.2f}")


def manifesto_markdown(s: Synthesis, limit: int = 60, base_url: str = "",
                       frameworks: Sequence[FrameworkSection] = ()) -> str:
    """The manifesto draft as a document: title, contents, one section per axis (see `manifesto_sections`),
    each claim (a proposal in its author's words) followed by its support, its quotes and links to the
    contributions."""
    sections = manifesto_sections(s, limit, frameworks)
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


def to_markdown(s: Synthesis, sections: Sequence[FrameworkSection] = (), base_url: str = "") -> str:
    """`sections`: the scope's frameworks with their live counts (`FrameworkSection`), most used first."""
    lines = [f"# Synthèse — {_scope_title(s)}", "",
             f"Version {s.version} · cadre {s.framework.id} {s.framework.version} · "
             f"{s.contributions_count} contributions, dont {s.unclassified_count} non classées.", "",
             *frameworks_markdown(s, sections, base_url),
             f"## Par axe du cadre {s.framework.id}", "",
             "| axe | contributions | " + " | ".join(k.value for k in Kind) + " |",
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


def frameworks_html(s: Synthesis, sections: Sequence[FrameworkSection], base_url: str = "") -> list[str]:
    """`frameworks_markdown` in HTML."""
    if len(sections) < 2:
        return []
    e = escape
    body = ["<h2>Cadres</h2>",
            f"<p>Les contributions de ce périmètre répondent à {len(sections)} cadres. Les axes de deux cadres ne "
            f"s'additionnent pas : chaque cadre a son tableau, et le détail par axe qui suit porte sur le cadre "
            f"{e(s.framework.id)}.</p>"]
    for section in sections:
        links = " · ".join(f'<a href="{e(_framework_export(base_url, section, fmt))}">{label}</a>'
                           for fmt, label in (("md", "Markdown"), ("pdf", "PDF"), ("csv", "CSV")))
        rows = "".join(f"<tr><td>{e(axis.label)}</td><td>{axis.count}</td></tr>" for axis in section.axes)
        body += [f"<h3>{e(_section_title(section))}</h3>",
                 f"<p>{section.contributions_count} contributions, dont {section.unclassified_count} non classées. "
                 f"Synthèse du cadre : {links}</p>",
                 f"<table><tr><th>axe</th><th>contributions</th></tr>{rows}</table>"]
    return body


def to_html(s: Synthesis, sections: Sequence[FrameworkSection] = (), base_url: str = "") -> str:
    e = escape
    body = [f"<h1>Synthèse — {e(_scope_title(s))}</h1>",
            f"<p>Version {e(s.version)} · cadre {e(s.framework.id)} {e(s.framework.version)} · "
            f"{s.contributions_count} contributions, dont {s.unclassified_count} non classées.</p>",
            *frameworks_html(s, sections, base_url), *charts(s)]
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


def manifesto_html(s: Synthesis, limit: int = 60, base_url: str = "",
                   frameworks: Sequence[FrameworkSection] = ()) -> str:
    """The manifesto draft as a printable document (same structure as `manifesto_markdown`)."""
    e = escape
    sections = manifesto_sections(s, limit, frameworks)
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


def manifesto_pdf(s: Synthesis, base_url: str = "", frameworks: Sequence[FrameworkSection] = ()) -> bytes:
    from weasyprint import HTML

    return HTML(string=manifesto_html(s, base_url=base_url, frameworks=frameworks)).write_pdf()


def to_pdf(s: Synthesis, sections: Sequence[FrameworkSection] = (), base_url: str = "") -> bytes:
    from weasyprint import HTML

    return HTML(string=to_html(s, sections, base_url)).write_pdf()


CSV_COLUMNS = ["framework", "framework_version", "axis", "axis_label", "subtheme", "keywords", "contributions"]


def to_csv(sections: Sequence[FrameworkSection], computed: Synthesis | None = None) -> str:
    """One row per axis of each framework (its own axes, then "non classé"), never a sum over frameworks;
    under the axes of the computed synthesis's framework, one row per sub-theme."""
    subthemes: dict[str, AxisSummary] = {}
    if computed is not None:
        subthemes = {axis.id: axis for axis in computed.axes}
    rows = []
    for section in sections:
        framework = section.framework
        main = computed is not None and _is_main(computed, section)
        for axis in section.axes:
            common = {"framework": framework.id, "framework_version": framework.version, "axis": axis.id,
                      "axis_label": axis.label}
            rows.append({**common, "contributions": axis.count})
            if main and axis.id in subthemes:
                rows += [{**common, "subtheme": sub.label, "keywords": ", ".join(sub.keywords),
                          "contributions": sub.count} for sub in subthemes[axis.id].subthemes]
    return write_csv(rows, CSV_COLUMNS)
