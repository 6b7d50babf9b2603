"""The shortcuts taken for speed give the same answers as the plain computations they stand for."""

import re

import pytest

from services.moderation.domain import text
from services.moderation.domain.abuse import find_attack_patterns
from services.moderation.domain.text import FOLD_TABLE, CanonicalText, fold, tokenize

TEXTS = [
    "",
    "Bonjour",
    "Quel c.o.n.n.a.r.d celui-là, et ce c-o-n-n-a-r-d aussi !",
    "Vous êtes des c o n n a r d s, il y a 2 ans déjà",
    "C0NN4RD!!! et 100€ $$ !! @@",
    "Élisabeth à l’École, cœur — ŒUVRE\u00a0ß ʼ",
    "a b c d e f",
    "x.y.z et -a-b- puis _m_n_ fin",
]


@pytest.mark.parametrize("sample", TEXTS)
def test_canonical_text_words_are_those_of_its_tokens(sample):
    canonical = CanonicalText(sample)
    tokens = tokenize(sample)
    assert canonical.words == [t.canonical for t in tokens]
    assert canonical.folded_words == [t.folded for t in tokens]
    assert canonical.tokens == tokens
    assert canonical.text == " ".join(t.canonical for t in tokens)


@pytest.mark.parametrize("sample", TEXTS)
def test_spelled_hints_see_every_spelled_word(sample):
    folded = fold(sample)
    if text._SPELLED.search(folded):
        assert text._may_spell(folded)


def test_fold_is_the_fold_table():
    every = "".join(chr(code) for code in range(0x3000) if not 0xD800 <= code < 0xE000)
    assert fold(every) == every.translate(FOLD_TABLE)


@pytest.mark.parametrize("sample", ["je vais te tuer", "Bon. Je vais te tuer demain", "sale rat, je vais te tuer"])
def test_attack_spans_cover_the_words(sample):
    flags = find_attack_patterns(CanonicalText(sample))
    assert [sample[f.start:f.end] for f in flags if f.term == "threat-first-person"] == [
        re.search(r"(?i)je vais te tuer", sample).group()
    ]


ATTACK_TEXTS = TEXTS + [
    "Les immigrés sont des parasites, sales immigrés, dehors les immigrés",
    "Tous les élus sont des connards. Vous êtes des abrutis !",
    "Ces musulmans n'ont rien à faire ici ; les juifs sont comme des rats",
    "Les migrants sontrats et tu es vraiment un con",
]


@pytest.mark.parametrize("sample", ATTACK_TEXTS)
def test_attack_patterns_skipped_for_missing_words_would_not_match(sample, monkeypatch):
    from dataclasses import replace

    from services.moderation.domain import abuse

    canonical = CanonicalText(sample)
    expected_with_skips = find_attack_patterns(canonical)
    every_pattern = tuple(replace(p, needs=()) for p in abuse.attack_patterns())
    monkeypatch.setattr(abuse, "attack_patterns", lambda: every_pattern)
    assert find_attack_patterns(canonical) == expected_with_skips


SPAM_TEXTS = [
    "PROMO !!! -20 % sur tout, code promo ici, 15% de réduction, ſoldes, Prix cassés, cliquez",
    "Votez pour notre liste aux municipales. Élisez-nous ! votez blanc, ma liste aux élections",
    "12 rue de la Paix, 3 bis Allée des Roses, Rue de la Loi 16, 4 Chaussée d'Ixelles, av. Foch, pl. Stanislas",
    "aux municipales, votez Dupont ; rejoignez la campagne, soutenez le candidat, cryptomonnaies",
]


@pytest.mark.parametrize("sample", SPAM_TEXTS + TEXTS)
def test_alternatives_gathered_by_first_letter_match_as_listed(sample):
    from services.moderation.domain import personal_data, spam

    for alternatives in (spam._PROMOTIONS, spam._CALLS_TO_VOTE, personal_data._STREET_TYPE_WORDS):
        listed = re.compile(rf"(?i)(?<!\w)(?:{'|'.join(alternatives)})(?!\w)")
        gathered = re.compile(rf"(?i)(?<!\w)(?:{text.by_first_letter(alternatives)})(?!\w)")
        assert [m.span() for m in gathered.finditer(sample)] == [m.span() for m in listed.finditer(sample)]
