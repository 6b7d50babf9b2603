"""Intake's commands: `palabre territory add`, `palabre intake ...`."""

import json

import typer
from rich.console import Console

from shared.settings import get_settings

app = typer.Typer(help="Intake: territories, consultations, imports.", no_args_is_help=True)
territory_app = typer.Typer(help="Territories of the network.", no_args_is_help=True)
console = Console()

TOP_LEVEL = {"territory": territory_app}


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


def _demo_admin_key(settings) -> str:
    if settings.admin_key:
        return settings.admin_key
    path = settings.var_dir / "demo-credentials.json"
    if path.exists():
        return json.loads(path.read_text())["admin"]["api_key"]
    console.print("[red]No admin key: set PALABRE_ADMIN_KEY or pass --admin-key[/red]")
    raise typer.Exit(2)
