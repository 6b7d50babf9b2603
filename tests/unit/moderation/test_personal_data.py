import pytest
from hypothesis import given, settings, strategies as st

from services.moderation.domain.personal_data import (
    find_addresses, find_emails, find_ibans, find_name_cues, find_nirs, find_personal_data, find_phones,
    names_from_entities, person_entity_spans, redact,
)
from services.moderation.domain.text import fold

PHONES = {
    "FR": ["06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+33 6 12 34 56 78", "+33 (0)1 42 68 53 00", "0033 6 12 34 56 78"],
    "BE": ["0470 12 34 56", "+32 470 12 34 56", "081 24 60 11", "+32 81 24 60 11"],
    "CA": ["(514) 872-1111", "514-872-1111", "418.641.6411", "+1 514 872 1111"],
    "CI": ["07 07 12 34 56", "+225 07 07 12 34 56", "27 22 44 55 66"],
    "MA": ["06 61 23 45 67", "+212 6 61 23 45 67", "05 22 12 34 56", "+212 522-123456"],
    "CM": ["6 71 23 45 67", "671 23 45 67", "+237 671 23 45 67", "+237 2 22 23 45 67"],
    "DE": ["0681 1234567", "+49 681 1234567", "0171 2345678", "030 12345678", "+49 30 12345678"],
}


@pytest.mark.parametrize("country,number", [(c, n) for c, numbers in PHONES.items() for n in numbers])
def test_phone_numbers_of_every_network_country_are_found(country, number):
    text = f"Vous pouvez me joindre au {number} en semaine."
    flags = find_phones(text)
    assert [text[f.start:f.end] for f in flags] == [number]


@pytest.mark.parametrize("text", [
    "Le budget est de 1 500 000 euros pour 2019-2020.",
    "Soit 12345678 € d'économies sur 10 ans.",
    "La loi n° 2016-1321 du 7 octobre 2016 pour une République numérique.",
    "Entre 2019 et 2024, 250000 habitants ont été consultés.",
    "Le SIRET 123 456 789 00012 de l'association.",
])
def test_amounts_dates_and_references_are_not_phone_numbers(text):
    assert find_phones(text) == []


@pytest.mark.parametrize("email", ["jean.dupont@example.fr", "marie+ia@mairie-nantes.fr", "a_b@sub.domain.org", "jean.dupont [at] example.fr"])
def test_emails(email):
    text = f"Écrivez à {email}, merci."
    assert [text[f.start:f.end] for f in find_emails(text)] == [email]


def test_iban_is_validated_by_checksum():
    good = "FR76 3000 6000 0112 3456 7890 189"
    text = f"Mon IBAN : {good} merci"
    assert [text[f.start:f.end] for f in find_ibans(text)] == [good]
    assert find_ibans("Mon IBAN : FR76 3000 6000 0112 3456 7890 188 merci") == []
    assert len(find_ibans("DE89 3704 0044 0532 0130 00")) == 1


def test_nir_is_validated_by_checksum():
    assert len(find_nirs("Mon numéro de sécu : 1 85 05 78 006 084 91.")) == 1
    assert len(find_nirs("NIR 185057800608491")) == 1
    assert find_nirs("NIR 1 85 05 78 006 084 92") == []


@pytest.mark.parametrize("address", [
    "12 rue de la Paix",
    "3 bis avenue Jean Jaurès",
    "12 rue de la Paix, 75002 Paris",
    "45, boulevard Haussmann",
    "7 impasse des Lilas",
    "Rue de la Loi 16, 1000 Bruxelles",
    "Hauptstraße 12, 66111 Saarbrücken",
])
def test_postal_addresses(address):
    text = f"J'habite au {address} et je participe."
    flags = find_addresses(text)
    assert len(flags) == 1
    assert text[flags[0].start:flags[0].end] == address


@pytest.mark.parametrize("text", [
    "La rue de la Paix est embouteillée tous les matins.",
    "Il faut 3 avenues cyclables de plus.",
    "En 2019, 12 places de crèche ont fermé.",
    "Le boulevard périphérique est saturé.",
])
def test_streets_without_a_house_number_are_not_addresses(text):
    assert find_addresses(text) == []


@pytest.mark.parametrize("text,name", [
    ("Bonjour, je m'appelle Jean Dupont et j'habite à Rennes.", "Jean Dupont"),
    ("je m'appelle karim benali, agent d'accueil", "karim benali"),
    ("J'en ai parlé à Mme Lefèvre hier.", "Mme Lefèvre"),
    ("M. Martin a présenté le projet.", "M. Martin"),
    ("Merci pour cette consultation.\nCordialement,\nSophie Lemaire", "Sophie Lemaire"),
])
def test_names_announced_by_their_context(text, name):
    spans = [text[f.start:f.end] for f in find_name_cues(text)]
    assert any(name in span or span in name and len(span) > 3 for span in spans), spans


def test_public_roles_after_a_title_are_not_names():
    assert find_name_cues("M. le Maire et Mme la Préfète étaient présents.") == []
    assert find_name_cues("Herr Bürgermeister, wann antworten Sie endlich?") == []
    text = "Frau Direktorin Weber hat unterschrieben."
    assert [text[f.start:f.end] for f in find_name_cues(text)] == ["Weber"]


def test_a_title_word_after_a_determiner_is_a_noun():
    assert find_name_cues("Nur weil eine Frau Kopftuch trägt, ist sie nicht unterdrückt.") == []
    for text, name in (("Gestern hat Frau Schmidt angerufen.", "Frau Schmidt"),
                       ("Die Frau Huber vom Bauamt war freundlich.", "Frau Huber")):
        assert [text[f.start:f.end] for f in find_name_cues(text)] == [name]


def test_entity_names_keep_real_names_and_drop_capitalised_words():
    text = "Taxer les robots ! Sophie Martin et Zones Rurales, Emmanuel Macron, Nantes."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("Taxer", "Sophie Martin", "Zones Rurales", "Emmanuel Macron", "Nantes")]
    kept = [text[f.start:f.end] for f in names_from_entities(text, spans)]
    assert kept == ["Sophie Martin"]


def test_the_name_model_finds_a_name_in_a_batch():
    texts = ["Jean Dupont pense que l'IA doit rester sous contrôle humain.", "aucun nom ici"]
    spans = person_entity_spans(texts)
    assert any(texts[0][s:e] == "Jean Dupont" for s, e in spans[0])
    assert spans[1] == []


def test_redaction_uses_typed_placeholders():
    text = "Contact : jean.dupont@example.fr ou 06 12 34 56 78, 12 rue de la Paix, IBAN FR76 3000 6000 0112 3456 7890 189."
    redacted = redact(text, find_personal_data(text))
    assert redacted == "Contact : [courriel] ou [téléphone], [adresse], IBAN [iban]."


FRAGMENTS = [
    "jean.dupont@example.fr", "06 12 34 56 78", "+32 470 12 34 56", "(514) 872-1111", "+225 07 07 12 34 56",
    "+212 6 61 23 45 67", "+237 671 23 45 67", "0171 2345678", "FR76 3000 6000 0112 3456 7890 189",
    "1 85 05 78 006 084 91", "12 rue de la Paix", "M. Durand", "je m'appelle Paul Girard",
]
FILLER = st.sampled_from([
    "L'IA doit rester au service des habitants.", "Merci", "et", "Je propose", "contactez", ",", ".",
    "le conseil municipal", "2024", "15 %", "la concertation", "écrivez-moi à", "au",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), FILLER), min_size=1, max_size=12))
def test_a_published_text_never_contains_a_detected_datum(parts):
    text = " ".join(parts)
    flags = find_personal_data(text)
    redacted = redact(text, flags)
    for flag in flags:
        assert text[flag.start:flag.end] not in redacted
    for fragment in FRAGMENTS:
        if fragment in parts and not fragment.startswith(("M. ", "je m'appelle")):
            assert fragment not in redacted
    assert find_personal_data(redacted) == []


def _corpus_for_the_name_filter() -> list[str]:
    """Labelled cases, the benchmark's built-in phrases and, when the kit is there, every Lille text."""
    from bench.load import FALLBACK_PHRASES, PERSONAL_DATA
    from services.moderation.evaluation import default_lille_dir, load_cases, read_lille_comments

    texts = [text for case in load_cases() for text in (case.body, case.title) if text]
    texts += FALLBACK_PHRASES + PERSONAL_DATA
    lille = default_lille_dir()
    if (lille / "commentaires_debats.csv").exists():
        texts += [row["body"] for row in read_lille_comments(lille) if row.get("body")]
    return texts


def test_texts_the_name_filter_skips_hold_no_name_the_model_would_keep():
    """The filter only saves work: on every text it lets by, the model's entities yield no name."""
    from services.moderation.domain.personal_data import could_hold_person_name, name_model

    texts = _corpus_for_the_name_filter()
    skipped = [text for text in texts if not could_hold_person_name(text)]
    missed = []
    for text, doc in zip(skipped, name_model().pipe(skipped, batch_size=256)):
        entities = [(ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == "PER"]
        missed += [text[f.start:f.end] for f in names_from_entities(text, entities)]
    assert skipped, "the corpus has texts without names"
    assert missed == []


def test_the_name_filter_sends_names_to_the_model():
    from services.moderation.domain.personal_data import could_hold_person_name

    assert could_hold_person_name("Merci à Sophie pour son aide.")
    assert could_hold_person_name("J'ai vu Roquard Bellefeuille hier.")
    assert could_hold_person_name("Rencontre avec France Dupuis demain.")
    assert not could_hold_person_name("La France doit investir. Le Conseil Municipal a voté.")
    assert not could_hold_person_name("les données personnelles restent en France, sous contrôle humain")


def test_the_recogniser_reads_only_the_sentences_that_could_hold_a_name():
    from services.moderation.domain.personal_data import name_windows

    text = ("Le budget baisse. Mme. Sophie Durand et J. Dupont en parlent ! Rien à signaler.\n"
            "Merci à Jean Martin.")
    assert [text[start:end].strip() for start, end in name_windows(text)] == [
        "Mme. Sophie Durand et J. Dupont en parlent !", "Merci à Jean Martin."]
    assert name_windows("La France doit investir. Le Conseil Municipal a voté.") == []
    names = [text[f.start:f.end] for f in names_from_entities(text, person_entity_spans([text])[0])]
    assert "Sophie Durand" in names and "Jean Martin" in names


def test_reading_sentences_loses_no_name_the_whole_text_gave():
    """Names found sentence by sentence include every name holding a known first name found in the whole
    text, except entities that ran across a sentence end; over the labelled cases, the Lille texts and
    generated contributions. (Read whole, the model also takes German nouns for names, "Gute Gelegenheit",
    which read sentence by sentence it rightly leaves.)"""
    import random

    from bench.load import contribution
    from services.moderation.domain.personal_data import could_hold_person_name, first_names, name_model

    rng = random.Random(3)
    corpus = _corpus_for_the_name_filter() + [contribution(i, rng)["body"] for i in range(3000)]
    texts = [text for text in dict.fromkeys(corpus) if text and could_hold_person_name(text)]
    by_sentence = person_entity_spans(texts)
    lost = []
    for text, doc, spans in zip(texts, name_model().pipe(texts, batch_size=256), by_sentence, strict=True):
        whole = names_from_entities(text, [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PER"])
        kept = {(f.start, f.end) for f in names_from_entities(text, spans)}
        lost += [text[f.start:f.end] for f in whole
                 if (f.start, f.end) not in kept and not any(c in text[f.start:f.end] for c in ".!?…")
                 and not first_names().isdisjoint(fold(w) for w in text[f.start:f.end].split())]
    assert len(texts) > 50 and lost == []
