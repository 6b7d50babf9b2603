"""Notifications' own settings, beside the shared ones (same `PALABRE_` prefix: `PALABRE_WEBHOOK_TIMEOUT_S`...)."""

from functools import cache

from pydantic import Field

from shared.settings import Settings


class NotificationsSettings(Settings):
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


@cache
def get_notifications_settings() -> NotificationsSettings:
    return NotificationsSettings()
