"""`palabre synthesis ...`: a Typer sub-app mounted by the main CLI."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Synthesis: measured quality of axis assignment and sub-themes.")


@app.callback()
def synthesis() -> None:
    """Synthesis commands (a group, so that `evaluate` stays a sub-command when mounted or run alone)."""


@app.command()
def evaluate(data_dir: Path = typer.Option(None, "--data-dir", help="folder holding decidim-lille-grand-debat/")) -> None:
    """Axis assignment across sources (fitted on the Lille proposals, scored on the Lille debate comments);
    silhouette, stability, traceability."""
    from .evaluation import (
        DEFAULT_DATA_DIR,
        LILLE,
        evaluate_axes,
        evaluate_stability,
        evaluate_synthesis,
        grand_debat_framework,
        load_lille,
        load_lille_comments,
    )

    data_dir = data_dir or DEFAULT_DATA_DIR
    if not (data_dir / LILLE / "propositions-libres.csv").exists():
        typer.echo(f"no data at {data_dir / LILLE}", err=True)
        raise typer.Exit(2)
    proposals = load_lille(data_dir)
    comments = load_lille_comments(data_dir)
    framework = grand_debat_framework()
    console = Console()
    results = evaluate_axes(proposals, comments, framework)
    table = Table(title=f"Axis assignment across sources — fitted on {sum(1 for p in proposals if p.axis)} "
                        f"Lille proposals with a theme, scored on {len(comments)} Lille debate comments")
    for column in ("method", "accuracy", "macro-F1", "coverage"):
        table.add_column(column)
    for method, r in results.items():
        table.add_row(method, f"{r.accuracy:.3f}", f"{r.macro_f1:.3f}", f"{r.coverage:.3f}")
    console.print(table)
    for method, r in list(results.items())[-2:]:
        table = Table(title=f"Per axis — {method}")
        for column in ("axis", "precision", "recall", "F1", "support"):
            table.add_column(column)
        for axis, m in r.per_axis.items():
            table.add_row(axis, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
        console.print(table)
        table = Table(title=f"Confusion (rows: the debate's theme) — {method}")
        table.add_column("")
        for axis in [*r.axes, "non classé"]:
            table.add_column(axis[:14])
        for axis, row in zip(r.axes, r.confusion):
            table.add_row(axis[:14], *[str(n) for n in row])
        console.print(table)
    table = Table(title="Stability — both sources in the order written, a recompute every 100 arrivals "
                        "(the service's reclassify)")
    for column in ("contributions", "axes moved", "share moved", "accuracy on the comments so far"):
        table.add_column(column)
    recomputes, on_arrival = evaluate_stability(proposals, comments, framework, data_dir=data_dir)
    for r in recomputes:
        table.add_row(str(r["contributions"]), str(r["moved"]), f"{r['moved_share']:.1%}", f"{r['accuracy']:.3f}")
    console.print(table)
    console.print(f"Comments placed on arrival in that stream, by the classifier of the last recompute "
                  f"({sum(m['support'] for m in on_arrival.per_axis.values())} comments): accuracy "
                  f"{on_arrival.accuracy:.3f}, macro-F1 {on_arrival.macro_f1:.3f}, coverage {on_arrival.coverage:.3f}")
    s = evaluate_synthesis(proposals, framework)
    table = Table(title="Synthesis")
    table.add_column("measure")
    table.add_column("value")
    table.add_row("sub-theme silhouette (cosine, mean over axes)", f"{s['subtheme_silhouette']:.3f}")
    table.add_row("identical under shuffled input", "yes" if s["stable_under_shuffle"] == 1.0 else "NO")
    table.add_row("quotes traceable to a contribution", f"{s['quotes_traceable']:.1%} of {int(s['quotes'])}")
    table.add_row("manifesto headings that are a proposal's own words",
                  f"{s['headings_from_proposals']:.0%} of {int(s['proposal_clusters'])} clusters")
    table.add_row("proposal clusters: mean coherence / separation from the nearest",
                  f"{s['cluster_coherence']:.3f} / {s['cluster_separation']:.3f}")
    console.print(table)


if __name__ == "__main__":
    app()
