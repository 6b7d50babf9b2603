"""Unintelligible text: keyboard mash, random characters, one character repeated.

Measured on letters only, after setting aside links, numbers and acronyms (CAF, RGPD have no vowels).
"""

from __future__ import annotations

import re

from .charter import GroundId
from .flags import Flag
from .text import fold

CHECK = "unintelligible"
_VOWELS = set("aeiouy")
_KEYBOARD_RUNS = ("azert", "zerty", "qwert", "werty", "qsdf", "sdfg", "dfgh", "fghj", "ghjk", "hjkl", "jklm", "asdf",
                  "wxcv", "xcvb", "cvbn", "vbn", "zxcv", "yxcv", "uiop", "poiu", "mlkj", "lkjh", "ytre", "trez")
_WORD = re.compile(r"[^\W\d_]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_SAME_CHAR_RUN = re.compile(r"(.)\1{5,}")


def unintelligible_score(text: str) -> float:
    stripped = _URL.sub(" ", text)
    letters_and_signs = [c for c in stripped if not c.isspace()]
    if len(letters_and_signs) < 6:
        return 0.0
    words = [w for w in _WORD.findall(stripped) if not (w.isupper() and len(w) <= 6)]
    folded_words = [fold(w) for w in words]
    letters = "".join(folded_words)
    score = 0.0
    letter_ratio = sum(c.isalpha() for c in letters_and_signs) / len(letters_and_signs)
    if letter_ratio < 0.5 and len(letters_and_signs) >= 12:
        score += 0.4 if letter_ratio < 0.3 else 0.2
    if len(letters) >= 8:
        vowel_ratio = sum(c in _VOWELS for c in letters) / len(letters)
        if vowel_ratio < 0.18:
            score += 0.5
        elif vowel_ratio < 0.25:
            score += 0.25
        elif vowel_ratio > 0.8:
            score += 0.3
    if folded_words:
        long_vowelless = [w for w in folded_words if len(w) >= 5 and not any(c in _VOWELS for c in w)]
        share = len(long_vowelless) / len(folded_words)
        if share > 0.3:
            score += 0.3
        mash = sum(any(run in w for run in _KEYBOARD_RUNS) for w in folded_words)
        if mash and mash / len(folded_words) > 0.2:
            score += 0.4
        very_long = sum(len(w) > 25 for w in folded_words)
        if very_long and very_long / len(folded_words) > 0.2:
            score += 0.3
    run = _SAME_CHAR_RUN.search(stripped)
    if run and len(run.group()) * 2 >= len(letters_and_signs):
        score += 0.6
    if len(set(letters)) <= 3 and len(letters) >= 8:
        score += 0.4
    return min(score, 1.0)


def find_unintelligible(text: str) -> list[Flag]:
    if not text:
        return []
    score = unintelligible_score(text)
    if score < 0.3:
        return []
    return [Flag(check=CHECK, ground=GroundId.UNINTELLIGIBLE, start=0, end=len(text), score=round(score, 3),
                 term="character-statistics")]
