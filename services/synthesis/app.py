"""Synthesis: wiring and start-up. The recompute runs in a process of its own (`worker_app`)."""

import asyncio
from pathlib import Path

from services.synthesis import api, handlers
from services.synthesis.classifiers import REFRESH_S, ClassifierCache
from services.synthesis.settings import get_synthesis_settings
from services.synthesis.ui import routes as ui
from shared.logging import get_logger
from shared.events import AxesPlaced
from shared.service import ServiceRuntime

log = get_logger(__name__)

runtime = ServiceRuntime(
    "synthesis",
    migrations=Path(__file__).parent / "migrations",
    title="Palabre synthesis",
    description="What the network says, axis by axis, for each territory, country and the whole network; "
    "every quote traceable to a published contribution.",
)
classifiers = ClassifierCache(get_synthesis_settings().classifier_corpus, runtime.settings.secret_key)
handlers.register(runtime, classifiers)
runtime.publishes(AxesPlaced, "Where published contributions were placed: on arrival, or by a person's correction")


@runtime.background_task
async def take_refitted_classifiers(runtime: ServiceRuntime) -> None:
    """Takes the classifiers the recompute worker refitted (`palabre serve synthesis-worker`)."""
    while True:
        await asyncio.sleep(REFRESH_S)
        async with runtime.db.acquire() as conn:
            taken = await classifiers.refresh(conn)
        if taken:
            log.info("axis classifiers taken from the database", frameworks=taken)


app = runtime.create_app()
app.include_router(api.router)
app.include_router(ui.router)
