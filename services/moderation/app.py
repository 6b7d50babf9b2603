"""Moderation: wiring and start-up."""

from services.moderation import api, handlers
from shared.events import ContributionAppealed, ContributionHeld, ContributionPublished, ContributionRejected
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "moderation",
    title="Palabre moderation",
    description="Applies the shared charter to every contribution, with a statement of reasons for each "
    "decision, a queue for moderators, and appeals.",
)
handlers.register(runtime)
runtime.publishes(ContributionPublished, "A contribution made public (its published, possibly redacted, text)")
runtime.publishes(ContributionRejected, "A contribution rejected, with the statement of reasons")
runtime.publishes(ContributionHeld, "A contribution held for a person")
runtime.publishes(ContributionAppealed, "A decision appealed: reopened for a network moderator")

app = runtime.create_app()
app.include_router(api.router)
