"""Intake's commands: `palabre territory add`, `palabre import`, `palabre intake ...`."""

import io
import json
from pathlib import Path

import typer
from rich.console import Console
from tenacity import Retrying, retry_if_result, stop_after_attempt

from shared.settings import get_settings

app = typer.Typer(help="Intake: territories, consultations, imports.", no_args_is_help=True)
territory_app = typer.Typer(help="Territories of the network.", no_args_is_help=True)
console = Console()

IMPORT_CHUNK_ROWS = 1_000


@territory_app.command("add")
def territory_add(
    slug: str = typer.Argument(..., help="e.g. nantes-metropole"),
    name: str = typer.Option(..., help="Display name"),
    country: str = typer.Option(..., help="ISO 3166-1 alpha-2"),
    kind: str = typer.Option("commune", help="commune, intercommunalite, metropole or ville"),
    language: list[str] = typer.Option(["fr"], help="Languages (repeat)"),
    timezone: str = typer.Option("Europe/Paris"),
    moderation_mode: str = typer.Option("automatic", help="automatic or strict"),
    intake_url: str = typer.Option(None, envvar="PALABRE_INTAKE_URL", help="Intake base URL"),
    admin_key: str = typer.Option(None, envvar="PALABRE_ADMIN_KEY", help="Network-admin key"),
) -> None:
    """Register a territory; prints its API key once."""
    import httpx

    settings = get_settings()
    url = intake_url or settings.base_url_of("intake")
    key = admin_key or _demo_admin_key(settings)
    response = httpx.post(f"{url}/v1/territories", headers={"Authorization": f"Bearer {key}"}, json={
        "id": slug, "name": name, "country": country.upper(), "kind": kind, "languages": language,
        "timezone": timezone, "moderation_mode": moderation_mode,
    }, timeout=30)
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/red] {response.text}")
        raise typer.Exit(1)
    body = response.json()
    console.print(f"Territory [bold]{slug}[/bold] registered. API key (shown once): [bold]{body['api_key']}[/bold]")
    if body.get("nats"):
        console.print(f"NATS credentials: {json.dumps(body['nats'])}")


def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The exported file"),
    territory: str = typer.Option(..., help="The territory the contributions belong to"),
    format: str = typer.Option(..., "--format", help="decidim or csv"),
    mapping: str = typer.Option(None, help="JSON, or @file.json: Decidim {category: axis}; CSV {field: column}"),
    consultation: str = typer.Option(None, help="For rows naming none (default: the territory's open one)"),
    source: str = typer.Option(None, help="Decidim: the instance the export comes from (its host name), for an "
                               "export without url or component/id column"),
    chunk_rows: int = typer.Option(IMPORT_CHUNK_ROWS, min=1, max=100_000, help="Rows per request"),
    errors_csv: Path = typer.Option(None, help="Write every refused row (row, detail) to this CSV file"),
    key: str = typer.Option(None, envvar="PALABRE_TERRITORY_KEY", help="The territory's API key"),
    intake_url: str = typer.Option(None, envvar="PALABRE_INTAKE_URL", help="Intake base URL"),
) -> None:
    """Import a Decidim or CSV export through the HTTP API, in chunks of rows, with a progress bar.

    Bad rows are listed (row number, reason) while the good ones go in; importing the same file again
    adds nothing. Exit code: 0 all rows in, 2 some rows refused, 1 the file or the request was refused.
    """
    import httpx
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from services.intake.domain.parsing import FileError, decode, read_table
    from shared.csv_safety import write_csv

    if format not in ("decidim", "csv"):
        raise typer.BadParameter("decidim or csv", param_hint="--format")
    settings = get_settings()
    url = (intake_url or settings.base_url_of("intake")).rstrip("/")
    key = key or _demo_territory_key(settings, territory)
    if mapping and mapping.startswith("@"):
        mapping = Path(mapping[1:]).read_text(encoding="utf-8")
    try:
        text, note = decode(file.read_bytes())
        lines = io.StringIO(text, newline="").readlines()  # the same lines as read_table's
        starts = [(record.row_number, record.line) for record in read_table(text).records]
    except FileError as exc:
        console.print(f"[red]{file}: nothing imported: {exc}[/red]")
        raise typer.Exit(1) from None
    if note:
        console.print(f"[yellow]{note}[/yellow]")
    totals = {"accepted": 0, "duplicates": 0}
    errors: list[dict] = []
    skipped: list[dict] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as client, Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[counts]}"), console=console,
    ) as progress:
        task = progress.add_task(file.name, total=len(starts), counts="")
        for first in range(0, len(starts), chunk_rows):
            chunk = starts[first:first + chunk_rows]
            end_line = starts[first + chunk_rows][1] - 1 if first + chunk_rows < len(starts) else len(lines)
            body = (lines[0] + "".join(lines[chunk[0][1] - 1:end_line])).encode("utf-8")
            form = {"format": format, "row_offset": str(chunk[0][0] - 2)}
            if mapping:
                form["mapping"] = mapping
            if consultation:
                form["consultation"] = consultation
            if source:
                form["source"] = source
            answer = _post_import(client, file.name, body, form)
            if answer is None:
                raise typer.Exit(1)
            totals["accepted"] += answer["accepted"]
            totals["duplicates"] += answer["duplicates"]
            errors += answer["errors"]
            skipped += answer["skipped"]
            progress.update(task, advance=len(chunk), counts=(
                f"{totals['accepted']} accepted, {totals['duplicates']} duplicates, {len(errors)} errors"))
    console.print(f"{file.name}: {len(starts)} rows, [green]{totals['accepted']} accepted[/green], "
                  f"{totals['duplicates']} duplicates, {len(skipped)} skipped, "
                  f"[{'red' if errors else 'green'}]{len(errors)} errors[/]")
    for error in errors[:20]:
        console.print(f"  row {error['row']}: {error['detail']}", markup=False, highlight=False)
    if len(errors) > 20:
        console.print(f"  … and {len(errors) - 20} more" + (f" (all in {errors_csv})" if errors_csv else ""))
    if errors_csv:
        errors_csv.write_text(write_csv(errors, ["row", "detail"]), encoding="utf-8")
    if errors:
        raise typer.Exit(2)


def _post_import(client, name: str, body: bytes, form: dict) -> dict | None:
    """One chunk; waits when the territory's rate limit says so. None when intake refused it."""
    retrying = Retrying(retry=retry_if_result(lambda r: r.status_code == 429), stop=stop_after_attempt(20),
                        wait=_retry_after, retry_error_callback=lambda state: state.outcome.result())
    response = retrying(client.post, "/v1/imports", data=form, files={"file": (name, body, "text/csv")})
    if response.status_code == 429:
        console.print("[red]still rate-limited after 20 tries[/red]")
        return None
    if response.status_code >= 400:
        try:
            problem = response.json()
            message = f"{problem.get('title')}: {problem.get('detail', '')}"
        except ValueError:
            message = response.text[:500]
        console.print(f"[red]{response.status_code} {message}[/red]", highlight=False)
        return None
    return response.json()


def _retry_after(state) -> float:
    """The wait a 429 answer asks for (`Retry-After`, in seconds)."""
    return float(state.outcome.result().headers.get("retry-after", "1"))


def _demo_territory_key(settings, territory: str) -> str:
    path = settings.var_dir / "demo-credentials.json"
    if path.exists():
        found = json.loads(path.read_text()).get("territories", {}).get(territory, {}).get("api_key")
        if found:
            return found
    console.print("[red]No territory key: set PALABRE_TERRITORY_KEY or pass --key[/red]")
    raise typer.Exit(2)


TOP_LEVEL = {"territory": territory_app, "import": import_file}
app.command("import")(import_file)


def _demo_admin_key(settings) -> str:
    if settings.admin_key:
        return settings.admin_key
    path = settings.var_dir / "demo-credentials.json"
    if path.exists():
        return json.loads(path.read_text())["admin"]["api_key"]
    console.print("[red]No admin key: set PALABRE_ADMIN_KEY or pass --admin-key[/red]")
    raise typer.Exit(2)
