"""The synthesis as Markdown, HTML (charts inline) and PDF; the manifesto draft as Markdown.

Contribution text is always escaped in HTML; quotes keep their contribution id so every claim is traceable.
"""

from __future__ import annotations

from html import escape

from shared.vocabulary import Kind

from .charts import bar_chart, stacked_chart
from .models import UNCLASSIFIED, UNCLASSIFIED_LABEL, Synthesis


def _scope_title(s: Synthesis) -> str:
    return {"network": "le réseau", "country": f"le pays {s.scope.id}",
            "territory": f"le territoire {s.scope.id}"}[s.scope.level]


def _md_text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def manifesto_markdown(s: Synthesis, limit: int = 30) -> str:
    lines = [f"# Projet de manifeste — {_scope_title(s)}", "",
             f"Version {s.version}. Propositions regroupées par convergence, classées par soutien "
             "(territoires, pays, contributions).", ""]
    for p in s.proposals[:limit]:
        lines += [f"## {p.id} — {p.label}", "",
                  f"Soutien : {p.territories_count} territoires, {p.countries_count} pays, "
                  f"{p.contributions_count} contributions ({p.variants_count} propositions distinctes).", "",
                  f"> {_md_text(p.representative.text)} — contribution `{p.representative.contribution_id}`", "",
                  f"Territoires : {', '.join(p.territories)}.", "",
                  f"Contributions : {', '.join(f'`{i}`' for i in p.contribution_ids[:50])}"
                  + (f" et {len(p.contribution_ids) - 50} autres." if len(p.contribution_ids) > 50 else "."), ""]
    return "\n".join(lines)


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
    if s.convergences:
        lines += ["", "## Convergences", "", "| type | thème | territoires | pays | contributions |",
                  "|---|---|---:|---:|---:|"]
        lines += [f"| {c.kind} | {_md_text(c.label)} | {c.territories_count} | {c.countries_count} | "
                  f"{c.contributions_count} |" for c in s.convergences]
    lines += ["", manifesto_markdown(s).replace("# Projet", "## Projet", 1).replace("\n## P", "\n### P")]
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


def manifesto_html(s: Synthesis, limit: int = 30) -> str:
    """The manifesto draft as a printable page: each proposal cluster, its support and a traceable quote."""
    e = escape
    body = [f"<h1>Projet de manifeste — {e(_scope_title(s))}</h1>",
            f"<p>Version {e(s.version)}. Propositions regroupées par convergence, classées par soutien "
            "(territoires, pays, contributions).</p><ol>"]
    for p in s.proposals[:limit]:
        body.append(f"<li><h2>{e(p.label)}</h2><p>Soutien : {p.territories_count} territoires, "
                    f"{p.countries_count} pays, {p.contributions_count} contributions "
                    f"({p.variants_count} propositions distinctes).</p>"
                    f"<blockquote>{e(p.representative.text)} <cite>{e(p.representative.contribution_id)}</cite>"
                    f"</blockquote><p>Territoires : {e(', '.join(p.territories))}.</p></li>")
    body.append("</ol>")
    style = ("body{font-family:sans-serif;font-size:11pt;margin:2em}blockquote{border-left:3px solid #3c8d5a;"
             "margin:.5em 0;padding-left:.8em}cite{color:#666;font-size:9pt}h2{font-size:13pt}")
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Projet de manifeste</title>'
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def manifesto_pdf(s: Synthesis) -> bytes:
    from weasyprint import HTML

    return HTML(string=manifesto_html(s)).write_pdf()


def to_pdf(s: Synthesis) -> bytes:
    from weasyprint import HTML

    return HTML(string=to_html(s)).write_pdf()
