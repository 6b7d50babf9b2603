"""Moderation: wiring and start-up."""

from pathlib import Path

from fastapi.staticfiles import StaticFiles

from services.moderation import api, handlers
from services.moderation.checks import CheckRunner
from services.moderation.settings import get_moderation_settings
from services.moderation.ui import routes as ui
from shared.events import (
    AxisCorrected,
    ContributionAppealed,
    ContributionHeld,
    ContributionPublished,
    ContributionRejected,
)
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "moderation",
    migrations=Path(__file__).parent / "migrations",
    title="Palabre moderation",
    description="Applies the shared charter to every contribution, with a statement of reasons for each "
    "decision, a queue for moderators, and appeals.",
)
checks = CheckRunner(get_moderation_settings().workers)
handlers.register(runtime, checks)
runtime.publishes(ContributionPublished, "A contribution made public (its published, possibly redacted, text)")
runtime.publishes(ContributionRejected, "A contribution rejected, with the statement of reasons")
runtime.publishes(ContributionHeld, "A contribution held for a person")
runtime.publishes(ContributionAppealed, "A decision appealed: reopened for a network moderator")
runtime.publishes(AxisCorrected, "A moderator placed a published contribution on another axis of its framework")


@runtime.on_start
async def load_models(_runtime: ServiceRuntime) -> None:
    """The name recogniser and the sentence model are loaded before the first batch needs them."""
    await checks.warm_up()


app = runtime.create_app()
app.include_router(api.router)
app.include_router(ui.router)
app.mount("/static", StaticFiles(directory=ui.STATIC_DIR), name="static")
