"""Configuration from the environment (`PALABRE_*`), one object for every service."""

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
    intake_rate_per_s: float = Field(
        default=50.0, gt=0, description="Requests per second allowed per territory (token bucket, per process)"
    )
    intake_rate_burst: int = Field(default=200, ge=1, description="Burst allowed per territory")
    max_request_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body of moderation, synthesis and notifications"
    )
    intake_max_request_bytes: int = Field(default=8 * 1024 * 1024, description="Largest JSON request body")
    intake_max_import_bytes: int = Field(default=64 * 1024 * 1024, description="Largest imported file")
    intake_max_import_rows: int = Field(
        default=50_000, ge=1, description="Most records in one imported file (palabre import sends parts)"
    )
    webhook_retry_schedule_s: list[float] = Field(
        default=[0, 5, 300, 1800, 7200, 18000, 36000, 36000],
        description="Delay before each webhook attempt (Standard Webhooks' schedule); ±20 % jitter is added",
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one webhook request")
    webhook_lease_s: float = Field(
        default=60.0, gt=0, description="How long a claimed delivery is held before another worker may retry it"
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, description="Requests in flight per subscription, unless the subscription asks otherwise"
    )
    webhook_rate_per_s: float = Field(
        default=100.0, gt=0, description="Requests per second per subscription, unless the subscription asks otherwise"
    )
    webhook_max_concurrency: int = Field(default=64, ge=1, description="Most requests in flight a subscription may ask")
    webhook_max_rate_per_s: float = Field(default=5000.0, gt=0, description="Highest rate a subscription may ask")
    webhook_max_retry_after_s: float = Field(
        default=36000.0, description="Longest Retry-After honoured (a longer one is capped)"
    )
    webhook_secret_overlap_s: float = Field(
        default=86400.0, ge=0, description="How long the previous secret still signs after a rotation"
    )
    webhook_max_payload_bytes: int = Field(
        default=20_000, description="Largest webhook body; longer texts are truncated, with a link to them"
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for partner e-mails and digests")
    smtp_port: int = Field(default=25, description="SMTP port")
    smtp_from: str = Field(default="palabre@localhost", description="Sender of partner e-mails and digests")
    digest_daily_s: float = Field(default=86400.0, gt=0, description="Period of a 'daily' e-mail digest")
    digest_weekly_s: float = Field(default=604800.0, gt=0, description="Period of a 'weekly' e-mail digest")
    mail_check_interval_s: float = Field(
        default=30.0, gt=0, description="How often notifications looks for due digests and notices to send"
    )
    synthesis_url: str | None = Field(
        default=None, description="Synthesis' public JSON API, read for open-data exports (default: its port)"
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
