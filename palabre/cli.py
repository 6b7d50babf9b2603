"""`palabre`: run the system, administer territories, import files, measure."""

import json
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from palabre import dlq
from palabre.registry import SERVICE_NAMES, SERVICES, service
from shared.settings import get_settings

app = typer.Typer(help="Palabre: public consultations across a network of territories.", no_args_is_help=True)
console = Console()


@app.command()
def serve(name: str = typer.Argument(..., metavar="SERVICE", help=" or ".join(SERVICE_NAMES)),
          port: int = typer.Option(None, help="HTTP port (default: the service's)"),
          host: str = typer.Option(None, help="Bind address (default: PALABRE_HOST)")) -> None:
    """Run one service (what a container or a Deployment runs)."""
    import uvicorn

    try:
        chosen = service(name)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    module = chosen.load_app_module()
    single_threaded_native_math()
    uvicorn.run(module.app, host=host or get_settings().host, port=port or chosen.port,
                log_config=None, access_log=False, timeout_graceful_shutdown=10)


def single_threaded_native_math() -> None:
    """One BLAS/OpenMP thread in a service process. Its numerical work (the name recogniser, the
    classifier) is small matrix products in a thread beside the event loop; on a busy machine a pool of
    BLAS threads per process spins for cores the other services need (docs/operations.md has the figures).
    Worker processes set their own limit."""
    import numpy  # noqa: F401 - the limit applies to the libraries already loaded
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


@app.command()
def up() -> None:
    """Start everything on this machine: NATS, PostgreSQL, the four services (and synthesis's recompute
    worker, at a lower priority), and the demo network."""
    from palabre.demo import load_demo_network
    from palabre.embedded import NatsServer, Postgres, ServiceProcess

    settings = get_settings()
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    embedded = not settings.nats_url and not settings.database_url
    demo = settings.demo or embedded
    nats = postgres = None
    nats_url, database_url = settings.nats_url, settings.database_url
    if not nats_url:
        nats = NatsServer(var / "nats", sync_interval=settings.nats_sync_interval).start()
        nats_url = nats.url
    if not database_url:
        postgres = Postgres(var / "pg")
        database_url = postgres.url
    credentials_path = var / "demo-credentials.json"
    credentials = json.loads(credentials_path.read_text()) if demo and credentials_path.exists() else None
    admin_key = settings.admin_key or (credentials or {}).get("admin", {}).get("api_key") or (
        "adm_" + secrets.token_urlsafe(32))
    secret_file = var / "secret-key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    env = {
        "PALABRE_NATS_URL": nats_url, "PALABRE_DATABASE_URL": database_url, "PALABRE_ADMIN_KEY": admin_key,
        "PALABRE_DEMO": "true" if demo else "false", "PALABRE_VAR_DIR": str(var),
        "PALABRE_SECRET_KEY": os.environ.get("PALABRE_SECRET_KEY") or secret_file.read_text().strip(),
    }
    if nats:  # intake gives territories NATS users of their own by regenerating this file
        env |= {"PALABRE_NATS_AUTH_FILE": str(nats.auth_file), "PALABRE_NATS_PID_FILE": str(nats.pid_file)}
    processes = [ServiceProcess(s.name, s.port, env, var / "logs" / f"{s.name}.log", niceness=s.niceness)
                 for s in SERVICES]
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        urls = {p.name: p.base_url for p in processes}
        if demo and credentials is None:
            credentials = load_demo_network(urls, admin_key)
            credentials_path.write_text(json.dumps(credentials, indent=2, ensure_ascii=False))
            credentials_path.chmod(0o600)
        _print_ready(urls, credentials, credentials_path, time.monotonic() - started)
        while not stop.is_set():
            for process in processes:
                if process.process.poll() is not None:
                    console.print(f"[red]{process.name} stopped (exit {process.process.returncode}); "
                                  f"see {process.log_path}[/red]")
                    stop.set()
            stop.wait(1.0)
    finally:
        console.print("Stopping…")
        for process in processes:
            process.stop()
        if nats:
            nats.stop()
        if postgres:
            postgres.stop()
        console.print("Stopped.")


def _print_ready(urls: dict[str, str], credentials: dict | None, path: Path, seconds: float) -> None:
    table = Table(title=f"Palabre is up ({seconds:.1f} s)")
    table.add_column("service")
    table.add_column("URL")
    extras = {"moderation": " (web UI)", "synthesis": " (/v1/syntheses/network)",
              "notifications": " (/feeds/network.json)", "synthesis-worker": " (/healthz)"}
    for name, url in urls.items():
        table.add_row(name, url + extras.get(name, ""))
    console.print(table)
    if credentials:
        console.print(f"Demo credentials (also in {path}):")
        console.print_json(json.dumps(credentials, ensure_ascii=False))
    console.print("Ctrl-C stops everything.")


@app.command()
def asyncapi(output: Path = typer.Option(Path("asyncapi"), help="Folder for one document per service")) -> None:
    """Write the AsyncAPI document of every service, generated from the code."""
    output.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PALABRE_NATS_URL", "nats://127.0.0.1:4222")
    for entry in SERVICES:
        runtime = entry.load_app_module().runtime
        path = output / f"{entry.name}.json"
        path.write_text(json.dumps(runtime.asyncapi(), indent=2, ensure_ascii=False))
        console.print(f"wrote {path}")


docs_app = typer.Typer(help="Documents generated from the code.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("configuration")
def docs_configuration() -> None:
    """Write docs/configuration.md from the settings classes."""
    from palabre.configuration import write

    console.print(f"wrote {write()}")


def _mount_service_commands() -> None:
    """Each service may offer its own commands: a Typer `app` mounted under its name (e.g. `palabre
    moderation evaluate`), and `TOP_LEVEL` sub-apps or commands mounted at the top (e.g. `palabre import`)."""
    for entry in SERVICES:
        module = entry.load_cli_module()
        if module is None:
            continue
        app.add_typer(module.app, name=entry.name)
        for name, entry in getattr(module, "TOP_LEVEL", {}).items():
            if isinstance(entry, typer.Typer):
                app.add_typer(entry, name=name)
            else:
                app.command(name)(entry)


_mount_service_commands()


def _mount_bench() -> None:
    """`palabre bench` lives in the top-level `bench` package: it measures all the services at once."""
    from bench.cli import bench

    app.command("bench")(bench)


_mount_bench()

app.add_typer(dlq.app, name="dlq")


if __name__ == "__main__":
    sys.exit(app())
