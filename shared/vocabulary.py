"""The words of the domain (DESIGN §2), shared by every service and every boundary."""

from enum import StrEnum


class Kind(StrEnum):
    """What a contribution is: an expectation, a point of vigilance or a proposal."""

    ATTENTE = "attente"
    VIGILANCE = "vigilance"
    PROPOSITION = "proposition"


class AuthorRole(StrEnum):
    ELU = "elu"
    AGENT = "agent"
    USAGER = "usager"
    ACTEUR_ECONOMIQUE = "acteur-economique"
    ACTEUR_ACADEMIQUE = "acteur-academique"
    SOCIETE_CIVILE = "societe-civile"
    AUTRE = "autre"


class Channel(StrEnum):
    EN_LIGNE = "en-ligne"
    ATELIER = "atelier"
    PAPIER = "papier"
    REUNION_PUBLIQUE = "reunion-publique"
    AUTRE = "autre"


class Status(StrEnum):
    """Where a contribution stands, as a territory system reads it."""

    SUBMITTED = "submitted"
    PUBLISHED = "published"
    PUBLISHED_REDACTED = "published-redacted"
    REJECTED = "rejected"
    HELD = "held"


class Outcome(StrEnum):
    """What a moderation decision decides."""

    PUBLISHED = "published"
    PUBLISHED_REDACTED = "published-redacted"
    REJECTED = "rejected"
    HELD = "held"


class ModerationMode(StrEnum):
    """`automatic`: clean contributions go out at once; `strict`: nothing public before a person decides."""

    AUTOMATIC = "automatic"
    STRICT = "strict"


class TerritoryKind(StrEnum):
    COMMUNE = "commune"
    INTERCOMMUNALITE = "intercommunalite"
    METROPOLE = "metropole"
    VILLE = "ville"
