"""The axis classifiers a synthesis process holds in memory, one per framework (id and version).

Fitting a classifier tags every text of its corpus, which is costly, so fitted classifiers are kept in the
database (`axis_classifiers`) and shared: a replica or a restarted process loads the latest one instead of
fitting its own. Only when none was ever stored is one fitted, from the published corpus of its framework,
the first time a contribution without an axis needs it. The recompute worker refits each classifier on the
whole corpus and stores it; the other replicas pick it up within `REFRESH_S`.
Fitting and classifying are CPU-bound: they run in a worker thread so the event loop keeps answering.

A stored classifier is a pickle, and unpickling runs code: each one is sealed with an HMAC derived from
`PALABRE_SECRET_KEY`, and one whose seal does not match is never unpickled (it is fitted again).
"""

import asyncio
import hashlib
import hmac
import pickle  # nosec B403 # only classifiers sealed with the network's secret are unpickled (see module)
from collections.abc import Sequence
from datetime import datetime

from services.synthesis import store
from services.synthesis.domain.classify import Assignment, AxisClassifier
from services.synthesis.domain.models import AxisSource, PublishedContribution
from services.synthesis.domain.recompute import (
    fit_classifier,
    framework_key,
    training_examples,
)
from services.synthesis.domain.text import Lemmatizer
from shared.frameworks import Framework
from shared.logging import get_logger
from shared.vocabulary import Kind

log = get_logger(__name__)

REFRESH_S = 5.0  # how often a replica looks for classifiers refitted elsewhere


def dump_classifier(classifier: AxisClassifier) -> bytes:
    """The stored form of a classifier, without its lemmatiser (each process classifies with its own)."""
    lemmatizer, classifier.lemmatizer = classifier.lemmatizer, None
    try:
        return pickle.dumps(classifier, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        classifier.lemmatizer = lemmatizer


def classifier_version(key: str, model: bytes) -> str:
    """Names a fitted classifier in the axis history: its framework and a digest of the stored model."""
    return f"{key}#{hashlib.sha256(model).hexdigest()[:12]}"


def load_classifier(model: bytes) -> AxisClassifier:
    """Only for a model this process pickled itself, or whose seal was checked (`ClassifierCache.unseal`)."""
    return pickle.loads(model)  # nosec B301 # own pickles, or sealed ones checked first (see module)


class ClassifierCache:
    def __init__(self, corpus_size: int, secret_key: str) -> None:
        self.corpus_size = corpus_size
        self._seal_key = hmac.new(secret_key.encode(), b"palabre/axis-classifier", hashlib.sha256).digest()
        self.lemmatizer = Lemmatizer()
        self._classifiers: dict[str, AxisClassifier] = {}
        self._fitted_at: dict[str, datetime] = {}
        self._lock = asyncio.Lock()

    def seal(self, model: bytes) -> bytes:
        return hmac.new(self._seal_key, model, hashlib.sha256).digest() + model

    def unseal(self, stored: bytes) -> bytes | None:
        """The model of a stored classifier, or None when its seal is not this network's."""
        seal, model = stored[:32], stored[32:]
        return model if hmac.compare_digest(seal, hmac.new(self._seal_key, model, hashlib.sha256).digest()) else None

    def _load_stored(self, key: str, stored: bytes) -> AxisClassifier | None:
        model = self.unseal(stored)
        if model is None:
            log.warning("stored axis classifier ignored: not sealed with this network's secret", framework=key)
            return None
        return load_classifier(model)

    def replace(self, classifiers: dict[str, AxisClassifier], fitted_at: dict[str, datetime]) -> None:
        """Take classifiers fitted elsewhere (they are used from the next batch on)."""
        self._classifiers.update(classifiers)
        self._fitted_at.update(fitted_at)

    async def refresh(self, conn) -> list[str]:
        """Load the stored classifiers fitted since this process last took them; the keys taken."""
        newer = [key for key, fitted_at in (await store.classifier_fits(conn)).items()
                 if key in self._fitted_at and fitted_at > self._fitted_at[key]]
        if not newer:
            return []
        stored = await store.stored_classifiers(conn, newer)
        loaded = await asyncio.to_thread(lambda: {key: self._load_stored(key, model) for key, _, model in stored})
        self._fitted_at.update({key: fitted_at for key, fitted_at, _ in stored})  # a bad seal is not retried
        self.replace({key: c for key, c in loaded.items() if c is not None}, {})
        return sorted(key for key, c in loaded.items() if c is not None)

    async def classify(self, conn, framework: Framework, texts: Sequence[str],
                       questions: Sequence[str | None] | None = None) -> list[Assignment]:
        classifier = await self._classifier(conn, framework)
        return await asyncio.to_thread(self._predict, classifier, list(texts), questions)

    def _predict(self, classifier: AxisClassifier, texts: list[str],
                 questions: Sequence[str | None] | None = None) -> list[Assignment]:
        """On arrival: forms the fitting corpus did not teach are looked up, not tagged (see Lemmatizer)."""
        return classifier.predict_docs(self.lemmatizer.docs(texts, learn=False), questions, self.lemmatizer)

    async def _classifier(self, conn, framework: Framework) -> AxisClassifier:
        key = framework_key(framework)
        if key in self._classifiers:
            return self._classifiers[key]
        async with self._lock:
            if key not in self._classifiers:
                stored = await store.stored_classifiers(conn, [key])
                loaded = stored and await asyncio.to_thread(self._load_stored, key, stored[0][2])
                if loaded:
                    self.replace({key: loaded}, {key: stored[0][1]})
                    log.info("axis classifier loaded", framework=key)
                else:
                    await self._fit_and_store(conn, framework, key)
        return self._classifiers[key]

    async def _fit_and_store(self, conn, framework: Framework, key: str) -> None:
        corpus = await store.classifier_corpus(conn, framework.id, framework.version, self.corpus_size)
        classifier = await asyncio.to_thread(self._fit, framework, corpus)
        model = await asyncio.to_thread(dump_classifier, classifier)
        fitted_at = await store.save_classifier(conn, key, self.seal(model), len(corpus))
        self.replace({key: classifier}, {key: fitted_at})
        log.info("axis classifier fitted", framework=key, corpus=len(corpus))

    def _fit(self, framework: Framework, corpus: list[tuple]) -> AxisClassifier:
        rows = [PublishedContribution(id=cid, territory="", country="", kind=Kind.ATTENTE, text=text, axis=axis,
                                      axis_source=AxisSource(source) if source in set(AxisSource) else None)
                for cid, text, axis, source, _ in corpus]
        docs = self.lemmatizer.docs([r.text for r in rows])
        return fit_classifier(framework, docs, training_examples(rows, set(framework.axis_ids())), self.lemmatizer,
                              [question for *_, question in corpus])
