"""Intake: wiring and start-up."""

from pathlib import Path

from services.intake import api, handlers
from services.intake.nats_auth import sync_users_file
from services.intake.settings import get_intake_settings
from shared.events import ConsultationClosed, ConsultationOpened, ContributionSubmitted, TerritoryRegistered
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "intake",
    get_intake_settings(),
    migrations=Path(__file__).parent / "migrations",
    title="Palabre intake",
    description="Takes contributions in from territory systems (HTTP, files, bus), validates and stores them, "
    "and answers what became of each.",
)
handlers.register(runtime)
runtime.publishes(ContributionSubmitted, "A contribution taken in, before moderation (raw text, not public)")
runtime.publishes(TerritoryRegistered, "A territory joined the network")
runtime.publishes(ConsultationOpened, "A consultation opened, with its framework")
runtime.publishes(ConsultationClosed, "A consultation closed: it takes no more contributions")


@runtime.on_start
async def write_nats_users(runtime: ServiceRuntime) -> None:
    """The embedded nats-server learns the territories' NATS users from intake's table."""
    await sync_users_file(runtime.db, runtime.settings)


app = runtime.create_app(max_body_bytes=runtime.settings.intake_max_request_bytes,
                         body_limits={"/v1/imports": runtime.settings.intake_max_import_bytes})
app.include_router(api.router)
api.document_request_bodies(app)
