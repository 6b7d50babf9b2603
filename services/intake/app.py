"""Intake: wiring and start-up."""

from services.intake import api, handlers
from shared.events import ConsultationOpened, ContributionSubmitted, TerritoryRegistered
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "intake",
    title="Palabre intake",
    description="Takes contributions in from territory systems (HTTP, files, bus), validates and stores them, "
    "and answers what became of each.",
)
handlers.register(runtime)
runtime.publishes(ContributionSubmitted, "A contribution taken in, before moderation (raw text, not public)")
runtime.publishes(TerritoryRegistered, "A territory joined the network")
runtime.publishes(ConsultationOpened, "A consultation opened, with its framework")

app = runtime.create_app()
app.include_router(api.router)
