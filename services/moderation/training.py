"""Training the sentence model (`domain/sentence_model.py`) on the tuning part of HateCheck and our cases.

Never on HateCheck's report part: that part only measures. The figures written with the model are a
cross-validation grouped by template (every case derived from one template in the same fold, our own
cases each a group of its own), so they say how the model reads phrasings it has not seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from services.moderation.domain.charter import GroundId
from services.moderation.domain.pipeline import ModerationInput, check_batch
from services.moderation.domain.sentence_model import (
    ANALYZER,
    EMBEDDING_SIZE,
    LANGUAGES,
    CharacterGrams,
    LinearScore,
    SentenceModel,
    embed,
    highest_reading,
    score_sentences,
)
from services.moderation.domain.statements import SIGNAL_NAMES, SentenceSignals, sentence_signals
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


def own_group(case: Case) -> str:
    """Our cases are each a group of their own in the cross-validation."""
    return f"cases:{case.id}"


def training_cases(cases: Sequence[Case], hatecheck_cases: Sequence[HateCheckCase]) -> list[TrainingCase]:
    """Our cases (a hate or threat label is a violation; every other label, clean text included, is not) and
    HateCheck's tuning part."""
    out = [TrainingCase(text=c.body, language=c.language, group=own_group(c), source="cases",
                        violation=c.violation and bool({GroundId.HATE, GroundId.THREAT} & set(c.grounds)),
                        threat=c.violation and GroundId.THREAT in c.grounds,
                        clean=not c.violation and not c.personal_data)
           for c in cases if c.language in LANGUAGES]
    out += [TrainingCase(text=c.text, language=c.language, group=f"hatecheck:{c.language}:{c.template_root}",
                         source="hatecheck-tuning", violation=c.hateful, threat=c.functionality in THREAT_FUNCTIONALITIES,
                         clean=False)
            for c in hatecheck_cases if c.part == "tuning" and c.language in LANGUAGES]
    return out


NGRAM_RANGE = (3, 5)  # character n-grams: chosen by the grouped cross-validation, with their number
MAX_NGRAMS = 5000
# Below this first reading a sentence is not embedded, and not held: in the grouped cross-validation, 0.7
# loses about one hateful case in a hundred that the embedding would hold, and spares the encoder 85 % of our
# clean sentences (and 17 of the 18 sentences of the Lille comments that it reads).
SCREEN_THRESHOLD = 0.7


@dataclass(frozen=True)
class Features:
    """What the training reads of each case: its embedding and its signals (the character n-grams depend on
    the cases trained on)."""

    embeddings: np.ndarray
    signals: list[SentenceSignals]

    @property
    def dense(self) -> np.ndarray:
        """The embedding, then the signals, of each case: the input of the deciding regressions."""
        return np.hstack([self.embeddings, np.array([s.features for s in self.signals])])

    @property
    def read(self) -> np.ndarray:
        """Whether the model reads each case at all."""
        return np.array([s.for_the_model for s in self.signals])


def _features(cases: Sequence[TrainingCase]) -> Features:
    return Features(embeddings=embed([c.text for c in cases]),
                    signals=[sentence_signals(c.text, c.language, whole=True)[0] for c in cases])


def _fit_grams(texts: Sequence[str]) -> CharacterGrams:
    vectorizer = TfidfVectorizer(analyzer=ANALYZER, ngram_range=NGRAM_RANGE, sublinear_tf=True, min_df=2,
                                 max_features=MAX_NGRAMS).fit(texts)
    return CharacterGrams(ngram_range=NGRAM_RANGE, vocabulary=vectorizer.get_feature_names_out().tolist(),
                          idf=[round(float(v), 6) for v in vectorizer.idf_])


def _fit(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION, max_iter=3000, class_weight="balanced").fit(x, y)


def _score(model: LogisticRegression) -> LinearScore:
    return LinearScore(coefficients=[round(float(c), 6) for c in model.coef_[0]], intercept=float(model.intercept_[0]))


def _trained(cases: Sequence[TrainingCase], dense: np.ndarray, threshold: float) -> SentenceModel:
    """A model trained on `cases`, whose embeddings and signals are the rows of `dense` (no figures)."""
    texts = [c.text for c in cases]
    grams = _fit_grams(texts)
    signals = dense[:, EMBEDDING_SIZE:]
    y = np.array([c.violation for c in cases])
    threat = np.array([c.threat for c in cases])
    return SentenceModel(signals=list(SIGNAL_NAMES), threshold=threshold, threat_threshold=THREAT_THRESHOLD,
                         grams=grams, screen=_score(_fit(np.hstack([signals, grams.dense(texts)]), y)),
                         screen_threshold=SCREEN_THRESHOLD, violation=_score(_fit(dense, y)),
                         threat=_score(_fit(dense[y], threat[y])),
                         trained_on=dict(Counter(c.source for c in cases)), cross_validation={})


class ThresholdFigures(BaseModel):
    threshold: float
    hatecheck_missed: dict[str, float]  # hateful cases the model does not hold, by language (rules aside)
    hatecheck_held_wrongly: dict[str, float]  # non-hateful cases it holds, by language
    own_clean_held: int  # our clean cases it holds
    own_clean: int


HeldOut = dict[str, SentenceModel]  # for each group of cases, the model trained without it


def cross_validate(cases: Sequence[TrainingCase], features: Features,
                   thresholds: Sequence[float] = (0.6, 0.7, 0.8, 0.9),
                   folds: int = 5) -> tuple[list[ThresholdFigures], HeldOut]:
    """The figures of models trained without a group of cases on that group, for each threshold; and those
    models, for each group. A case is read as `score_sentences` reads a sentence, with its embedding known."""
    y = np.array([c.violation for c in cases])
    groups = np.array([c.group for c in cases])
    dense = features.dense
    row_of = {c.text: i for i, c in enumerate(cases)}  # the same text has the same embedding
    probability = np.zeros(len(cases))
    held_out: HeldOut = {}
    for train, test in GroupKFold(folds).split(dense, groups=groups):
        fold = _trained([cases[i] for i in train], dense[train], thresholds[0])
        readings = score_sentences(fold, [cases[i].text for i in test], [features.signals[i] for i in test],
                                   lambda texts: features.embeddings[[row_of[t] for t in texts]])
        probability[test] = [violation for violation, _ in readings]
        held_out.update({cases[i].group: fold for i in test})
    figures = []
    for threshold in thresholds:
        held = features.read & (probability >= threshold)
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
    return figures, held_out


CLEAN_PUBLISHED = 0.97  # our clean cases published as written, in each language, with the model
THRESHOLD_GRID = tuple(round(0.5 + 0.02 * i, 2) for i in range(23))  # 0.50 … 0.94
MIN_CLEAN_CASES = 100  # fewer clean cases in a language say too little: the default threshold holds there


def thresholds_keeping_clean_published(held_out: HeldOut, clean: Sequence[Case]) -> dict[str, float]:
    """For each language with MIN_CLEAN_CASES or more in `clean` (our cases with no violation and no personal
    data), the lowest threshold of THRESHOLD_GRID at which rules and model together still publish
    CLEAN_PUBLISHED of them as written. Each case is read by the model trained without it (`held_out`): the
    model trained on them all has learnt them, and would allow a threshold too low for texts it has not
    seen."""
    results, _ = check_batch([ModerationInput(contribution_id=c.id, territory="t", body=c.body, language=c.language)
                              for c in clean], {}, {}, detect_names=False, read_sentences=False)
    chosen = {}
    for language in sorted({c.language for c in clean} & LANGUAGES):
        rows = [(c, r) for c, r in zip(clean, results) if c.language == language]
        if len(rows) < MIN_CLEAN_CASES:
            continue
        # published by the rules alone, and the model's highest reading of the text
        by_rules = [r.outcome == Outcome.PUBLISHED for _, r in rows]
        highest = [highest_reading(c.body, language, held_out[own_group(c)]) for c, _ in rows]
        for threshold in THRESHOLD_GRID:
            published = sum(rules and score < threshold for rules, score in zip(by_rules, highest))
            if published >= CLEAN_PUBLISHED * len(rows):
                chosen[language] = threshold
                break
    return chosen


def train(cases: Sequence[TrainingCase], threshold: float) -> tuple[SentenceModel, HeldOut]:
    """The model trained on all `cases`, with its cross-validated figures; and the models trained without each
    group of cases."""
    features = _features(cases)
    model = _trained(cases, features.dense, threshold)
    figures, held_out = cross_validate(cases, features, sorted({0.6, 0.7, 0.8, threshold, 0.9}))
    model.cross_validation = {"grouped_by": "template", "folds": 5, "regularisation": REGULARISATION,
                              "character_ngrams": {"range": list(NGRAM_RANGE), "at_most": MAX_NGRAMS},
                              "screen_threshold": SCREEN_THRESHOLD,
                              "by_threshold": [f.model_dump() for f in figures]}
    return model, held_out
