"""Writes the two word lists that `domain/statements.py` reads beside its lexicon, from simplemma's French
and German dictionaries (a development dependency: the service only reads the written files):

- `inflections.txt`: every inflected form of the lexicon's verbs of violence and hatred, vile attributes,
  dehumanising nouns and qualities ("poignarder" gives "poignarderai", "Ratte" gives "Ratten");
- `real_words.txt`: words of the two languages that the checks would otherwise misread as a misspelt or
  glued lexicon word ("battues" is not "abattues", "Abhören" is not "abhorrent").

Run `palabre moderation inflections --write` after changing `statements.txt`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from services.moderation.domain.statements import (
    INFLECTIONS_PATH,
    LEXICON_PATH,
    REAL_WORDS_PATH,
    inflectable_words,
    load_inflections,
    load_statement_lexicon,
    misread,
)
from services.moderation.domain.text import collapse_repeats, fold

LANGUAGES = ("fr", "de")
INFLECTIONS_HEADER = "# lemma: its inflected forms (canonical), from simplemma's fr and de dictionaries; written, not edited\n"
REAL_WORDS_HEADER = "# Words (canonical) that are not misspellings of the lexicon; written, not edited\n"


def _canonical(word: bytes) -> str:
    return collapse_repeats(fold(word.decode()))


def _dictionary_pairs() -> Iterator[tuple[str, str]]:
    """(canonical form, canonical lemma) for every entry of the French and German dictionaries."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    for language in LANGUAGES:
        for form, lemma in DefaultDictionaryFactory().get_dictionary(language)._dict.items():
            yield _canonical(form), _canonical(lemma)


def inflections_text(lexicon_path: Path = LEXICON_PATH) -> str:
    wanted = inflectable_words(lexicon_path)
    forms: dict[str, set[str]] = {}
    other_lemmas: set[str] = set()  # forms of words outside the lexicon
    for form, lemma in _dictionary_pairs():
        if lemma in wanted:
            forms.setdefault(lemma, set()).add(form)
        else:
            other_lemmas.add(form)
    # "hasst" reads "hast" once repeated letters are collapsed, and "hast" is a form of "haben": a form
    # shared with another word is left out.
    lines = [f"{lemma}: {' '.join(sorted(f for f in found if len(f) >= 4 and f != lemma and f not in other_lemmas))}"
             for lemma, found in sorted(forms.items())]
    return INFLECTIONS_HEADER + "\n".join(line for line in lines if not line.endswith(": ")) + "\n"


def real_words_text() -> str:
    """Dictionary words that would be misread, unless their own lemma is in the lexicon (then reading them
    as the lexicon's word is right: "abgestochene")."""
    lexicon = load_statement_lexicon()
    known = lexicon.sections_of
    real = sorted({form for form, lemma in _dictionary_pairs()
                   if len(form) >= 4 and form.isalpha() and form not in known and lemma not in known
                   and misread(form)})
    return REAL_WORDS_HEADER + "\n".join(real) + "\n"


def write_word_lists(inflections_path: Path = INFLECTIONS_PATH, real_words_path: Path = REAL_WORDS_PATH) -> None:
    inflections_path.write_text(inflections_text(), encoding="utf-8")
    load_inflections.cache_clear()  # the real words are judged against the new inflections
    load_statement_lexicon.cache_clear()
    real_words_path.write_text(real_words_text(), encoding="utf-8")
