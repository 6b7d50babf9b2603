"""Measured quality of the synthesis on real data (the Lille Grand Débat proposals, read at run time).

- axis assignment against the category each author chose (accuracy, macro-F1, coverage), for the TF-IDF
  prototype baseline, the self-trained classifier, and the classifier given 4/5 of the authors' categories
  as corrections (5-fold), which is how corrections by a person are meant to help;
- sub-theme silhouette, stability under shuffled input, and traceability of every quote.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from shared.frameworks import Framework
from shared.vocabulary import Kind

from .domain.classify import AxisClassifier, PrototypeClassifier
from .domain.models import PublishedContribution, Scope
from .domain.text import Lemmatizer, fold, is_traceable

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
LILLE = "decidim-lille-grand-debat"
FRAMEWORK_PATH = Path(__file__).parent / "data" / "frameworks" / "grand-debat.json"

# Decidim's category names in the Lille export → the framework's axes ("Autre sujet" is no axis).
CATEGORY_TO_AXIS = {
    "transition ecologique": "transition-ecologique",
    "impots, depenses, action publique": "fiscalite-depenses-publiques",
    "democratie et citoyennete": "democratie-citoyennete",
    "organisation de l'etat et des collectivites publiques": "organisation-etat-services-publics",
}


def grand_debat_framework() -> Framework:
    return Framework.model_validate_json(FRAMEWORK_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class LilleProposal:
    id: str
    text: str
    category: str
    axis: str | None


def load_lille(data_dir: Path = DEFAULT_DATA_DIR) -> list[LilleProposal]:
    path = Path(data_dir) / LILLE / "propositions-libres.csv"
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            title = (row.get("title") or "").strip()
            body = (row.get("body") or "").strip()
            category = (row.get("category/name/fr") or "").strip()
            key = fold(category).replace("’", "'")
            text = f"{title}. {body}" if title else body
            rows.append(LilleProposal(row["id"], text, category, CATEGORY_TO_AXIS.get(key)))
    return rows


def lille_contributions(proposals: list[LilleProposal]) -> list[PublishedContribution]:
    """The Lille proposals as published contributions of a small made-up network of three territories."""
    territories = [("lille", "FR"), ("roubaix", "FR"), ("namur", "BE")]
    out = []
    for p in proposals:
        territory, country = territories[int(p.id) % 3]
        out.append(PublishedContribution(
            id=f"lille-{p.id}", territory=territory, country=country, kind=Kind.PROPOSITION,
            text=p.text, axis=p.axis, submitted_at=datetime(2019, 2, 1)))
    return out


def _scores(y_true: list[str], y_pred: list[str | None]) -> dict[str, float]:
    pred = [p or "non-classe" for p in y_pred]
    labels = sorted(set(y_true))
    assigned = [i for i, p in enumerate(y_pred) if p is not None]
    return {
        "accuracy": accuracy_score(y_true, pred),
        "macro_f1": f1_score(y_true, pred, labels=labels, average="macro", zero_division=0),
        "coverage": len(assigned) / len(y_true),
        "accuracy_assigned": (accuracy_score([y_true[i] for i in assigned], [pred[i] for i in assigned])
                              if assigned else 0.0),
    }


def evaluate_axes(proposals: list[LilleProposal], framework: Framework) -> dict[str, dict[str, float]]:
    """Axis assignment figures on the proposals whose author chose one of the framework's themes."""
    texts = [p.text for p in proposals]  # all 196: the unlabelled corpus the classifier may learn from
    labelled = [p for p in proposals if p.axis]
    lemmatizer = Lemmatizer()
    docs = lemmatizer.docs(texts)
    doc_of = dict(zip((p.id for p in proposals), docs))
    y = [p.axis for p in labelled]
    ldocs = [doc_of[p.id] for p in labelled]
    results = {}
    base = PrototypeClassifier(framework, lemmatizer=lemmatizer).fit_docs(docs)
    results["baseline TF-IDF prototypes"] = _scores(y, [a.axis for a in base.predict_docs(ldocs)])
    model = AxisClassifier(framework, lemmatizer=lemmatizer).fit_docs(docs)
    results["self-trained"] = _scores(y, [a.axis for a in model.predict_docs(ldocs)])
    # As on arrival: a text the fitting corpus did not teach, its forms looked up rather than tagged.
    arrival_docs = Lemmatizer().docs([p.text for p in labelled], learn=False)
    results["self-trained, lemmas looked up (on arrival)"] = _scores(
        y, [a.axis for a in model.predict_docs(arrival_docs)])
    pred: list[str | None] = [None] * len(labelled)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(np.zeros(len(y)), y):
        examples = [(labelled[i].text, labelled[i].axis) for i in train]
        clf = AxisClassifier(framework, lemmatizer=lemmatizer).fit_docs(docs, examples)
        for i, a in zip(test, clf.predict_docs([ldocs[i] for i in test])):
            pred[i] = a.axis
    results["self-trained + corrections (5-fold)"] = _scores(y, pred)
    other = [doc_of[p.id] for p in proposals if fold(p.category).startswith("autre")]
    if other:
        left = sum(a.axis is None for a in model.predict_docs(other))
        results["self-trained"]["autre_sujet_unclassified"] = left / len(other)
    return results


def evaluate_synthesis(proposals: list[LilleProposal], framework: Framework) -> dict[str, float]:
    """Silhouette of the sub-themes, identity under shuffled input, traceability of quotes."""
    from .domain.report import analyse

    contributions = lille_contributions(proposals)
    first = analyse(contributions, framework, Scope())
    shuffled = contributions[:]
    random.Random(7).shuffle(shuffled)  # nosec B311 # seeded shuffle, not a secret
    second = analyse(shuffled, framework, Scope())
    same = first.synthesis.model_dump_json() == second.synthesis.model_dump_json()
    published = {c.id: c.text for c in contributions}
    quotes = [q for axis in first.synthesis.axes for s in axis.subthemes for q in s.quotes]
    quotes += [p.representative for p in first.synthesis.proposals]
    traceable = sum(q.contribution_id in published and is_traceable(q.text, published[q.contribution_id])
                    for q in quotes)
    sil = [v for v in first.silhouettes.values() if v is not None]
    return {
        "subtheme_silhouette": float(np.mean(sil)) if sil else float("nan"),
        "stable_under_shuffle": 1.0 if same else 0.0,
        "quotes": float(len(quotes)),
        "quotes_traceable": traceable / len(quotes) if quotes else 1.0,
    }
