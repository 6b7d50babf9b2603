"""The synthesis recompute worker: wiring and start-up (`palabre serve synthesis-worker`)."""

from pathlib import Path

from services.synthesis.classifiers import ClassifierCache
from services.synthesis.settings import get_synthesis_settings
from services.synthesis.worker import Activity, Recomputer
from shared.events import AxesPlaced, SynthesisUpdated
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "synthesis-worker",
    schema="synthesis",
    migrations=Path(__file__).parent / "migrations",
    title="Palabre synthesis worker",
    description="Recomputes the syntheses of the scopes that changed, one worker at a time, and announces "
    "each new version.",
)
recomputer = Recomputer(ClassifierCache(get_synthesis_settings().classifier_corpus, runtime.settings.secret_key),
                        Activity())


@runtime.background_task
async def recompute_syntheses(runtime: ServiceRuntime) -> None:
    """Recomputes the scopes that changed, debounced, one worker at a time."""
    await recomputer.run(runtime)


runtime.publishes(SynthesisUpdated, "A synthesis was recomputed: its new version (network, country, territory, "
                                    "consultation or framework)")
runtime.publishes(AxesPlaced, "Contributions a recompute moved to another axis")

app = runtime.create_app()
