"""The statement of reasons every decision carries (EU Digital Services Act, Art. 17).

Fields: the measure taken, the facts and circumstances, the charter grounds, whether automated means
detected the content and took the decision, and the redress open to the author. French by default,
English on request. It never quotes a personal datum.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from shared.events import GroundReference, Redress, StatementOfReasons
from shared.vocabulary import ModerationMode, Outcome

from .charter import Charter, GroundId, load_charter
from .flags import Flag
from .policy import Decision

APPEAL_ENDPOINT = "POST /v1/contributions/{id}/appeal"

_MEASURES = {
    "fr": {
        Outcome.PUBLISHED: "Contribution publiée sans modification.",
        Outcome.PUBLISHED_REDACTED: "Contribution publiée après masquage de données personnelles.",
        Outcome.REJECTED: "Contribution non publiée (rejetée).",
        Outcome.HELD: "Contribution mise en attente, non publiée avant l'examen d'un modérateur.",
    },
    "en": {
        Outcome.PUBLISHED: "Contribution published unchanged.",
        Outcome.PUBLISHED_REDACTED: "Contribution published with personal data masked.",
        Outcome.REJECTED: "Contribution not published (rejected).",
        Outcome.HELD: "Contribution held: not published until a moderator has reviewed it.",
    },
}
_KIND_NAMES = {
    "fr": {"email": "adresse électronique", "phone": "numéro de téléphone", "iban": "IBAN", "nir": "numéro de sécurité sociale",
           "address": "adresse postale", "name": "nom de personne"},
    "en": {"email": "e-mail address", "phone": "phone number", "iban": "IBAN", "nir": "social security number",
           "address": "postal address", "name": "person's name"},
}
_TEXT = {
    "fr": {
        "nothing": "Aucun manquement à la charte n'a été détecté par les vérifications automatiques.",
        "detected": "Les vérifications automatiques de la charte ont relevé : {items}.",
        "masked": "Éléments masqués : {items}.",
        "strict": "Ce territoire a choisi la modération a priori : aucune contribution n'est publiée avant l'examen d'une personne.",
        "held": "Une personne examinera la contribution et décidera de sa publication.",
        "in_title": " (dans le titre)",
        "means": "Vérifications automatiques de la charte (lexiques, motifs, analyse des énoncés visant une personne ou un groupe, modèle de phrases multilingue, détection de données personnelles, reconnaissance d'entités nommées) appliquées par Palabre, version de charte {version}.",
        "no_means": "Aucun moyen automatisé n'a relevé d'élément ; la décision applique la règle du territoire.",
        "redress": "Vous pouvez contester cette décision auprès des modérateurs du réseau par un recours : {endpoint}. Une personne réexaminera la contribution et vous répondra.",
    },
    "en": {
        "nothing": "The automated charter checks found no breach of the charter.",
        "detected": "The automated charter checks found: {items}.",
        "masked": "Masked: {items}.",
        "strict": "This territory chose pre-moderation: no contribution is published before a person has reviewed it.",
        "held": "A person will review the contribution and decide whether to publish it.",
        "in_title": " (in the title)",
        "means": "Automated charter checks (lexicons, patterns, analysis of statements aimed at a person or a group, a multilingual sentence model, personal-data detection, named-entity recognition) applied by Palabre, charter version {version}.",
        "no_means": "No automated means found anything; the decision applies the territory's rule.",
        "redress": "You can contest this decision before the network's moderators by an appeal: {endpoint}. A person will review the contribution and answer you.",
    },
}


# The statement's shape is part of the event contract: the moderation domain fills in the shared models.
__all__ = ["GroundReference", "Redress", "StatementOfReasons", "build_statement"]


def _facts(flags: Sequence[Flag], decision: Decision, mode: ModerationMode, charter: Charter, language: str) -> str:
    text = _TEXT[language]
    sentences = []
    others = Counter(f.ground for f in flags if f.ground != GroundId.PERSONAL_DATA)
    masked = Counter(f.kind for f in flags if f.ground == GroundId.PERSONAL_DATA and f.kind)
    if others:
        items = ", ".join(
            f"{charter.ground(ground).label.get(language).lower()} ({count})" for ground, count in others.items()
        )
        sentences.append(text["detected"].format(items=items))
    if masked:
        items = ", ".join(f"{_KIND_NAMES[language].get(kind, kind)} ({count})" for kind, count in masked.items())
        sentences.append(text["masked"].format(items=items))
    if not sentences:
        sentences.append(text["nothing"])
    if mode == ModerationMode.STRICT:
        sentences.append(text["strict"])
    if decision.outcome == Outcome.HELD:
        sentences.append(text["held"])
    return " ".join(sentences)


def build_statement(
    contribution_id: str,
    decision: Decision,
    flags: Sequence[Flag],
    mode: ModerationMode = ModerationMode.AUTOMATIC,
    language: str = "fr",
    charter: Charter | None = None,
) -> StatementOfReasons:
    charter = charter or load_charter()
    language = "en" if language == "en" else "fr"
    text = _TEXT[language]
    grounds = [
        GroundReference(id=g, label=charter.ground(g).label.get(language), explanation=charter.ground(g).explanation.get(language))
        for g in decision.grounds
    ]
    endpoint = APPEAL_ENDPOINT.replace("{id}", contribution_id)
    return StatementOfReasons(
        language=language,
        contribution_id=contribution_id,
        charter_version=charter.version,
        outcome=decision.outcome,
        measure=_MEASURES[language][decision.outcome],
        facts_and_circumstances=_facts(flags, decision, mode, charter, language),
        grounds=grounds,
        automated_detection=decision.automated_detection,
        automated_decision=decision.automated_decision,
        automated_means=text["means"].format(version=charter.version) if decision.automated_detection else text["no_means"],
        redress=Redress(endpoint=endpoint, description=text["redress"].format(endpoint=endpoint)),
    )
