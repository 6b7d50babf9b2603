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
_VOWEL = re.compile("[aeiouy]")
_KEYBOARD_RUN = re.compile("|".join(_KEYBOARD_RUNS))
_WORD = re.compile(r"[^\W\d_]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_SAME_CHAR_RUN = re.compile(r"(.)\1{5,}")
_VOWELLESS_RUN = re.compile(r"[^aeiouy\s]{5,}")


def unintelligible_score(text: str) -> float:
    stripped = _URL.sub(" ", text) if "://" in text or "www." in text else text
    visible = "".join(stripped.split())
    if len(visible) < 6:
        return 0.0
    all_words = _WORD.findall(stripped)
    words = [w for w in all_words if not (w.isupper() and len(w) <= 6)]
    folded_text = fold(" ".join(words))
    folded_words = folded_text.split()
    letters = "".join(folded_words)
    score = 0.0
    letter_ratio = sum(map(len, all_words)) / len(visible)
    if letter_ratio < 0.5 and len(visible) >= 12:
        score += 0.4 if letter_ratio < 0.3 else 0.2
    if len(letters) >= 8:
        vowel_ratio = sum(letters.count(v) for v in _VOWELS) / len(letters)
        if vowel_ratio < 0.18:
            score += 0.5
        elif vowel_ratio < 0.25:
            score += 0.25
        elif vowel_ratio > 0.8:
            score += 0.3
    # Each word statistic is counted only when a look at the whole text shows a word it could count.
    if folded_words and _VOWELLESS_RUN.search(folded_text):
        long_vowelless = [w for w in folded_words if len(w) >= 5 and not _VOWEL.search(w)]
        if len(long_vowelless) / len(folded_words) > 0.3:
            score += 0.3
    if folded_words and any(run in folded_text for run in _KEYBOARD_RUNS):
        mash = sum(1 for w in folded_words if len(w) >= 3 and _KEYBOARD_RUN.search(w))
        if mash and mash / len(folded_words) > 0.2:
            score += 0.4
    if folded_words and max(map(len, folded_words)) > 25:
        very_long = sum(len(w) > 25 for w in folded_words)
        if very_long and very_long / len(folded_words) > 0.2:
            score += 0.3
    run = _SAME_CHAR_RUN.search(stripped)
    if run and len(run.group()) * 2 >= len(visible):
        score += 0.6
    if len(letters) >= 8 and len(set(letters)) <= 3:
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
