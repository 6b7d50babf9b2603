"""`palabre dlq list|replay`: the dead-letter stream, for people (`shared.dlq` does the work)."""

import asyncio
import json
from datetime import UTC, datetime

import nats
import typer
from rich.console import Console
from rich.table import Table

from shared.bus import NatsAddress
from shared.dlq import chosen, dead_letters, grouped, parse_since, replay
from shared.settings import get_settings

app = typer.Typer(help="The dead-letter stream: what is in it, and sending it again.", no_args_is_help=True)


def _run(work):
    """Run `work(js)` on a connection to the bus named by PALABRE_NATS_URL."""

    async def main():
        nc = await nats.connect(**NatsAddress.parse(get_settings().nats_url).connect_options(), connect_timeout=10)
        try:
            return await work(nc.jetstream(timeout=10))
        finally:
            await nc.close()

    return asyncio.run(main())


def _age(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="One JSON object per group")) -> None:
    """Dead letters grouped by consumer, subject and reason: how many, and how old."""
    groups = grouped(_run(dead_letters))
    now = datetime.now(UTC)
    if as_json:
        typer.echo(json.dumps([{"consumer": g.consumer, "subject": g.subject, "reason": g.reason, "count": g.count,
                                "oldest": g.oldest.isoformat(), "newest": g.newest.isoformat(),
                                "age_s": int((now - g.oldest).total_seconds())} for g in groups],
                              ensure_ascii=False, indent=2))
        return
    if not groups:
        typer.echo("The dead-letter stream is empty.")
        return
    table = Table(title=f"{sum(g.count for g in groups)} dead letters")
    for column in ("count", "age", "consumer", "subject", "reason"):
        table.add_column(column)
    for g in groups:
        age = _age(g.oldest, now) if g.count == 1 else f"{_age(g.newest, now)}–{_age(g.oldest, now)}"
        table.add_row(str(g.count), age, g.consumer, g.subject, g.reason[:200])
    Console().print(table)


@app.command("replay")
def replay_command(
    subject: str = typer.Option(None, help="Only events published on this subject (NATS wildcards * and >)"),
    since: str = typer.Option(None, help="Only dead letters from this time on: 30m, 2h, 7d or ISO 8601"),
    consumer: str = typer.Option(None, help="Only those this durable consumer dead-lettered"),
) -> None:
    """Send dead letters again to the consumer that gave up on them (then delete them); idempotent."""
    try:
        start = parse_since(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from exc

    async def work(js):
        letters = chosen(await dead_letters(js), subject=subject, since=start, consumer=consumer)
        return len(letters), await replay(js, letters)

    found, replayed = _run(work)
    typer.echo(f"replayed {replayed} of {found} dead letters")
