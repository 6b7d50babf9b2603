"""Moderation's own settings (`PALABRE_MODERATION_*`), beside the shared ones."""

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ModerationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PALABRE_MODERATION_", extra="ignore")

    workers: int = Field(
        default=0, ge=0, le=64,
        description="Processes that run the name recogniser over each batch; 0 runs every check in a thread "
        "of the service process (enough on a small machine: the event loop keeps serving meanwhile)",
    )
    session_hours: float = Field(default=12.0, gt=0, description="How long a moderator's sign-in lasts")
    login_failures_per_login: int = Field(
        default=5, ge=1, description="Failed sign-ins of one login (form or Basic) before it waits out the window"
    )
    login_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins from one address before it waits out the window"
    )
    login_window_s: float = Field(default=900.0, gt=0, description="The window failed sign-ins are counted over")
    secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure (set it when served over HTTPS)"
    )


@cache
def get_moderation_settings() -> ModerationSettings:
    return ModerationSettings()
