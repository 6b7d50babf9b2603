"""The axis classifiers a synthesis process holds in memory, one per framework (id and version).

A classifier is fitted once, from the published corpus of its framework, the first time a contribution
without an axis needs it; the recompute worker refits it on the whole corpus and hands the new one over.
Fitting and classifying are CPU-bound: they run in a worker thread so the event loop keeps answering.
"""

import asyncio
from collections.abc import Sequence

from services.synthesis import store
from services.synthesis.domain.classify import Assignment, AxisClassifier
from services.synthesis.domain.models import AxisSource, PublishedContribution
from services.synthesis.domain.recompute import fit_classifier, framework_key, training_examples
from services.synthesis.domain.text import Lemmatizer
from shared.frameworks import Framework
from shared.logging import get_logger
from shared.vocabulary import Kind

log = get_logger(__name__)


class ClassifierCache:
    def __init__(self, corpus_size: int) -> None:
        self.corpus_size = corpus_size
        self.lemmatizer = Lemmatizer()
        self._classifiers: dict[str, AxisClassifier] = {}
        self._lock = asyncio.Lock()

    def replace(self, classifiers: dict[str, AxisClassifier]) -> None:
        """Take the classifiers a recompute refitted (they are used from the next batch on)."""
        self._classifiers.update(classifiers)

    async def classify(self, conn, framework: Framework, texts: Sequence[str]) -> list[Assignment]:
        classifier = await self._classifier(conn, framework)
        return await asyncio.to_thread(self._predict, classifier, list(texts))

    def _predict(self, classifier: AxisClassifier, texts: list[str]) -> list[Assignment]:
        """On arrival: forms the fitting corpus did not teach are looked up, not tagged (see Lemmatizer)."""
        return classifier.predict_docs(self.lemmatizer.docs(texts, learn=False))

    async def _classifier(self, conn, framework: Framework) -> AxisClassifier:
        key = framework_key(framework)
        if key in self._classifiers:
            return self._classifiers[key]
        async with self._lock:
            if key not in self._classifiers:
                corpus = await store.classifier_corpus(conn, framework.id, framework.version, self.corpus_size)
                self._classifiers[key] = await asyncio.to_thread(self._fit, framework, corpus)
                log.info("axis classifier fitted", framework=key, corpus=len(corpus))
        return self._classifiers[key]

    def _fit(self, framework: Framework, corpus: list[tuple]) -> AxisClassifier:
        rows = [PublishedContribution(id=cid, territory="", country="", kind=Kind.ATTENTE, text=text, axis=axis,
                                      axis_source=AxisSource(source) if source in set(AxisSource) else None)
                for cid, text, axis, source in corpus]
        docs = self.lemmatizer.docs([r.text for r in rows])
        return fit_classifier(framework, docs, training_examples(rows, set(framework.axis_ids())))
