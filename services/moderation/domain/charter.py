"""The moderation charter every territory of the network signed, loaded from versioned data."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CHARTER_PATH = DATA_DIR / "charter.json"


class GroundId(StrEnum):
    INSULT = "insult"
    HATE = "hate"
    THREAT = "threat"
    DEFAMATION = "defamation"
    OBSCENITY = "obscenity"
    PERSONAL_DATA = "personal-data"
    SPAM = "spam"
    FLOODING = "flooding"
    OFF_TOPIC = "off-topic"
    ELECTORAL_PROPAGANDA = "electoral-propaganda"
    UNINTELLIGIBLE = "unintelligible"


class Action(StrEnum):
    """What a ground does to a contribution by default."""

    HOLD = "hold"  # wait for a person (or reject, where the territory allows it)
    REDACT = "redact"  # publish with the offending spans masked
    FLAG = "flag"  # publish, but show the flag to moderators


class Localised(BaseModel):
    fr: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.fr


class Ground(BaseModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    label: Localised
    explanation: Localised
    default_action: Action
    auto_reject_eligible: bool


class Charter(BaseModel):
    id: str
    version: str
    title: Localised
    sources: list[str] = Field(default_factory=list)
    grounds: list[Ground]

    def ground(self, ground_id: str) -> Ground:
        for ground in self.grounds:
            if ground.id == ground_id:
                return ground
        raise KeyError(ground_id)

    def ground_ids(self) -> list[str]:
        return [ground.id for ground in self.grounds]


@cache
def load_charter(path: Path = CHARTER_PATH) -> Charter:
    return Charter.model_validate_json(path.read_text(encoding="utf-8"))
