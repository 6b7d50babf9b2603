"""Frameworks are data: the axes of a debate, versioned, shipped as JSON and accepted from the API."""

from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

FRAMEWORKS_DIR = Path(__file__).parent / "data" / "frameworks"
DEFAULT_FRAMEWORK_ID = "concertations-ia"


class Axis(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    label: str = Field(min_length=1, max_length=200)
    label_en: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=4000)
    description_en: str | None = Field(default=None, max_length=4000)
    seed_terms: list[str] = Field(default_factory=list, max_length=500)


class Framework(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    version: str = Field(min_length=1, max_length=40)
    title: str | None = Field(default=None, max_length=300)
    axes: list[Axis] = Field(min_length=1, max_length=50)
    criteria: list[str] = Field(default_factory=list, max_length=50)

    def axis_ids(self) -> list[str]:
        return [axis.id for axis in self.axes]


@cache
def shipped_frameworks() -> dict[str, Framework]:
    """The frameworks shipped with Palabre, by id."""
    frameworks = {}
    for path in sorted(FRAMEWORKS_DIR.glob("*.json")):
        framework = Framework.model_validate_json(path.read_text(encoding="utf-8"))
        frameworks[framework.id] = framework
    return frameworks


def default_framework() -> Framework:
    return shipped_frameworks()[DEFAULT_FRAMEWORK_ID]
