"""Pure domain of intake: validation of contributions and parsing of imported files (no I/O)."""

from shared.contribution import ContributionBatch, ContributionIn
from services.intake.domain.csv_import import parse_csv
from services.intake.domain.decidim import parse_decidim
from services.intake.domain.language import detect_languages
from services.intake.domain.parsing import ImportResult, ParsedRow, SkippedRow

__all__ = [
    "ContributionBatch",
    "ContributionIn",
    "ImportResult",
    "ParsedRow",
    "SkippedRow",
    "detect_languages",
    "parse_csv",
    "parse_decidim",
]
