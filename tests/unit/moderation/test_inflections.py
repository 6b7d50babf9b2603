"""The word lists written beside the statement lexicon stay in step with it."""

from services.moderation.domain.statements import (
    inflectable_words,
    load_inflections,
    load_real_words,
    load_statement_lexicon,
)


def test_every_inflected_lemma_is_still_a_word_of_the_lexicon():
    """A verb removed from statements.txt must not keep flagging through its forms: rewrite the lists
    (`palabre moderation inflections --write`)."""
    assert set(load_inflections()) <= inflectable_words()


def test_inflected_forms_carry_their_lemmas_sections():
    lexicon = load_statement_lexicon()
    assert "violence" in lexicon.tags("poignarderai")  # poignarder
    assert "violence" in lexicon.tags("erstach")  # erstechen
    assert "hate-emotion" in lexicon.tags("haisaient")  # haïr, repeated letters collapsed


def test_a_form_shared_with_another_word_is_left_out():
    """"hasst" collapses to "hast", a form of "haben": it would flag every "du hast"."""
    assert "hast" not in load_inflections().get("hasen", frozenset())
    assert "hate-emotion" not in load_statement_lexicon().tags("hast")


def test_real_words_are_not_in_the_lexicon():
    assert load_real_words().isdisjoint(load_statement_lexicon().sections_of)
    assert "batues" in load_real_words()  # "battues", not a misspelt "abattues"
