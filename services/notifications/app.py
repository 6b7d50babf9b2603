"""Notifications: wiring and start-up."""

from pathlib import Path

from services.notifications import api, handlers, public_api
from services.notifications.delivery import DeliveryWorker
from services.notifications.mailer import Mailer
from services.notifications.settings import get_notifications_settings
from shared.service import ServiceRuntime

runtime = ServiceRuntime(
    "notifications",
    get_notifications_settings(),
    migrations=Path(__file__).parent / "migrations",
    title="Palabre notifications",
    description="Feeds partners: signed webhooks (Standard Webhooks), JSON Feed and Atom, e-mail digests, "
    "open data. Only what is public.",
)
handlers.register(runtime)


@runtime.background_task
async def deliver_webhooks(runtime: ServiceRuntime) -> None:
    await DeliveryWorker(runtime).run()


@runtime.background_task
async def send_mail(runtime: ServiceRuntime) -> None:
    await Mailer(runtime).run()


app = runtime.create_app()
app.include_router(api.router)
app.include_router(public_api.router)
