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
    """Axis assignment against the Lille authors' categories; silhouette, stability, traceability."""
    from .evaluation import DEFAULT_DATA_DIR, LILLE, evaluate_axes, evaluate_synthesis, grand_debat_framework, load_lille

    data_dir = data_dir or DEFAULT_DATA_DIR
    if not (data_dir / LILLE / "propositions-libres.csv").exists():
        typer.echo(f"no data at {data_dir / LILLE}", err=True)
        raise typer.Exit(2)
    proposals = load_lille(data_dir)
    framework = grand_debat_framework()
    console = Console()
    table = Table(title=f"Axis assignment — {sum(1 for p in proposals if p.axis)} Lille proposals with a theme")
    for column in ("method", "accuracy", "macro-F1", "coverage", "accuracy when assigned"):
        table.add_column(column)
    results = evaluate_axes(proposals, framework)
    for method, r in results.items():
        table.add_row(method, f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}", f"{r['coverage']:.3f}",
                      f"{r['accuracy_assigned']:.3f}")
    console.print(table)
    share = results["self-trained"].get("autre_sujet_unclassified")
    if share is not None:
        console.print(f"'Autre sujet' proposals left unclassified by the self-trained model: {share:.0%}")
    s = evaluate_synthesis(proposals, framework)
    table = Table(title="Synthesis")
    table.add_column("measure")
    table.add_column("value")
    table.add_row("sub-theme silhouette (cosine, mean over axes)", f"{s['subtheme_silhouette']:.3f}")
    table.add_row("identical under shuffled input", "yes" if s["stable_under_shuffle"] == 1.0 else "NO")
    table.add_row("quotes traceable to a contribution", f"{s['quotes_traceable']:.1%} of {int(s['quotes'])}")
    console.print(table)


if __name__ == "__main__":
    app()
