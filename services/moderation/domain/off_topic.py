"""Off-topic: a long contribution that shares no vocabulary with the consultation's framework.

Deliberately conservative: it only flags (the ground's action is `flag`), never holds or rejects, and
speaks only about texts long enough for silence on every axis to mean something.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from shared.frameworks import Framework

from .charter import GroundId
from .flags import Flag
from .text import fold

CHECK = "off-topic"
MIN_CONTENT_WORDS = 25
STEM_LENGTH = 6
_WORD = re.compile(r"[^\W\d_]{4,}")
# The debate is about public action and technology in general: these words keep a text on topic.
_GENERIC_TOPIC = (
    "ia intelligence artificielle algorithme algorithmes numerique donnees service services public publique publics "
    "administration mairie metropole territoire commune habitants citoyens citoyen usagers agents elus collectivite "
    "technologie technologies outil outils logiciel machine automatisation robot chatgpt ordinateur internet "
    "democratie concertation participation debat politique societe emploi travail ecologie environnement energie "
    "ai artificial intelligence public service citizens technology data government city"
)
_STOP = set("avec dans pour plus mais comme elle elles nous vous leur leurs cette sont etre avoir fait faire tout tous "
            "toutes aussi bien sans sous entre encore tres peut doit faut donc alors ainsi quand quoi dont celui celle "
            "ceux autre autres meme memes notre votre their there this that with from have what when which would".split())


def _stems(text: str) -> set[str]:
    return {w[:STEM_LENGTH] for w in _WORD.findall(fold(text)) if w not in _STOP}


@lru_cache(maxsize=64)
def _framework_stems(framework_json: str) -> frozenset[str]:
    framework = Framework.model_validate_json(framework_json)
    parts = [_GENERIC_TOPIC]
    for axis in framework.axes:
        parts += [axis.label, axis.label_en or "", axis.description, axis.description_en or "", " ".join(axis.seed_terms)]
    parts += framework.criteria
    return frozenset(_stems(" ".join(parts)))


def framework_vocabulary(framework: Framework) -> frozenset[str]:
    return _framework_stems(framework.model_dump_json())


def find_off_topic(text: str, framework: Framework | None, vocabulary: frozenset[str] | None = None,
                   folded_text: str | None = None,
                   vocabulary_of: Callable[[Framework], frozenset[str]] = framework_vocabulary) -> list[Flag]:
    """`folded_text` is `fold(text)` when the caller has it already. Without `vocabulary`, the framework's
    is asked of `vocabulary_of` when the text is long enough to need it."""
    if not text or framework is None:
        return []
    words = [w for w in _WORD.findall(fold(text) if folded_text is None else folded_text) if w not in _STOP]
    if len(words) < MIN_CONTENT_WORDS:
        return []
    vocabulary = vocabulary if vocabulary is not None else vocabulary_of(framework)
    shared = sum(w[:STEM_LENGTH] in vocabulary for w in words)
    if shared / len(words) >= 0.02 or shared >= 2:
        return []
    return [Flag(check=CHECK, ground=GroundId.OFF_TOPIC, start=0, end=len(text), score=0.3,
                 term=framework.id, detail=f"shared-words={shared}/{len(words)}")]
