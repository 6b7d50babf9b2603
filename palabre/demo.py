"""The demo network loaded by `palabre up` when the database is empty: territories in several countries,
their consultations, moderators, a partner, and a first round of contributions."""

import secrets
from typing import Any

import httpx

DEMO_TERRITORIES = [
    {"id": "nantes-metropole", "name": "Nantes Métropole", "kind": "metropole", "country": "FR",
     "timezone": "Europe/Paris", "charter_version": "2024-09"},
    {"id": "montpellier", "name": "Montpellier Méditerranée Métropole", "kind": "metropole", "country": "FR",
     "timezone": "Europe/Paris", "charter_version": "2024-09", "moderation_mode": "strict"},
    {"id": "namur", "name": "Ville de Namur", "kind": "ville", "country": "BE", "timezone": "Europe/Brussels",
     "charter_version": "2024-09"},
    {"id": "montreal", "name": "Ville de Montréal", "kind": "ville", "country": "CA", "languages": ["fr", "en"],
     "timezone": "America/Toronto", "charter_version": "2024-09"},
    {"id": "abidjan", "name": "District autonome d'Abidjan", "kind": "ville", "country": "CI",
     "timezone": "Africa/Abidjan", "charter_version": "2024-09"},
    {"id": "casablanca", "name": "Commune de Casablanca", "kind": "commune", "country": "MA",
     "languages": ["fr", "ar"], "timezone": "Africa/Casablanca", "charter_version": "2024-09"},
]

DEMO_CONTRIBUTIONS = [
    ("services-publics", "vigilance", "usager",
     "Je crains que l'accueil en mairie soit remplacé par un chatbot : les personnes âgées ont besoin d'un "
     "interlocuteur humain pour leurs démarches."),
    ("maitrise", "proposition", "acteur-academique",
     "Publier la liste des algorithmes utilisés par la collectivité, avec leur finalité et les données qu'ils "
     "utilisent, dans un registre ouvert."),
    ("sobriete", "vigilance", "societe-civile",
     "Les centres de données consomment énormément d'électricité et d'eau : chaque projet d'IA devrait "
     "mesurer son empreinte carbone avant d'être lancé."),
    ("travail", "attente", "agent",
     "Les agents doivent être formés et associés dès le début, pour que l'IA les aide au lieu de remplacer "
     "leur métier."),
    ("opportunites", "attente", "elu",
     "L'IA peut simplifier les démarches administratives et traduire les informations municipales dans "
     "plusieurs langues."),
    ("conditions", "proposition", "usager",
     "Aucun déploiement sans consultation préalable des habitants et sans évaluation indépendante des "
     "risques pour les droits."),
    (None, "proposition", "usager",
     "Garantir toujours un recours humain quand une décision administrative a été préparée par un "
     "algorithme."),
    (None, "vigilance", "usager",
     "Pour en parler, écrivez-moi à camille.martin@example.org ou appelez le 06 12 34 56 78."),
]


def load_demo_network(urls: dict[str, str], admin_key: str) -> dict[str, Any]:
    """Create the demo network through the public APIs; returns the credentials (shown once)."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    credentials: dict[str, Any] = {"admin": {"api_key": admin_key}, "territories": {}, "partners": {},
                                   "moderators": {}}
    with httpx.Client(timeout=30) as client:
        for territory in DEMO_TERRITORIES:
            response = client.post(f"{urls['intake']}/v1/territories", json=territory, headers=admin)
            response.raise_for_status()
            registered = response.json()
            credentials["territories"][territory["id"]] = {"api_key": registered["api_key"],
                                                          "country": territory["country"]}
            if registered.get("nats"):  # bus credentials, when the embedded nats-server issues them
                credentials["territories"][territory["id"]]["nats"] = registered["nats"]
            login = f"moderation-{territory['id']}"
            password = secrets.token_urlsafe(12)
            client.post(f"{urls['moderation']}/v1/moderators", headers=admin, json={
                "login": login, "password": password, "territory": territory["id"], "role": "territory",
            }).raise_for_status()
            credentials["moderators"][login] = {"password": password, "territory": territory["id"]}
        password = secrets.token_urlsafe(12)
        client.post(f"{urls['moderation']}/v1/moderators", headers=admin, json={
            "login": "moderation-reseau", "password": password, "role": "network"}).raise_for_status()
        credentials["moderators"]["moderation-reseau"] = {"password": password, "territory": None}
        response = client.post(f"{urls['notifications']}/v1/partners", headers=admin, json={
            "id": "france-urbaine", "name": "France urbaine", "email": "veille@france-urbaine.example"})
        response.raise_for_status()
        credentials["partners"]["france-urbaine"] = {"api_key": response.json()["api_key"]}
        for slug, territory in credentials["territories"].items():
            batch = [
                {"external_id": f"demo-{index}", "axis": axis, "kind": kind, "author_role": role,
                 "channel": "atelier" if index % 2 else "en-ligne", "body": body}
                for index, (axis, kind, role, body) in enumerate(DEMO_CONTRIBUTIONS)
            ]
            client.post(f"{urls['intake']}/v1/contributions", json={"contributions": batch},
                        headers={"Authorization": f"Bearer {territory['api_key']}"}).raise_for_status()
    return credentials
