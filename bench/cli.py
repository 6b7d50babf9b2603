"""`palabre bench`: the figures of DESIGN §6 measured on this machine, with its raw ceilings beside them.

It starts its own stack (nothing else needs to run), prints a table and writes `var/bench/latest.json`.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess  # nosec B404 # fixed argv only, never a shell
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()

TARGETS = {
    "pipeline_contributions_per_s": (1000.0, ">="),
    "decision_p99_ms": (250.0, "<"),
    "import_seconds_100k": (120.0, "<"),
    "synthesis_1m_seconds": (180.0, "<"),
    "synthesis_1m_peak_gib": (2.0, "<"),
}


def bench(
    contributions: int = typer.Option(10_000, help="Contributions sent through the whole pipeline"),
    rate: float = typer.Option(200.0, help="Offered rate (contributions/s) for the latency measurement"),
    latency_seconds: float = typer.Option(20.0, help="How long the fixed rate is offered"),
    subscriptions: int = typer.Option(1000, help="Webhook subscriptions for the delivery measurement"),
    import_rows: int = typer.Option(100_000, help="Rows imported (0: skip)"),
    sizes: str = typer.Option("100000", help="Synthesis sizes, comma-separated (e.g. 100000,1000000; '' skips): "
                                             "contributions loaded into PostgreSQL, then one recompute of every "
                                             "scope by the worker's own code"),
    durability: str = typer.Option("default", help="Durability profiles, comma-separated, or 'all': "
                                                   "default, nats-fsync-always, pg-async-commit, r3-cluster"),
    replicas: int = typer.Option(2, help="Also measure the pipeline with this many moderation and synthesis "
                                         "replicas (1: skip)"),
    profile: bool = typer.Option(False, help="Record py-spy profiles of the services during the pipeline run"),
    output: Path = typer.Option(Path("var/bench/latest.json"), help="Where the figures are written"),
    keep: bool = typer.Option(False, help="Keep the stacks' data and logs under var/bench/"),
) -> None:
    """Measure throughput, latency, import, synthesis, webhooks and CPU against the machine's ceilings."""
    from bench.stack import DURABILITY_PROFILES

    if profile and not _py_spy().exists():
        raise typer.BadParameter("--profile needs py-spy: pip install -e '.[profiling]'", param_hint="--profile")
    names = list(DURABILITY_PROFILES) if durability == "all" else [n.strip() for n in durability.split(",") if n]
    unknown = [n for n in names if n not in DURABILITY_PROFILES]
    if unknown or not names:
        raise typer.BadParameter(f"unknown durability profiles {unknown}; known: {list(DURABILITY_PROFILES)}")
    if names[0] != "default" and "default" in names:
        names.remove("default")
        names.insert(0, "default")
    work = output.parent
    work.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    started = time.monotonic()
    results: dict[str, Any] = {"profiles": {}, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        for index, name in enumerate(names):
            full = index == 0
            console.print(f"[bold]Durability profile {name}[/bold] ({'full run' if full else 'pipeline and latency'})")
            run = _run_profile(
                root / name, DURABILITY_PROFILES[name], full=full, contributions=contributions, rate=rate,
                latency_seconds=latency_seconds, subscriptions=subscriptions, import_rows=import_rows,
                replicas=replicas if full else 1, profile=profile and full)
            # the main profile's figures are required; another profile that fails is reported as failed
            results["profiles"][name] = asyncio.run(run if full else _measured(run))
        from bench.measure import synthesis_at_scale

        results["synthesis"] = {}
        for size in [int(s) for s in sizes.split(",") if s.strip()]:
            console.print(f"Synthesis over {size:,} contributions…")
            results["synthesis"][str(size)] = synthesis_at_scale(size, root / f"synthesis-{size}")
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    results["total_seconds"] = time.monotonic() - started
    figures = summary(results, names[0])
    output.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print_table(figures)
    console.print(f"Written to {output} ({results['total_seconds'] / 60:.1f} min)")




async def _run_profile(root: Path, durability, *, full: bool, contributions: int, rate: float,
                       latency_seconds: float, subscriptions: int, import_rows: int, replicas: int,
                       profile: bool) -> dict[str, Any]:
    from bench import measure
    from bench.receiver import ReceiverProcess
    from bench.stack import Stack

    # in a thread: setting up a cluster or PostgreSQL settings runs its own event loop
    stack = await asyncio.to_thread(
        lambda: Stack(root, durability=durability).start_infra())
    receiver = ReceiverProcess(root / "logs").start()
    out: dict[str, Any] = {"durability": durability.__dict__ | {"nodes": durability.nodes}}
    try:
        stack.start_all()
        console.print("  ceilings…")
        out["ceiling"] = {**await measure.jetstream_ceiling(stack), **await measure.postgres_copy_ceiling(stack)}
        network = await asyncio.to_thread(measure.register_network, stack, receiver)
        console.print("  warm-up…")
        await measure.pipeline_throughput(stack, receiver, network, 1000, prefix="warm-")
        console.print(f"  pipeline, {contributions:,} contributions…")
        profiler = _start_profiles(stack, root) if profile else []
        out["pipeline"] = await measure.pipeline_throughput(stack, receiver, network, contributions, prefix="p1-")
        out["profiles"] = _stop_profiles(profiler)
        console.print(f"  latency at {rate:.0f}/s for {latency_seconds:.0f} s…")
        out["latency"] = await measure.decision_latency(stack, network, rate=rate, seconds=latency_seconds,
                                                        prefix="lat-")
        if not full:
            return out
        if replicas > 1:
            console.print(f"  pipeline with {replicas} replicas of moderation and synthesis…")
            out["pipeline_replicas"] = await _measured(_with_replicas(stack, receiver, network, replicas,
                                                                      contributions))
            out["stage_drains"] = await _measured(_stage_drains(stack, receiver, network, replicas, contributions))
        console.print("  SQL statements and commits per contribution at 50/s…")
        out["sql"] = await _measured(measure.sql_per_contribution(stack, receiver, network, rate=50.0,
                                                                  seconds=20.0, prefix="sql-"))
        console.print(f"  webhooks to {subscriptions} subscriptions…")
        out["webhooks"] = await _measured(measure.webhook_fan_out(stack, receiver, subscriptions=subscriptions))
        if import_rows:
            console.print(f"  import of {import_rows:,} rows…")
            out["import"] = await _measured(measure.import_throughput(stack, import_rows))
        return out
    finally:
        receiver.stop()
        stack.stop()


async def _measured(measurement) -> dict[str, Any]:
    """A secondary measurement that fails is reported as failed; the others still run."""
    try:
        return await measurement
    except Exception as exc:  # noqa: BLE001 - the table says what failed and why
        console.print(f"[red]  failed: {type(exc).__name__}: {exc}[/red]")
        return {"error": f"{type(exc).__name__}: {exc}"}


async def _stage_drains(stack, receiver, network, replicas: int, contributions: int) -> dict[str, Any]:
    """Moderation, then synthesis, each draining a backlog with one process and with `replicas`."""
    from bench import measure

    drains: dict[str, Any] = {}
    for stage in measure.STAGES_STOPPED:
        for count in (1, replicas):
            console.print(f"  {stage} draining a backlog of {contributions:,}, {count} replica(s)…")
            drains[f"{stage}-{count}"] = await measure.stage_drain(
                stack, receiver, network, stage, count, contributions, prefix=f"d-{stage}-{count}-")
    return drains


async def _with_replicas(stack, receiver, network, replicas: int, contributions: int) -> dict[str, Any]:
    from bench import measure

    for name in ("moderation", "synthesis"):
        for replica in range(1, replicas):
            stack.start_service(name, replica, wait=False)
    for name in ("moderation", "synthesis"):
        for replica in range(1, replicas):
            await asyncio.to_thread(stack.processes[(name, replica)].wait_ready, 120)
    return {"replicas": replicas, **await measure.pipeline_throughput(stack, receiver, network, contributions,
                                                                       prefix=f"r{replicas}-")}


def _py_spy() -> Path:
    """py-spy from the PATH, else beside this Python (the `profiling` extra)."""
    found = shutil.which("py-spy")
    return Path(found) if found else Path(sys.executable).parent / "py-spy"


def _start_profiles(stack, root: Path) -> list[tuple[str, subprocess.Popen, Path]]:
    """py-spy (sampling, non-blocking) attached to every service process for the pipeline run."""
    py_spy = str(_py_spy())
    profiles = []
    target = Path("var/bench/profiles")
    target.mkdir(parents=True, exist_ok=True)
    for (name, replica), process in stack.processes.items():
        path = target / f"{name}-{replica}.txt"
        profiles.append((f"{name}-{replica}", subprocess.Popen(  # nosec B603 # fixed argv, no shell
            [py_spy, "record", "--nonblocking", "--format", "raw", "--rate", "50", "-o", str(path),
             "--pid", str(process.process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), path))
    return profiles


def _stop_profiles(profiles) -> dict[str, str]:
    import signal

    for _, process, _ in profiles:
        process.send_signal(signal.SIGINT)
    for _, process, _ in profiles:
        process.wait(timeout=30)
    return {name: str(path) for name, _, path in profiles}


def summary(results: dict[str, Any], main: str) -> dict[str, Any]:
    """The figures of latest.json: the main profile's, plus each other profile's pipeline and latency."""
    run = results["profiles"][main]
    ceiling = run["ceiling"]
    figures: dict[str, Any] = {
        "pipeline_contributions_per_s": run["pipeline"]["contributions_per_s"],
        "decision_latency_ms": {k: run["latency"][k] for k in ("p50", "p95", "p99")},
        "decision_undecided": run["latency"].get("undecided"),
        "import_rows_per_s": run.get("import", {}).get("rows_per_s"),
        "synthesis": {size: ({k: v for k, v in r.items() if k in ("seconds", "peak_gib", "scopes", "error")})
                      for size, r in results.get("synthesis", {}).items()},
        "webhook_deliveries_per_s": run.get("webhooks", {}).get("deliveries_per_s"),
        "cpu_s_per_1000": run["pipeline"]["cpu_s_per_1000"],
        "ceiling": ceiling,
        "details": {
            "durability": run["durability"],
            "pipeline": run["pipeline"],
            "latency": run["latency"],
            "pipeline_replicas": run.get("pipeline_replicas"),
            "stage_drains": run.get("stage_drains"),
            "webhooks": run.get("webhooks"),
            "sql": run.get("sql"),
            "import": run.get("import"),
            "synthesis": results.get("synthesis"),
            "profiles": run.get("profiles"),
            "total_seconds": results["total_seconds"],
            "started_at": results["started_at"],
        },
        "durability": {
            name: {"error": r["error"]} if "error" in r else {
                "settings": r["durability"], "pipeline_contributions_per_s": r["pipeline"]["contributions_per_s"],
                "decision_latency_ms": {k: r["latency"][k] for k in ("p50", "p95", "p99")},
                "cpu_s_per_1000": r["pipeline"]["cpu_s_per_1000"], "ceiling": r["ceiling"]}
            for name, r in results["profiles"].items()
        },
    }
    return figures


def _ratio(value: float | None, ceiling: float | None) -> str:
    if not value or not ceiling or math.isnan(value):
        return ""
    return f"{value / ceiling:.1%}"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{value:,.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def print_table(figures: dict[str, Any]) -> None:
    ceiling = figures["ceiling"]
    details = figures["details"]
    from bench.measure import RECEIVER_LIMITS

    table = Table(title="Palabre on this machine", caption="the receiver's subscription asks for " + ", ".join(
        f"{name}={value}" for name, value in RECEIVER_LIMITS.items()))
    for column in ("measure", "figure", "target (DESIGN §6)", "ratio to ceiling"):
        table.add_column(column)
    pipeline = figures["pipeline_contributions_per_s"]
    table.add_row("pipeline, HTTP in → decided → counted → delivered", _fmt(pipeline, "/s"), "≥ 1,000/s",
                  f"{_ratio(pipeline, ceiling['jetstream_pub_per_s'])} of JetStream publish")
    replicas = details.get("pipeline_replicas")
    if replicas and "error" in replicas:
        table.add_row("  same, with more replicas", f"failed: {replicas['error'][:80]}", "", "")
    elif replicas:
        table.add_row(f"  same, {replicas['replicas']}× moderation and synthesis",
                      _fmt(replicas["contributions_per_s"], "/s"), "more than 1×",
                      _ratio(replicas["contributions_per_s"], ceiling["jetstream_pub_per_s"]))
    drains = details.get("stage_drains")
    if drains and "error" in drains:
        table.add_row("  a stage draining a backlog", f"failed: {drains['error'][:80]}", "", "")
    elif drains:
        for stage in ("moderation", "synthesis"):
            one, more = (drains[key] for key in sorted(k for k in drains if k.startswith(f"{stage}-")))
            table.add_row(f"  {stage} alone draining {one['backlog']:,}, 1 → {more['replicas']} replicas",
                          f"{one['per_s']:,.0f}/s → {more['per_s']:,.0f}/s ({more['per_s'] / one['per_s']:.2f}×)",
                          "more than 1×", "")
    latency = figures["decision_latency_ms"]
    table.add_row(f"submission → decision at {details['latency']['offered_per_s']:.0f}/s, p50 / p95 / p99",
                  f"{latency['p50']:.0f} / {latency['p95']:.0f} / {latency['p99']:.0f} ms", "p99 < 250 ms", "")
    table.add_row("  undecided when the window closed, each counted as the whole window",
                  f"{details['latency'].get('undecided', 0):,} of {details['latency']['sent']:,}"
                  f" ({details['latency']['failed_requests']:,} refused by intake)", "0", "")
    at_rate = details["latency"].get("cpu_s_per_1000_by_part")
    if at_rate:
        table.add_row(f"  CPU at that rate: {details['latency']['cores_busy']:.2f} of {details['latency']['cores']}"
                      " cores busy; CPU-seconds per 1,000 contributions, one per request",
                      ", ".join(f"{part} {seconds:.2f}" for part, seconds in at_rate.items()), "", "")
    sql = details.get("sql")
    if sql and "error" in sql:
        table.add_row("SQL per contribution", f"failed: {sql['error'][:80]}", "", "")
    elif sql:
        table.add_row(f"SQL per contribution at {sql['offered_per_s']:.0f}/s, all four services (net of idle)",
                      f"{sql['statements']:.1f} statements, {sql['commits']:.2f} commits "
                      f"({sql['statements_net']:.1f}, {sql['commits_net']:.2f})", "statements ≤ 12", "")
    imported = details.get("import")
    if imported and "error" in imported:
        table.add_row("import", f"failed: {imported['error'][:80]}", "100,000 rows < 2 min", "")
    elif imported:
        table.add_row(f"import, {imported['rows']:,} rows ({imported['path']})",
                      f"{imported['rows_per_s']:,.0f} rows/s ({imported['seconds']:.0f} s)",
                      "100,000 rows < 2 min", f"{_ratio(imported['rows_per_s'], ceiling['pg_copy_rows_per_s'])} of COPY")
    for size, result in figures["synthesis"].items():
        figure = result.get("error") or f"{result['seconds']:.0f} s, {result['peak_gib']:.2f} GiB peak"
        target = "< 3 min, < 2 GiB" if int(size) >= 1_000_000 else ""
        table.add_row(f"synthesis recompute from PostgreSQL, {int(size):,} contributions", figure, target, "")
        if "scopes" in result:
            covered = ", ".join(f"{n} {scope}" for scope, n in result["scopes"].items())
            table.add_row("  scopes computed and stored", covered, "every scope", "")
    webhooks = figures["webhook_deliveries_per_s"]
    if details.get("webhooks") and "error" in details["webhooks"]:
        table.add_row("webhook deliveries", f"failed: {details['webhooks']['error'][:80]}", "", "")
    elif webhooks:
        table.add_row(f"webhook deliveries ({details['webhooks']['subscriptions']} subscriptions)",
                      _fmt(webhooks, "/s"), "", f"{_ratio(webhooks, ceiling['pg_copy_rows_per_s'])} of COPY")
    table.add_row("CPU-seconds per 1,000 contributions (services)", _fmt(figures["cpu_s_per_1000"], " s"), "", "")
    table.add_row("  and NATS + PostgreSQL", _fmt(details["pipeline"]["infra_cpu_s_per_1000"], " s"), "", "")
    by_part = details["pipeline"].get("cpu_s_per_1000_by_part") or {}
    if by_part:
        table.add_row("  by part", ", ".join(f"{part} {seconds:.2f}" for part, seconds in by_part.items()), "", "")
    table.add_row("ceiling: JetStream publish with ack", _fmt(ceiling["jetstream_pub_per_s"], "/s"), "", "")
    table.add_row("ceiling: JetStream pull consume with ack", _fmt(ceiling["jetstream_consume_per_s"], "/s"), "", "")
    table.add_row("ceiling: PostgreSQL COPY", _fmt(ceiling["pg_copy_rows_per_s"], " rows/s"), "", "")
    console.print(table)
    if len(figures["durability"]) > 1:
        durability = Table(title="What durability costs")
        for column in ("profile", "NATS fsync", "replicas", "PG synchronous_commit", "pipeline", "p99",
                       "CPU s/1,000", "JetStream publish ceiling"):
            durability.add_column(column)
        for name, row in figures["durability"].items():
            if "error" in row:
                durability.add_row(name, f"failed: {row['error'][:80]}", "", "", "", "", "", "")
                continue
            settings = row["settings"]
            durability.add_row(name, settings["nats_sync_interval"], str(settings["stream_replicas"]),
                               settings["pg_synchronous_commit"], _fmt(row["pipeline_contributions_per_s"], "/s"),
                               f"{row['decision_latency_ms']['p99']:.0f} ms", _fmt(row["cpu_s_per_1000"]),
                               _fmt(row["ceiling"]["jetstream_pub_per_s"], "/s"))
        console.print(durability)
