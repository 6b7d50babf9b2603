"""Synthesis: wiring and start-up."""

from services.synthesis import api, handlers
from shared.events import SynthesisUpdated
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "synthesis",
    title="Palabre synthesis",
    description="What the network says, axis by axis, for each territory, country and the whole network; "
    "every quote traceable to a published contribution.",
)
handlers.register(runtime)
runtime.publishes(SynthesisUpdated, "A synthesis was recomputed: its new version")

app = runtime.create_app()
app.include_router(api.router)
