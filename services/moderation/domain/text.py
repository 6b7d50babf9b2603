"""Text normalisation shared by the checks.

`fold` lowercases and strips accents while keeping every character at its offset, so a match found in the
folded text is a span of the original. `tokenize` yields word tokens in a canonical form (folded,
leetspeak decoded, repeated letters collapsed, spelled-out words like c.o.n.n.a.r.d joined) with their
original spans; `CanonicalText` joins them so regular expressions can run over words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache, lru_cache
from itertools import accumulate
from typing import NamedTuple


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x80, 0x2000):
        char = chr(code)
        lowered = char.lower()
        if len(lowered) != 1:
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))
        if len(base) >= 1 and base[0] != char:
            table[code] = base[0]
        elif lowered != char:
            table[code] = lowered
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    # Typographic apostrophes and dashes become their ASCII forms.
    table.update({ord("’"): "'", ord("‘"): "'", ord("ʼ"): "'", ord("–"): "-", ord("—"): "-", ord("\u00a0"): " ",
                  ord("\u202f"): " ", ord("œ"): "o", ord("Œ"): "o", ord("æ"): "a", ord("Æ"): "a", ord("ß"): "s"})
    return table


FOLD_TABLE = _build_fold_table()
# `str.translate` raises and swallows a KeyError for each character missing from its table: with the
# characters that stay as they are mapped to themselves, folding a French text takes half the time.
_TRANSLATION = {code: code for code in range(0x2100)} | FOLD_TABLE


def fold(text: str) -> str:
    """Lowercase and strip accents, one character for one character (offsets are preserved)."""
    return text.translate(_TRANSLATION)


LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "€": "e", "!": "i"})
_REPEATS = re.compile(r"(.)\1+")
_HAS_LETTER = re.compile(r"[a-z]")


def collapse_repeats(word: str) -> str:
    """`connnnard` -> `conard`: every run of one letter becomes one letter (the lexicon is collapsed alike)."""
    return _REPEATS.sub(r"\1", word)


def decode_leet(word: str) -> str:
    """`c0nn4rd` -> `connard`, only for words that also contain a letter (numbers stay numbers)."""
    if _HAS_LETTER.search(word) and not word.isalpha():
        return word.translate(LEET)
    return word


@cache
def canonical_word(word: str) -> str:
    """The form under which a word is looked up in a lexicon."""
    return collapse_repeats(decode_leet(fold(word)))


class Token(NamedTuple):
    folded: str  # folded and leet-decoded, repeats kept (for allow-lists like German "bitte")
    canonical: str  # folded, leet-decoded, repeats collapsed
    start: int
    end: int


# Letters spelled out with separators: c.o.n.n.a.r.d, c-o-n-n-a-r-d, c o n n a r d (spaces need 4 letters).
_SPELLED = re.compile(r"(?<![\w@$])(?:[\w@$][.\-_*·](?=[\w@$])){2,}[\w@$](?![\w@$])|(?<![\w@$])(?:[\w@$] ){3,}[\w@$](?![\w@$])")
# What any spelled-out word contains (".y.", "-y-", or three single letters after a space): most texts have
# neither, and these two scan much faster than `_SPELLED` itself.
_SPELLED_HINTS = (re.compile(r"[.\-_*·][\w@$][.\-_*·]"), re.compile(r" [\w@$] [\w@$] [\w@$](?![\w@$])"))
_WORD = re.compile(r"[\w@$€!]*\w[\w@$€]*|[\w@$][\w@$€!]*")
_TRIM_PUNCT = "!€$"


def tokenize(text: str) -> list[Token]:
    return _tokens(fold(text))


def _may_spell(folded_text: str) -> bool:
    return any(hint.search(folded_text) for hint in _SPELLED_HINTS)


def _tokens(folded_text: str) -> list[Token]:
    if _may_spell(folded_text):
        return _tokens_with_spelled(folded_text)
    tokens = []
    for match in _WORD.finditer(folded_text):
        forms = _word_forms(match.group())
        if forms is not None:
            start = match.start()
            tokens.append(Token(forms[0], forms[1], start, start + forms[2]))
    return tokens


def _tokens_with_spelled(folded_text: str) -> list[Token]:
    tokens: list[Token] = []
    taken_until = 0
    spelled = [(m.start(), m.end()) for m in _SPELLED.finditer(folded_text)]
    spelled_index = 0
    for match in _WORD.finditer(folded_text):
        start = match.start()
        if start < taken_until:
            continue
        while spelled_index < len(spelled) and spelled[spelled_index][1] <= start:
            spelled_index += 1
        if spelled_index < len(spelled) and spelled[spelled_index][0] <= start < spelled[spelled_index][1]:
            s_start, s_end = spelled[spelled_index]
            joined = re.sub(r"[^\w@$]", "", folded_text[s_start:s_end])
            word = decode_leet(joined)
            tokens.append(Token(word, collapse_repeats(word), s_start, s_end))
            taken_until = s_end
            continue
        forms = _word_forms(match.group())
        if forms is not None:
            tokens.append(Token(forms[0], forms[1], start, start + forms[2]))
    return tokens


@lru_cache(maxsize=200_000)
def _word_forms(matched: str) -> tuple[str, str, int] | None:
    """The folded and canonical forms of a matched word, and its length once trailing `!€$` are cut
    (None when nothing is left)."""
    stripped = matched.rstrip(_TRIM_PUNCT)
    if not stripped:
        return None
    word = decode_leet(stripped)
    return word, collapse_repeats(word), len(stripped)


class CanonicalText:
    """The canonical words of a text joined by single spaces, with a way back to original offsets.

    The words' offsets (`tokens`, and where each word starts in `text`) only matter once something matched,
    which is rare: unless the text spells a word out, they are found on first use."""

    __slots__ = ("_folded_text", "_tokens", "folded_words", "words", "text", "_starts")

    def __init__(self, text: str, folded_text: str | None = None):
        """`folded_text` is `fold(text)` when the caller has it already."""
        self._folded_text = fold(text) if folded_text is None else folded_text
        if _may_spell(self._folded_text):
            self._tokens = _tokens_with_spelled(self._folded_text)
            self.folded_words = [token.folded for token in self._tokens]
            self.words = [token.canonical for token in self._tokens]
        else:
            self._tokens = None
            forms = [f for f in map(_word_forms, _WORD.findall(self._folded_text)) if f is not None]
            self.folded_words = [f[0] for f in forms]
            self.words = [f[1] for f in forms]
        self.text = " ".join(self.words)
        self._starts: list[int] | None = None

    @property
    def _word_starts(self) -> list[int]:
        if self._starts is None:
            lengths = [len(word) + 1 for word in self.words[:-1]]
            self._starts = list(accumulate(lengths, initial=0)) if self.words else []
        return self._starts

    @property
    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = _tokens(self._folded_text)
        return self._tokens

    def one_space_after(self, index: int) -> bool:
        """Whether word `index` and the next are apart by a single space and nothing else."""
        tokens = self.tokens
        return self._folded_text[tokens[index].end:tokens[index + 1].start] == " "

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of `self.text` (covering whole words) to a span of the original text."""
        first = bisect_right(self._word_starts, start) - 1
        last = bisect_right(self._word_starts, max(start, end - 1)) - 1
        return self.tokens[first].start, self.tokens[last].end

    def token_index(self, position: int) -> int:
        return bisect_right(self._word_starts, position) - 1


def by_first_letter(alternatives: tuple[str, ...]) -> str:
    """The alternatives as one regex alternation, those starting with the same letter gathered under it
    ("promo", "prix", "cliquez" -> "p(?:romo|rix)|c(?:liquez)"). Under IGNORECASE the regex engine tries
    every alternative at every word start, the ones with another first letter too; gathered, it tries one
    group per first letter (the spam check's promotions pattern takes half the time). The matches are the
    same: alternatives of different first characters never match at the same place, and each keeps its
    rank among those of its letter. An alternative starting otherwise than with a letter stays whole."""
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        first = alternative[0]
        if first.isalpha() and alternative[1:2] not in ("?", "*", "+", "{"):
            groups.setdefault(first, []).append(alternative[1:])
        else:
            groups.setdefault(alternative, []).append("")
    return "|".join(first if rests == [""] else first + "(?:" + "|".join(rests) + ")"
                    for first, rests in groups.items())


def canonical_pattern(pattern: str) -> str:
    """Write patterns in plain French: each run of lowercase letters is canonicalised like the text it will
    match; uppercase runs (placeholders, `(?P<name>`) are left as they are."""
    return re.sub(r"[a-zà-ÿœæ]+", lambda m: canonical_word(m.group()), pattern)
