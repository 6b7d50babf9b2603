"""Language of a contribution when the source did not say it.

Only the languages spoken across the network are considered (fr, en, de, ar, nl, es, it, pt): a smaller
candidate set is both faster and more accurate than all 75 of lingua's languages.

Three steps, cheapest first:

1. Arabic script → ``ar`` (the only candidate written in it).
2. Clearly French text → ``fr`` without a model: at least three distinct French function words and few
   function words of the other candidates. Most of the network writes in French, so this settles most
   rows at a fraction of the model's cost; anything less clear goes to the model.
3. lingua, on the first ``SAMPLE_CHARS`` characters (the language of a contribution shows in its first
   sentences), all texts of a call at once through its parallel API.

Texts too short to tell (fewer than ``MIN_LETTERS`` letters: "Oui", "100 %") and texts the model cannot
tell with enough confidence get ``default``: ``"fr"``, the network's common language, unless the caller
passes the territory's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

CANDIDATES: dict[Language, str] = {
    Language.FRENCH: "fr",
    Language.ENGLISH: "en",
    Language.GERMAN: "de",
    Language.ARABIC: "ar",
    Language.DUTCH: "nl",
    Language.SPANISH: "es",
    Language.ITALIAN: "it",
    Language.PORTUGUESE: "pt",
}
DEFAULT_LANGUAGE = "fr"
SAMPLE_CHARS = 300
MIN_LETTERS = 12
# Below this confidence of the best candidate (among the eight), the default is kept: short French
# replies such as "on est raccord ;)" otherwise come out Italian.
MIN_CONFIDENCE = 0.5

_WORD = re.compile(r"[^\W\d_]+")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Words frequent in French and absent (as words) from the other candidates' frequent vocabulary.
_FRENCH = frozenset(
    "et est les une dans pour pas qui sur avec sont nous vous cette aux ils elle être ont leur "
    "leurs ces sans tout tous faut doit peut aussi très été fait comme même donc".split()
)
_FOREIGN = frozenset(
    "the and is of to that with for are this was "  # en
    "der die und das ist nicht mit sich auch ein eine "  # de
    "het een van zijn niet ook voor wordt "  # nl
    "el los las es por con para una del "  # es
    "di che della sono per gli anche "  # it
    "os não uma com para são mais pelo"  # pt
    .split()
)


@cache
def detector() -> LanguageDetector:
    """Built once per process (the models load lazily on first use)."""
    return LanguageDetectorBuilder.from_languages(*CANDIDATES).build()


def _quick(text: str) -> str | None:
    """The answer when it is obvious without the model, else None."""
    sample = text[:SAMPLE_CHARS]
    words = _WORD.findall(sample.lower())
    letters = sum(map(len, words))
    if letters < MIN_LETTERS:
        return ""  # too short to tell: the caller's default
    if len(_ARABIC.findall(sample)) * 2 > letters:
        return "ar"
    distinct = set(words)
    french = len(distinct & _FRENCH)
    if french >= 3 and len(distinct & _FOREIGN) * 3 <= french:
        return "fr"
    return None


def detect_languages(texts: Sequence[str], *, default: str = DEFAULT_LANGUAGE) -> list[str]:
    """An ISO 639-1 code for each text, in order; ``default`` when a text is too short or ambiguous."""
    results: list[str | None] = [_quick(text) for text in texts]
    pending = [i for i, found in enumerate(results) if found is None]
    if pending:
        samples = [texts[i][:SAMPLE_CHARS] for i in pending]
        for i, values in zip(pending, detector().compute_language_confidence_values_in_parallel(samples)):
            best = values[0] if values else None
            results[i] = CANDIDATES[best.language] if best and best.value >= MIN_CONFIDENCE else ""
    return [found or default for found in results]


def detect_language(text: str, *, default: str = DEFAULT_LANGUAGE) -> str:
    return detect_languages([text], default=default)[0]
