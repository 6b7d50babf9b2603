from datetime import datetime

import pytest

from shared.vocabulary import AuthorRole, Channel, Kind
from services.synthesis.domain.models import AxisSource, PublishedContribution

PHRASES = {
    "sobriete": ["Les centres de données consomment trop d'électricité et d'eau.",
                 "L'empreinte carbone de l'intelligence artificielle doit être mesurée.",
                 "Limiter la consommation d'énergie des serveurs de la ville."],
    "travail": ["Former les agents avant de changer leurs métiers.",
                "Aucun emploi d'agent ne doit être supprimé par l'automatisation.",
                "Associer les syndicats au dialogue social sur les outils."],
    "maitrise": ["Publier le code des algorithmes utilisés par la collectivité.",
                 "Héberger les données personnelles en France, en logiciel libre.",
                 "Un contrôle humain de chaque décision automatisée et un droit de recours."],
    "services-publics": ["Garder un accueil humain au guichet de la mairie.",
                         "Les personnes âgées ne doivent pas subir la fracture numérique.",
                         "Chaque usager doit pouvoir parler à un interlocuteur."],
}
TERRITORIES = [("nantes-metropole", "FR"), ("rennes", "FR"), ("namur", "BE"), ("quebec", "CA")]


def make_network(n_per_phrase: int = 6) -> list[PublishedContribution]:
    rows, i = [], 0
    kinds = [Kind.ATTENTE, Kind.VIGILANCE, Kind.PROPOSITION]
    for axis, phrases in PHRASES.items():
        for p_index, phrase in enumerate(phrases):
            for j in range(n_per_phrase):
                territory, country = TERRITORIES[(p_index + j) % len(TERRITORIES)]
                suffix = ["", " C'est essentiel.", " Merci d'y veiller.", " Vraiment."][j % 4]
                rows.append(PublishedContribution(
                    id=f"c{i:04d}", territory=territory, country=country, kind=kinds[(i + p_index) % 3],
                    text=phrase + suffix, axis=axis if j % 3 else None,
                    axis_source=AxisSource.SOURCE if j % 3 else None,
                    author_role=list(AuthorRole)[i % 7], channel=list(Channel)[i % 5],
                    submitted_at=datetime(2025, 1, 1)))
                i += 1
    return rows


@pytest.fixture(scope="session")
def network() -> list[PublishedContribution]:
    return make_network()


@pytest.fixture(scope="session")
def phrases() -> dict[str, list[str]]:
    return PHRASES
