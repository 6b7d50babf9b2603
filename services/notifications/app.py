"""Notifications: wiring and start-up."""

from services.notifications import api, handlers
from services.notifications.delivery import DeliveryWorker
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "notifications",
    title="Palabre notifications",
    description="Feeds partners: signed webhooks (Standard Webhooks), JSON Feed and Atom, e-mail digests, "
    "open data. Only what is public.",
)
handlers.register(runtime)


@runtime.background_task
async def deliver_webhooks(runtime: ServiceRuntime) -> None:
    await DeliveryWorker(runtime).run()


app = runtime.create_app()
app.include_router(api.router)
