"""Configuration from the environment (`PALABRE_*`): what every service reads. A service with settings of
its own extends `Settings` in its `settings.py` (or reads them under its own prefix)."""

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me"  # refused outside demo mode
SERVICE_PORTS = {"intake": 8001, "moderation": 8002, "synthesis": 8003, "notifications": 8004,
                 "synthesis-worker": 8005}


def port_field(service: str) -> str:
    """The setting that holds a service's port (`PALABRE_<FIELD>` in the environment)."""
    return service.replace("-", "_") + "_port"


def port_variable(service: str) -> str:
    return f"PALABRE_{port_field(service).upper()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PALABRE_", extra="ignore")

    nats_url: str | None = Field(
        default=None, description="NATS server(s), comma-separated; embedded server when unset"
    )
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; embedded server when unset"
    )
    var_dir: Path = Field(default=Path("var"), description="Where embedded servers keep their data")
    host: str = Field(default="127.0.0.1", description="Address the HTTP servers bind to")
    intake_port: int = Field(default=SERVICE_PORTS["intake"], description="HTTP port of intake")
    moderation_port: int = Field(default=SERVICE_PORTS["moderation"], description="HTTP port of moderation")
    synthesis_port: int = Field(default=SERVICE_PORTS["synthesis"], description="HTTP port of synthesis")
    notifications_port: int = Field(default=SERVICE_PORTS["notifications"], description="HTTP port of notifications")
    synthesis_worker_port: int = Field(
        default=SERVICE_PORTS["synthesis-worker"], description="HTTP port of the synthesis recompute worker (health)"
    )
    public_base_url: str | None = Field(
        default=None, description="Base URL used in links sent to partners (defaults to the local ports)"
    )
    admin_key: str | None = Field(default=None, description="Network-admin API key")
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY, description="Signs sessions and derives opaque author references"
    )
    demo: bool = Field(default=False, description="Demo mode: demo network and loopback webhooks allowed")
    allow_private_webhooks: bool = Field(
        default=False, description="Allow webhook targets on private or loopback addresses"
    )
    log_level: str = Field(default="INFO", description="Log level of the JSON logs (structlog)")
    batch_size: int = Field(default=500, description="Events pulled per JetStream fetch")
    max_deliver: int = Field(default=8, description="Deliveries before an event is dead-lettered")
    ack_wait_s: float = Field(
        default=30.0, ge=3,
        description="Seconds JetStream waits for an event's ack before delivering it again (after a crash)",
    )
    duplicate_window_s: int = Field(default=3600, description="JetStream de-duplication window")
    stream_replicas: int = Field(default=1, description="JetStream stream replicas (3 on a cluster)")
    stream_max_age_s: int = Field(
        default=14 * 86400, gt=0,
        description="How long the event and intake streams keep a message (docs/durability.md); processed-event "
        "records are kept a day longer",
    )
    nats_sync_interval: str = Field(
        default="1s", description="Embedded nats-server fsync interval ('always' for every write)"
    )
    nats_auth_file: Path | None = Field(
        default=None,
        description="Embedded nats-server only: the users file intake regenerates (service and territory "
        "users) before asking the server to reload; unset on an external cluster",
    )
    nats_pid_file: Path | None = Field(
        default=None, description="Embedded nats-server only: its pid file, signalled to reload the users file"
    )
    max_request_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body of moderation, synthesis and notifications"
    )
    crash_point: str | None = Field(
        default=None,
        description="Fault injection for resilience tests: exit the process at this named point once",
    )

    def port_of(self, service: str) -> int:
        return getattr(self, port_field(service))

    def base_url_of(self, service: str) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.host}:{self.port_of(service)}"


@cache
def get_settings() -> Settings:
    return Settings()
