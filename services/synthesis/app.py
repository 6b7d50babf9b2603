"""Synthesis: wiring and start-up."""

from pathlib import Path

from services.synthesis import api, handlers
from services.synthesis.classifiers import ClassifierCache
from services.synthesis.settings import get_synthesis_settings
from services.synthesis.ui import routes as ui
from services.synthesis.worker import Activity, Recomputer
from shared.events import AxisCorrected, SynthesisUpdated
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "synthesis",
    migrations=Path(__file__).parent / "migrations",
    title="Palabre synthesis",
    description="What the network says, axis by axis, for each territory, country and the whole network; "
    "every quote traceable to a published contribution.",
)
classifiers = ClassifierCache(get_synthesis_settings().classifier_corpus, runtime.settings.secret_key)
activity = Activity()
handlers.register(runtime, classifiers, activity)
recomputer = Recomputer(classifiers, activity)


@runtime.background_task
async def recompute_syntheses(runtime: ServiceRuntime) -> None:
    """Recomputes the scopes that changed, debounced, one replica at a time."""
    await recomputer.run(runtime)


runtime.publishes(SynthesisUpdated, "A synthesis was recomputed: its new version")
runtime.publishes(AxisCorrected, "A person placed a contribution on another axis")

app = runtime.create_app()
app.include_router(api.router)
app.include_router(ui.router)
