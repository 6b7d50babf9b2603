"""The UI's strings, one catalogue per language, kept as data (`i18n/<language>.json`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

CATALOGUE_DIR = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


@cache
def catalogue(language: str) -> dict[str, str]:
    return json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))


def translator(language: str) -> Callable[..., str]:
    """`t(key, **values)`: the string in `language`, else in French, else the key itself (visible, so a
    missing string is noticed)."""
    strings = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    fallback = catalogue(DEFAULT_LANGUAGE)

    def t(key: str, **values: object) -> str:
        text = strings.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t
