"""Writes the three word lists that `domain/statements.py` reads beside its lexicon, from simplemma's French
and German dictionaries and two polarity lexicons (the `lexicons` extra: the service only reads the written
files):

- `inflections.txt`: every inflected form of the lexicon's verbs of violence and hatred, vile attributes,
  dehumanising nouns and qualities ("poignarder" gives "poignarderai", "Ratte" gives "Ratten");
- `real_words.txt`: words of the two languages that the checks would otherwise misread as a misspelt or
  glued lexicon word ("battues" is not "abattues", "Abhören" is not "abhorrent");
- `polarity.txt`: the strongly negative words, and the positive adjectives, of two published polarity
  lexicons, those shipped by textblob-fr (French adjectives, by Tom De Smedt and Walter Daelemans, PDDL) and
  textblob-de (the German Polarity Lexicon of Klenner, Clematide et al.: adjectives, nouns and verbs), with
  their inflected forms. They let the statement check hear disparagement said of a group, or a quality
  denied to it, in words nobody listed by hand;
- `word_frequencies.txt`: the French and German words of wordfreq's lists (Robyn Speer, CC BY-SA 4.0) at
  least as common as one in a thousand million words read per million (Zipf 3.0), with their Zipf
  frequency, so that a common word cut in two by a space ("so nt", "ke ine") is read whole.

Run `palabre moderation inflections --write` after changing `statements.txt`.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

from services.moderation.domain.statements import (
    INFLECTIONS_PATH,
    LEXICON_PATH,
    POLARITY_PATH,
    POLARITY_SECTIONS,
    POLARITY_THRESHOLD,
    REAL_WORDS_PATH,
    WORD_FREQUENCIES_PATH,
    WORD_FREQUENCY_FLOOR,
    inflectable_words,
    load_inflections,
    load_polarity,
    load_statement_lexicon,
    load_word_frequencies,
    misread,
)
from services.moderation.domain.text import canonical_word, collapse_repeats, fold

LANGUAGES = ("fr", "de")
INFLECTIONS_HEADER = "# lemma: its inflected forms (canonical), from simplemma's fr and de dictionaries; written, not edited\n"
REAL_WORDS_HEADER = "# Words (canonical) that are not misspellings of the lexicon; written, not edited\n"
POLARITY_HEADER = (
    f"# Words (canonical) of polarity -{POLARITY_THRESHOLD} or below (adjectives: or {POLARITY_THRESHOLD} and above) in\n"
    "# textblob-fr's and textblob-de's lexicons,\n"
    "# with their inflected forms from simplemma's dictionaries; written, not edited\n"
)
POLARITY_FILES = {"textblob_fr": "fr-sentiment.xml", "textblob_de": "data/de-sentiment.xml"}


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
    other_lemmas: dict[str, set[str]] = {}  # form -> the words outside the lexicon it is also a form of
    for form, lemma in _dictionary_pairs():
        if lemma in wanted:
            forms.setdefault(lemma, set()).add(form)
        else:
            other_lemmas.setdefault(form, set()).add(lemma)

    def shared(form: str, lemma: str) -> bool:
        # "hasst" reads "hast" once repeated letters are collapsed, and "hast" is a form of "haben": a form
        # shared with another word is left out; not one shared with the word made a noun ("ehrlichen" of
        # "ehrlich" and of "der Ehrliche").
        return any(not (len(lemma) >= 5 and other.startswith(lemma) and len(other) - len(lemma) <= 2)
                   for other in other_lemmas.get(form, ()))

    lines = [f"{lemma}: {' '.join(sorted(f for f in found if len(f) >= 4 and f != lemma and not shared(f, lemma)))}"
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


def _polarity_entries() -> Iterator[tuple[str, str, float]]:
    """(canonical word, part of speech, polarity) from the lexicons the two packages ship, read as data
    (the packages themselves are not imported)."""
    for package, name in POLARITY_FILES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{package} is missing: pip install -e '.[lexicons]'")
        # nosec B314 # the lexicons inside an installed package, not input
        root = ElementTree.parse(Path(spec.submodule_search_locations[0]) / name).getroot()  # nosec B314
        for entry in root.iter("word"):
            yield canonical_word(entry.get("form", "")), entry.get("pos", ""), float(entry.get("polarity", 0))


def polarity_text() -> str:
    """Three sections: what a group may be said to be (negative adjectives and nouns), what may be done to it
    (negative verbs) and the qualities that may be denied to it (positive adjectives). Words the statement
    lexicon already knows and short words are left out."""
    known = {w for w, sections in load_statement_lexicon().sections_of.items() if sections - set(POLARITY_SECTIONS)}
    lowest: dict[tuple[str, str], float] = {}
    highest: dict[str, float] = {}
    for word, pos, polarity in _polarity_entries():
        section = "hostile" if pos == "VB" else "disparaging" if pos in ("JJ", "NN") else None
        if section and word.isalpha():
            lowest[word, section] = min(polarity, lowest.get((word, section), polarity))
        if pos == "JJ" and word.isalpha():
            highest[word] = max(polarity, highest.get(word, polarity))
    chosen = {key for key, polarity in lowest.items() if polarity <= -POLARITY_THRESHOLD}
    chosen |= {(word, "quality") for word, polarity in highest.items()
               if polarity >= POLARITY_THRESHOLD and lowest.get((word, "disparaging"), 0) > -POLARITY_THRESHOLD}
    # A word or form in two sections is read in the first of `preferred` ("elend" after "to be", not as a
    # verb), whatever the order of the sets: the file is the same at every run.
    preferred = {section: rank for rank, section in enumerate(("disparaging", "quality", "hostile"))}
    lemmas: dict[str, str] = {}
    for word, section in sorted(chosen, key=lambda key: (preferred[key[1]], key[0])):
        lemmas.setdefault(word, section)
    forms: dict[str, set[str]] = {word: set() for word in lemmas}
    other_lemmas: set[str] = set()  # forms of other words ("dort" of "dörren" is also the adverb)
    for form, lemma in _dictionary_pairs():
        if lemma in lemmas:
            forms[lemma].add(form)
        else:
            other_lemmas.update((form, lemma))
    section_of: dict[str, str] = {}
    for lemma in sorted(forms, key=lambda word: (preferred[lemmas[word]], word)):
        for form in {lemma} | (forms[lemma] - other_lemmas):
            if len(form) >= 4 and form.isalpha() and form not in known:
                section_of.setdefault(form, lemmas[lemma])
    sections = [f"[{section}]\n" + "\n".join(sorted(w for w, s in section_of.items() if s == section))
                for section in POLARITY_SECTIONS]
    return POLARITY_HEADER + "\n".join(sections) + "\n"


WORD_FREQUENCIES_HEADER = """# language, word (as the checks read it: folded, repeats collapsed), Zipf frequency; from wordfreq.
# Written by `palabre moderation inflections --write`: do not edit.
"""


def word_frequencies_text() -> str:
    """The common words of each language (Zipf frequency at least `WORD_FREQUENCY_FLOOR`) in the form the
    checks read them, each with the frequency of its most common spelling."""
    import wordfreq

    lines = []
    for language in LANGUAGES:
        frequency: dict[str, float] = {}
        for word in wordfreq.get_frequency_dict(language):
            zipf = wordfreq.zipf_frequency(word, language)
            if zipf < WORD_FREQUENCY_FLOOR:
                continue
            if word.isalpha():
                form = canonical_word(word)
                frequency[form] = max(frequency.get(form, 0.0), zipf)
        lines += [f"{language} {form} {zipf:.1f}" for form, zipf in sorted(frequency.items())]
    return WORD_FREQUENCIES_HEADER + "\n".join(lines) + "\n"


def write_word_lists(inflections_path: Path = INFLECTIONS_PATH, real_words_path: Path = REAL_WORDS_PATH,
                     polarity_path: Path = POLARITY_PATH, frequencies_path: Path = WORD_FREQUENCIES_PATH) -> None:
    frequencies_path.write_text(word_frequencies_text(), encoding="utf-8")
    load_word_frequencies.cache_clear()
    inflections_path.write_text(inflections_text(), encoding="utf-8")
    load_inflections.cache_clear()  # the polarity words and real words are judged against the new inflections
    load_statement_lexicon.cache_clear()
    polarity_path.write_text(polarity_text(), encoding="utf-8")
    load_polarity.cache_clear()
    load_statement_lexicon.cache_clear()
    real_words_path.write_text(real_words_text(), encoding="utf-8")
