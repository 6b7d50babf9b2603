"""`palabre moderation ...`: measure the charter checks on labelled cases and on the Lille comments."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shared.db import create_pool
from shared.settings import get_settings

from . import hatecheck, store
from .domain import overturns
from .evaluation import (
    CASES_PATH,
    SNAPSHOT_PATH,
    UNSEEN_PATH,
    HateCheckReport,
    as_functional_tests,
    benchmark,
    benchmark_runner,
    compare_outcomes,
    current_outcomes,
    default_lille_dir,
    evaluate,
    evaluate_hatecheck,
    evaluate_hatecheck_dir,
    evaluate_lille,
    load_cases,
    load_snapshot,
    read_lille_comments,
    spelling_evasions,
    write_snapshot,
)

app = typer.Typer(help="Moderation: the charter checks, measured.", no_args_is_help=True)
console = Console()


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


@app.command("evaluate")
def evaluate_command(
    cases: Path = typer.Option(CASES_PATH, "--cases", help="Labelled cases, one JSON object a line."),
    lille_dir: Path = typer.Option(None, "--lille-dir", help="Folder of the Lille Grand Débat Decidim export."),
    hatecheck_dir: Path = typer.Option(None, "--hatecheck-dir", help="Folder of Multilingual HateCheck's development half."),
    part: str = typer.Option("report", "--part", help="HateCheck part: report (never tuned on) or tuning."),
) -> None:
    """Personal-data recall and precision, violations caught, clean contributions wrongly held; HateCheck
    per language and functionality; the Lille comments held."""
    if part not in ("report", "tuning"):
        raise typer.BadParameter("report or tuning", param_hint="--part")
    report = evaluate(load_cases(cases))
    table = Table(title=f"Charter checks on {report.cases} labelled cases ({cases.name})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("detail")
    table.add_row("personal data recall", _percent(report.personal_data_recall),
                  f"{report.personal_data_masked}/{report.personal_data_labelled} masked")
    for kind in report.recall_by_kind:
        table.add_row(f"  {kind.kind}", _percent(kind.recall), f"{kind.masked}/{kind.labelled}, {kind.typed} with their own placeholder")
    table.add_row("personal data precision", _percent(report.personal_data_precision),
                  f"{report.redactions_on_labelled_data}/{report.redactions} redactions on labelled data")
    table.add_row("violations caught", _percent(report.violations_caught_rate),
                  f"{report.violations_caught}/{report.violations} held or rejected, {report.violations_right_ground} on the expected ground")
    table.add_row("clean wrongly held", _percent(report.clean_wrongly_held_rate),
                  f"{report.clean_wrongly_held}/{report.clean}")
    table.add_row("rate", f"{report.rate_per_second:.0f}/s", f"{report.seconds:.2f} s, model loading included")
    console.print(table)
    for label, values in (("violations missed", report.violations_missed), ("data missed", report.data_missed),
                          ("non-violations held", report.non_violations_wrongly_held)):
        if values:
            console.print(f"[yellow]{label}:[/] {', '.join(values)}")

    own = [case for case in load_cases(cases) if case.id.startswith("charter-")]
    if own:
        charter = evaluate(own)
        console.print(f"Charter situations ({len(own)} cases: officials, agents, public services, the network's "
                      f"countries): violations held {charter.violations_caught}/{charter.violations}, clean published "
                      f"as written {charter.clean - charter.clean_wrongly_held}/{charter.clean}")
    evasions = Table(title="Spelling evasions: each caught hate or threat case altered once where it was flagged")
    evasions.add_column("evasion")
    evasions.add_column("still held or rejected", justify="right")
    for figures in spelling_evasions(load_cases(cases)):
        evasions.add_row(figures.evasion, f"{_percent(figures.still_caught / figures.tried if figures.tried else 1.0)} "
                                          f"({figures.still_caught}/{figures.tried})")
    console.print(evasions)
    _print_hatecheck(hatecheck_dir or hatecheck.default_dir(), part)
    unseen = load_cases(UNSEEN_PATH)
    _print_functional(evaluate_hatecheck(as_functional_tests(unseen)),
                      f"Our unseen cases ({len(unseen)}, {UNSEEN_PATH.name}: never trained on nor written from)")

    directory = lille_dir or default_lille_dir()
    if not (directory / "commentaires_debats.csv").exists():
        console.print(f"[dim]Lille comments not found in {directory}: skipped.[/]")
        return
    lille = evaluate_lille(directory)
    table = Table(title=f"Lille Grand Débat comments ({lille.comments}, ordinary civic text)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("detail")
    table.add_row("held for a person", _percent(lille.held_rate),
                  f"{lille.held}: " + ", ".join(f"{g} {n}" for g, n in sorted(lille.held_by_ground.items())))
    table.add_row("flagged, still published", str(lille.flagged_only), "suspect words, links, off-topic")
    table.add_row("personal data masked", str(sum(lille.personal_data_found.values())),
                  ", ".join(f"{k} {n}" for k, n in sorted(lille.personal_data_found.items())))
    table.add_row("author's name masked when signed", _percent(lille.signature_recall),
                  f"{lille.signatures_masked}/{lille.signed} comments signed with their author's name")
    table.add_row("rate", f"{lille.rate_per_second:.0f}/s", f"{lille.seconds:.2f} s for the whole batch")
    console.print(table)


def _print_hatecheck(directory: Path, part: str) -> None:
    if not hatecheck.available(directory):
        console.print(f"[dim]Multilingual HateCheck not found in {directory}: skipped.[/]")
        return
    _print_functional(evaluate_hatecheck_dir(directory, part),  # type: ignore[arg-type]
                      f"Multilingual HateCheck, {part} part of the development half (split by template)")


def _print_functional(report: HateCheckReport, title: str) -> None:
    """Functional tests' figures: by language, then by functionality."""
    table = Table(title=title)
    for column in ("language", "hateful published", "direct threats published", "non-hateful published as written",
                   "of them, allowed by the charter*", "allowed, rejected"):
        table.add_column(column, justify="right")
    for lang in report.by_language:
        table.add_row(lang.language, f"{_percent(lang.hateful_published_rate)} ({lang.hateful_published}/{lang.hateful})",
                      f"{lang.direct_threats_published}/{lang.direct_threats}",
                      f"{_percent(lang.non_hateful_published_rate)} ({lang.non_hateful_published}/{lang.non_hateful})",
                      f"{_percent(lang.charter_clean_published_rate)} ({lang.charter_clean_published}/{lang.charter_clean})",
                      str(lang.charter_clean_rejected))
    console.print(table)
    console.print("[dim]* all non-hateful cases but target_indiv_nh and target_group_nh: threats and abuse aimed at "
                  "one person or at a group the charter does not protect, which its threat and insult grounds hold.[/]")
    table = Table(title="per functionality (_h hateful: published is a miss; _nh: published as written is right)")
    for column in ("language", "functionality", "cases", "published", "held", "rejected"):
        table.add_column(column, justify="right" if column not in ("language", "functionality") else "left")
    for row in report.by_functionality:
        table.add_row(row.language, row.functionality, str(row.cases),
                      f"{row.published} ({_percent(row.published_rate)})", str(row.held), str(row.rejected))
    console.print(table)


@app.command("snapshot")
def snapshot_command(
    write: bool = typer.Option(False, "--write", help="Write today's outcomes as the reviewed snapshot."),
    hatecheck_dir: Path = typer.Option(None, "--hatecheck-dir", help="Folder of Multilingual HateCheck's development half."),
) -> None:
    """Compare every labelled case's outcome with the reviewed snapshot (data/eval/expected_outcomes.jsonl);
    with --write, after reviewing the differences, make today's outcomes the snapshot."""
    directory = hatecheck_dir or hatecheck.default_dir()
    hatecheck_cases = hatecheck.load(directory) if hatecheck.available(directory) else []
    current = current_outcomes(load_cases(), hatecheck_cases, load_cases(UNSEEN_PATH))
    sources = {"cases", "unseen", "hatecheck"} if hatecheck_cases else {"cases", "unseen"}
    drift = compare_outcomes(load_snapshot(), current, sources)
    for label, values in (("changed", drift.changed), ("relabelled", drift.relabelled), ("added", drift.added),
                          ("removed", drift.removed)):
        console.print(f"{label}: {len(values)}")
        for value in values[:200]:
            console.print(f"  {value}", markup=False)
    if write:
        kept = [o for o in load_snapshot() if o.source not in sources]
        write_snapshot(sorted(kept + current, key=lambda o: (o.source, o.id)))
        console.print(f"written: {SNAPSHOT_PATH}")


@app.command("train-model")
def train_model_command(
    threshold: float = typer.Option(0.8, "--threshold", min=0.0, max=1.0,
                                    help="Probability from which a sentence is held, in languages where our "
                                         "clean cases set none."),
    hatecheck_dir: Path = typer.Option(None, "--hatecheck-dir", help="Folder of Multilingual HateCheck's development half."),
    write: bool = typer.Option(False, "--write", help="Write the model to data/sentence_model.json."),
) -> None:
    """Train the sentence model on HateCheck's tuning part and our labelled cases; print its figures across
    templates (grouped cross-validation) for several thresholds."""
    from services.moderation import training
    from services.moderation.domain.sentence_model import MODEL_PATH

    directory = hatecheck_dir or hatecheck.default_dir()
    if not hatecheck.available(directory):
        console.print(f"[red]HateCheck's development half is not in {directory}[/]")
        raise typer.Exit(1)
    cases = load_cases()
    model, held_out = training.train(training.training_cases(cases, hatecheck.load(directory, "tuning")), threshold)
    # the clean cases of the charter's situations, as `evaluate` counts them
    clean = [case for case in cases if case.id.startswith("charter-") and not case.violation and not case.personal_data]
    model.thresholds = training.thresholds_keeping_clean_published(held_out, clean)
    table = Table(title=f"Sentence model, cross-validated by template, trained on {model.trained_on}")
    for column in ("threshold", "HateCheck hateful missed", "HateCheck non-hateful held", "our clean cases held"):
        table.add_column(column, justify="right")
    for row in model.cross_validation["by_threshold"]:  # type: ignore[union-attr]
        table.add_row(f"{row['threshold']:.2f}",
                      " ".join(f"{k} {_percent(v)}" for k, v in row["hatecheck_missed"].items()),
                      " ".join(f"{k} {_percent(v)}" for k, v in row["hatecheck_held_wrongly"].items()),
                      f"{row['own_clean_held']}/{row['own_clean']}")
    console.print(table)
    console.print(f"thresholds by language (our clean cases {_percent(training.CLEAN_PUBLISHED)} published as "
                  f"written): {model.thresholds}; elsewhere {model.threshold}")
    if write:
        MODEL_PATH.write_text(model.model_dump_json(indent=1) + "\n", encoding="utf-8")
        console.print(f"written: {MODEL_PATH}")


@app.command("inflections")
def inflections_command(
    write: bool = typer.Option(False, "--write", help="Write the lists (otherwise only say whether they are current)."),
) -> None:
    """Rewrite the inflected forms and the real words read beside the statement lexicon, from simplemma's
    French and German dictionaries and two polarity lexicons (needs the lexicons extra: pip install -e '.[lexicons]')."""
    from services.moderation import inflections

    if write:
        inflections.write_word_lists()
        console.print(f"written: {inflections.INFLECTIONS_PATH.name}, {inflections.REAL_WORDS_PATH.name}, "
                      f"{inflections.POLARITY_PATH.name}, {inflections.WORD_FREQUENCIES_PATH.name}")
        return
    current = inflections.INFLECTIONS_PATH.read_text(encoding="utf-8") == inflections.inflections_text()
    console.print("inflections.txt is current" if current else "[yellow]inflections.txt is stale: run with --write[/]")
    if not current:
        raise typer.Exit(1)


@app.command("bench")
def bench_command(
    size: int = typer.Option(2000, help="How many contributions in the batch."),
    lille_dir: Path = typer.Option(None, "--lille-dir", help="Use the Lille comments as bodies (else the labelled cases)."),
    workers: list[int] = typer.Option([0, 2], "--workers", help="Also measure the service's path with these numbers "
                                      "of worker processes for the name model (0: one thread), in batches of 500."),
) -> None:
    """Contributions moderated per second by one batch, with and without the name model."""
    directory = lille_dir or default_lille_dir()
    if (directory / "commentaires_debats.csv").exists():
        bodies = [row["body"] for row in read_lille_comments(directory)]
    else:
        bodies = [case.body for case in load_cases()]
    report = benchmark(bodies, size)
    table = Table(title=f"check_batch over {report.contributions} contributions ({report.mean_characters:.0f} characters on average)")
    table.add_column("what")
    table.add_column("contributions/s", justify="right")
    table.add_row("every check but names", f"{report.without_names_per_second:.0f}")
    table.add_row("whole batch, names included", f"{report.whole_batch_per_second:.0f}")
    for count in workers:
        rate = benchmark_runner(bodies, size, count)
        label = "service path, one thread" if count == 0 else f"service path, {count} name-model processes"
        table.add_row(label, f"{rate:.0f}")
    console.print(table)


async def _overturned_since(database_url: str, since: datetime) -> list[overturns.Overturned]:
    pool = await create_pool(database_url, "moderation", max_size=1)
    try:
        rows = await store.overturned_cases(pool, since=since, holding_grounds=overturns.holding_grounds())
    finally:
        await pool.close()
    return [overturns.Overturned.model_validate(row) for row in rows]


@app.command("disagreements")
def disagreements_command(
    since: datetime = typer.Option(..., "--since", formats=["%Y-%m-%d"],
                                   help="Automatic decisions made since this day (UTC)."),
    output: Path = typer.Option(None, "--output", help="JSONL file to write (default: standard output)."),
) -> None:
    """The automatic decisions a person overturned (a publication rejected, a hold or rejection published),
    as candidate labelled cases in the shape of data/eval/cases.jsonl: personal data redacted, labelled by
    the person's decision, both outcomes kept, nothing pointing to the author."""
    database_url = get_settings().database_url
    if not database_url:
        raise typer.BadParameter("PALABRE_DATABASE_URL is not set: which database to read?")
    cases = overturns.candidate_cases(asyncio.run(_overturned_since(database_url, since.replace(tzinfo=UTC))))
    lines = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
    if output is None:
        typer.echo(lines, nl=False)
    else:
        output.write_text(lines, encoding="utf-8")
    Console(stderr=True).print(f"{len(cases)} overturned decisions since {since:%Y-%m-%d}"
                               + (f": {output}" if output else ""))


if __name__ == "__main__":
    app()
