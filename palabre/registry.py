"""The services of Palabre, in one place: what `palabre serve`, `palabre up`, the bench, the AsyncAPI
export and the configuration reference iterate over."""

import importlib
from dataclasses import dataclass

from pydantic_settings import BaseSettings

from shared.settings import Settings, get_settings, port_field


BACKGROUND_NICENESS = 10  # a background process yields the cores to the pipeline's processes


@dataclass(frozen=True)
class Service:
    name: str
    app_module: str  # holds `app` (FastAPI) and `runtime`
    settings_class: str | None = None  # "module:Class" of the service's own settings, beside the shared ones
    cli_module: str | None = None  # holds a Typer `app` mounted as `palabre <name>`
    background: bool = False  # no consumers, one replica, a lower priority: a service's heavy computation

    @property
    def default_port(self) -> int:
        return Settings.model_fields[port_field(self.name)].default

    @property
    def niceness(self) -> int:
        """What the embedded runner adds to its priority; on a cluster a CPU limit does this job."""
        return BACKGROUND_NICENESS if self.background else 0

    @property
    def port(self) -> int:
        """The port configured here (`PALABRE_<NAME>_PORT`), or the default."""
        return get_settings().port_of(self.name)

    def load_app_module(self):
        return importlib.import_module(self.app_module)

    def load_settings_class(self) -> type[BaseSettings] | None:
        if self.settings_class is None:
            return None
        module, _, name = self.settings_class.partition(":")
        return getattr(importlib.import_module(module), name)

    def load_cli_module(self):
        return importlib.import_module(self.cli_module) if self.cli_module else None


SERVICES: tuple[Service, ...] = (
    Service("intake", "services.intake.app", "services.intake.settings:IntakeSettings",
            cli_module="services.intake.cli"),
    Service("moderation", "services.moderation.app", "services.moderation.settings:ModerationSettings",
            cli_module="services.moderation.cli"),
    Service("synthesis", "services.synthesis.app", "services.synthesis.settings:SynthesisSettings",
            cli_module="services.synthesis.cli"),
    Service("notifications", "services.notifications.app",
            "services.notifications.settings:NotificationsSettings"),
    Service("synthesis-worker", "services.synthesis.worker_app", background=True),  # in synthesis's schema
)

SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)


def service(name: str) -> Service:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown service {name!r}; the services are {', '.join(SERVICE_NAMES)}")
