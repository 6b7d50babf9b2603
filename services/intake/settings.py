"""Intake's own settings, beside the shared ones (same `PALABRE_` prefix: `PALABRE_INTAKE_RATE_PER_S`...)."""

from functools import cache

from pydantic import Field

from shared.settings import Settings


class IntakeSettings(Settings):
    intake_rate_per_s: float = Field(
        default=50.0, gt=0, description="Requests per second allowed per territory (token bucket, per process)"
    )
    intake_rate_burst: int = Field(default=200, ge=1, description="Burst allowed per territory")
    intake_max_request_bytes: int = Field(default=8 * 1024 * 1024, description="Largest JSON request body")
    intake_max_import_bytes: int = Field(default=64 * 1024 * 1024, description="Largest imported file")
    intake_max_import_rows: int = Field(
        default=50_000, ge=1, description="Most records in one imported file (palabre import sends parts)"
    )


@cache
def get_intake_settings() -> IntakeSettings:
    return IntakeSettings()
