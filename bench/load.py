"""Realistic load: real sentences of the Lille Grand Débat exports recombined (a built-in list when the
optional ../shared kit is absent), many territories in many countries, some personal data and some abuse
mixed in, as the moderation sees every day."""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LILLE = REPO.parent / "shared" / "data" / "decidim-lille-grand-debat"

FALLBACK_PHRASES = [
    "L'intelligence artificielle doit rester sous contrôle humain.",
    "Les données personnelles des habitants doivent être hébergées en France.",
    "Il faut former les agents avant tout déploiement d'un nouvel outil.",
    "La consommation d'énergie des centres de données m'inquiète beaucoup.",
    "Un accueil humain doit rester possible à la mairie pour chaque démarche.",
    "Les algorithmes utilisés par la métropole doivent être publiés et expliqués.",
    "Un assistant conversationnel pourrait répondre la nuit aux questions simples.",
    "Les personnes âgées risquent d'être exclues des démarches en ligne.",
    "Un comité citoyen devrait évaluer chaque projet avant son lancement.",
    "Préférer des logiciels libres et des solutions sobres en énergie.",
    "Traduire automatiquement les documents administratifs pour les habitants étrangers.",
    "Les métiers des agents vont changer : il faut un vrai dialogue social.",
    "La transparence sur les données utilisées pour entraîner les modèles est indispensable.",
    "Chaque décision automatisée doit pouvoir être contestée auprès d'une personne.",
]

# The network of DESIGN §1, and more francophone cities: many territories in many countries.
TERRITORIES = [
    ("nantes-metropole", "FR"), ("montpellier", "FR"), ("rennes", "FR"), ("toulouse", "FR"), ("nice", "FR"),
    ("tours", "FR"), ("grand-nancy", "FR"), ("angers", "FR"), ("lacq-orthez", "FR"), ("sicoval", "FR"),
    ("bordeaux", "FR"), ("quimperle", "FR"), ("paris-saclay", "FR"), ("rouen", "FR"), ("bethune-bruay", "FR"),
    ("abidjan", "CI"), ("agadir", "MA"), ("casablanca", "MA"), ("dschang", "CM"), ("montreal", "CA"),
    ("namur", "BE"), ("quebec", "CA"), ("sarrebruck", "DE"), ("dakar", "SN"), ("tunis", "TN"),
    ("geneve", "CH"), ("luxembourg", "LU"), ("cotonou", "BJ"), ("lome", "TG"), ("bamako", "ML"),
    ("ouagadougou", "BF"), ("libreville", "GA"), ("kigali", "RW"), ("antananarivo", "MG"), ("liege", "BE"),
    ("lausanne", "CH"), ("yaounde", "CM"), ("marrakech", "MA"), ("port-au-prince", "HT"), ("beyrouth", "LB"),
]

PERSONAL_DATA = [
    "Vous pouvez me joindre à camille.martin@example.fr pour en parler.",
    "Appelez-moi au 06 12 34 56 78 si besoin.",
    "Je m'appelle Jean Dupont et j'habite 12 rue de la Paix.",
    "Mon numéro : +225 07 08 09 10 11.",
    "Écrivez à secretariat.quartier@example.org, demandez Sophie Lefebvre.",
]
ABUSE = [
    "Le maire est un connard qui n'écoute personne.",
    "Bande de connards, vous ne méritez aucune confiance.",
    "Ces élus sont des abrutis finis.",
    "Ferme-la, espèce d'imbécile.",
]
KINDS = ["attente", "vigilance", "proposition"]
ROLES = ["elu", "agent", "usager", "acteur-economique", "acteur-academique", "societe-civile", "autre"]
CHANNELS = ["en-ligne", "atelier", "papier", "reunion-publique", "autre"]
AXES = ["opportunites", "conditions", "maitrise", "sobriete", "travail", "services-publics"]


@cache
def phrases() -> tuple[str, ...]:
    """Sentences of the Lille proposals and comments (bodies only: the comments' author names stay out)."""
    found: set[str] = set()
    for name in ("propositions-libres.csv", "commentaires_debats.csv"):
        path = LILLE / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                for sentence in re.split(r"(?<=[.!?])\s+|\n+", row.get("body") or ""):
                    sentence = sentence.strip()
                    if 30 <= len(sentence) <= 300:
                        found.add(sentence)
    return tuple(sorted(found)) or tuple(FALLBACK_PHRASES)


def phrases_source() -> str:
    return "Lille Grand Débat exports" if (LILLE / "propositions-libres.csv").exists() else "built-in phrases"


@dataclass
class LoadMix:
    personal_data: float = 0.04
    abuse: float = 0.02
    with_axis: float = 0.5


def contribution(seq: int, rng: random.Random, mix: LoadMix = LoadMix(), *, prefix: str = "") -> dict[str, Any]:
    """One contribution as a territory system sends it; `external_id` carries the sequence number."""
    pool = phrases()
    sentences = [rng.choice(pool) for _ in range(rng.randint(2, 4))]  # one alone repeats: flooding
    roll = rng.random()
    if roll < mix.personal_data:
        sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(PERSONAL_DATA))
    elif roll < mix.personal_data + mix.abuse:
        sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(ABUSE))
    item: dict[str, Any] = {
        "external_id": f"{prefix}{seq}",
        "body": " ".join(sentences),
        "kind": rng.choice(KINDS),
        "author_role": rng.choice(ROLES),
        "channel": rng.choice(CHANNELS),
    }
    if rng.random() < 0.5:  # half the sources say the language, the other half leave it to detection
        item["language"] = "fr"
    if rng.random() < mix.with_axis:
        item["axis"] = rng.choice(AXES)
    return item


def clean_contribution(seq: int, rng: random.Random, *, prefix: str = "") -> dict[str, Any]:
    """A contribution with neither personal data nor abuse (published by the automatic mode)."""
    return contribution(seq, rng, LoadMix(personal_data=0.0, abuse=0.0), prefix=prefix)


def batches(count: int, size: int, territories: list[str], *, seed: int = 7, prefix: str = "",
            start: int = 0) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(territory, contributions) batches, territories taken in turn; sequence numbers are contiguous."""
    rng = random.Random(seed)  # nosec B311 # seeded, reproducible load, not a secret
    seq = start
    index = 0
    while seq < start + count:
        n = min(size, start + count - seq)
        yield territories[index % len(territories)], [contribution(s, rng, prefix=prefix) for s in range(seq, seq + n)]
        seq += n
        index += 1
