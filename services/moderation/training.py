"""Training the sentence model (`domain/sentence_model.py`) on the tuning part of HateCheck and our cases.

Never on HateCheck's report part: that part only measures. The figures written with the model are a
cross-validation grouped by template (every case derived from one template in the same fold, our own
cases each a group of its own), so they say how the model reads phrasings it has not seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from services.moderation.domain.charter import GroundId
from services.moderation.domain.pipeline import ModerationInput, check_batch
from services.moderation.domain.sentence_model import (
    LANGUAGES,
    LinearScore,
    SentenceModel,
    embed,
    highest_reading,
)
from services.moderation.domain.statements import SIGNAL_NAMES, sentence_signals
from services.moderation.evaluation import Case
from services.moderation.hatecheck import HateCheckCase
from shared.vocabulary import Outcome

THREAT_FUNCTIONALITIES = frozenset(("threat_dir_h", "threat_norm_h"))
REGULARISATION = 1.0  # scikit-learn's C: chosen by the grouped cross-validation, with the threshold
# Threat rather than hate from this probability: the best accuracy of the grouped cross-validation among
# violations (0.86; a threat's precision 0.70, recall 0.80).
THREAT_THRESHOLD = 0.6


class TrainingCase(BaseModel):
    text: str
    language: str
    violation: bool  # hateful or threatening
    threat: bool
    clean: bool  # no violation and no personal data: what the figures count as wrongly held
    group: str  # the cross-validation keeps a group in one fold
    source: str


def training_cases(cases: Sequence[Case], hatecheck_cases: Sequence[HateCheckCase]) -> list[TrainingCase]:
    """Our cases (a hate or threat label is a violation; every other label, clean text included, is not) and
    HateCheck's tuning part."""
    out = [TrainingCase(text=c.body, language=c.language, group=f"cases:{c.id}", source="cases",
                        violation=c.violation and bool({GroundId.HATE, GroundId.THREAT} & set(c.grounds)),
                        threat=c.violation and GroundId.THREAT in c.grounds,
                        clean=not c.violation and not c.personal_data)
           for c in cases if c.language in LANGUAGES]
    out += [TrainingCase(text=c.text, language=c.language, group=f"hatecheck:{c.language}:{c.template_root}",
                         source="hatecheck-tuning", violation=c.hateful, threat=c.functionality in THREAT_FUNCTIONALITIES,
                         clean=False)
            for c in hatecheck_cases if c.part == "tuning" and c.language in LANGUAGES]
    return out


def _features(cases: Sequence[TrainingCase]) -> tuple[np.ndarray, np.ndarray]:
    embeddings = embed([c.text for c in cases])
    signals = [sentence_signals(c.text, c.language, whole=True)[0] for c in cases]
    gate = np.array([s.for_the_model for s in signals])
    return np.hstack([embeddings, np.array([s.features for s in signals])]), gate


def _fit(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION, max_iter=3000, class_weight="balanced").fit(x, y)


def _score(model: LogisticRegression) -> LinearScore:
    return LinearScore(coefficients=[round(float(c), 6) for c in model.coef_[0]], intercept=float(model.intercept_[0]))


class ThresholdFigures(BaseModel):
    threshold: float
    hatecheck_missed: dict[str, float]  # hateful cases the model does not hold, by language (rules aside)
    hatecheck_held_wrongly: dict[str, float]  # non-hateful cases it holds, by language
    own_clean_held: int  # our clean cases it holds
    own_clean: int


def cross_validate(cases: Sequence[TrainingCase], x: np.ndarray, gate: np.ndarray,
                   thresholds: Sequence[float] = (0.6, 0.7, 0.8, 0.9), folds: int = 5) -> list[ThresholdFigures]:
    y = np.array([c.violation for c in cases])
    groups = np.array([c.group for c in cases])
    probability = np.zeros(len(cases))
    for train, test in GroupKFold(folds).split(x, groups=groups):
        probability[test] = _fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    figures = []
    for threshold in thresholds:
        held = gate & (probability >= threshold)
        missed, wrongly = {}, {}
        for language in ("fr", "de"):
            mine = np.array([c.source == "hatecheck-tuning" and c.language == language for c in cases])
            if (mine & y).any():
                missed[language] = round(float((mine & y & ~held).sum() / (mine & y).sum()), 3)
            if (mine & ~y).any():
                wrongly[language] = round(float((mine & ~y & held).sum() / (mine & ~y).sum()), 3)
        clean = np.array([c.clean for c in cases])
        figures.append(ThresholdFigures(threshold=threshold, hatecheck_missed=missed, hatecheck_held_wrongly=wrongly,
                                        own_clean_held=int((clean & held).sum()), own_clean=int(clean.sum())))
    return figures


CLEAN_PUBLISHED = 0.97  # our clean cases published as written, in each language, with the model
THRESHOLD_GRID = tuple(round(0.5 + 0.02 * i, 2) for i in range(23))  # 0.50 … 0.94
MIN_CLEAN_CASES = 100  # fewer clean cases in a language say too little: the default threshold holds there


def thresholds_keeping_clean_published(model: SentenceModel, clean: Sequence[Case]) -> dict[str, float]:
    """For each language with MIN_CLEAN_CASES or more in `clean` (our cases with no violation and no personal
    data), the lowest threshold of THRESHOLD_GRID at which rules and model together still publish
    CLEAN_PUBLISHED of them as written."""
    results, _ = check_batch([ModerationInput(contribution_id=c.id, territory="t", body=c.body, language=c.language)
                              for c in clean], {}, {}, detect_names=False, read_sentences=False)
    chosen = {}
    for language in sorted({c.language for c in clean} & LANGUAGES):
        rows = [(c, r) for c, r in zip(clean, results) if c.language == language]
        if len(rows) < MIN_CLEAN_CASES:
            continue
        # published by the rules alone, and the model's highest reading of the text
        by_rules = [r.outcome == Outcome.PUBLISHED for _, r in rows]
        highest = [highest_reading(c.body, language, model) for c, _ in rows]
        for threshold in THRESHOLD_GRID:
            published = sum(rules and score < threshold for rules, score in zip(by_rules, highest))
            if published >= CLEAN_PUBLISHED * len(rows):
                chosen[language] = threshold
                break
    return chosen


def train(cases: Sequence[TrainingCase], threshold: float) -> SentenceModel:
    x, gate = _features(cases)
    y = np.array([c.violation for c in cases])
    threat = np.array([c.threat for c in cases])
    violation_model = _fit(x, y)
    threat_model = _fit(x[y], threat[y])
    figures = cross_validate(cases, x, gate, sorted({0.6, 0.7, 0.8, threshold, 0.9}))
    return SentenceModel(
        signals=list(SIGNAL_NAMES), threshold=threshold, threat_threshold=THREAT_THRESHOLD,
        violation=_score(violation_model), threat=_score(threat_model),
        trained_on=dict(Counter(c.source for c in cases)),
        cross_validation={"grouped_by": "template", "folds": 5, "regularisation": REGULARISATION,
                          "by_threshold": [f.model_dump() for f in figures]},
    )
