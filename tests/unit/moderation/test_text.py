from services.moderation.domain.text import CanonicalText, canonical_word, fold


def test_fold_keeps_offsets():
    text = "Élisabeth à l’École, cœur"
    assert len(fold(text)) == len(text)
    assert fold(text).startswith("elisabeth a l'ecole")


def test_canonical_word_undoes_leetspeak_and_repeats():
    assert canonical_word("C0NN4RD") == canonical_word("connard") == canonical_word("connnnnard")


def test_numbers_are_not_leetspeak():
    assert canonical_word("2024") == "2024"


def test_spelled_out_words_are_joined_with_their_span():
    text = "quel c.o.n.n.a.r.d celui-là"
    canonical = CanonicalText(text)
    joined = [t for t in canonical.tokens if t.canonical == canonical_word("connard")]
    assert len(joined) == 1
    assert text[joined[0].start:joined[0].end] == "c.o.n.n.a.r.d"


def test_original_span_maps_back():
    text = "Vous   êtes des  ABRUTIS !"
    canonical = CanonicalText(text)
    start = canonical.text.index("vous")
    end = len(canonical.text)
    assert canonical.original_span(start, end) == (0, text.index(" !"))
