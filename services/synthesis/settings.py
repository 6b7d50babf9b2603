"""Synthesis's own settings (`PALABRE_SYNTHESIS_*`), beside the shared ones."""

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SynthesisSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PALABRE_SYNTHESIS_", extra="ignore")

    debounce_s: float = Field(
        default=10.0, ge=0,
        description="A scope's sub-themes and proposals are recomputed at most once every this many seconds, "
        "gathering every change made meanwhile (the counts are live regardless)",
    )
    recompute_share: float = Field(
        default=0.25, gt=0, le=1,
        description="Under sustained change, the share of one core recomputes may take: after a recompute "
        "that took s seconds, the next starts no sooner than s × (1/share − 1) later (the counts stay live)",
    )
    busy_per_s: float = Field(
        default=20.0, gt=0,
        description="While synthesis has counted more published contributions per second than this (over "
        "the last 10 s), due recomputes wait, up to `max_defer_s`: decisions and counts come first",
    )
    max_defer_s: float = Field(
        default=300.0, ge=0,
        description="The longest a due recompute waits for the pipeline to quieten down (a recompute "
        "already running goes on, at the worker's lower priority or CPU limit)",
    )
    poll_s: float = Field(default=0.5, gt=0, description="How often the recompute worker looks for due scopes")
    worker_threads: int = Field(
        default=1, ge=1, le=64,
        description="Native threads (BLAS, OpenMP) the recompute worker may use; one is fastest for the "
        "small clusterings of a usual recompute on a shared machine, more may help a network-wide million",
    )
    classifier_corpus: int = Field(
        default=50_000, ge=0,
        description="Published texts read to fit a framework's axis classifier when none is in memory yet",
    )


@cache
def get_synthesis_settings() -> SynthesisSettings:
    return SynthesisSettings()
