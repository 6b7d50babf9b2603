import pytest

from services.moderation.domain.flooding import find_floods, hamming, simhash
from services.moderation.domain.off_topic import find_off_topic
from services.moderation.domain.spam import find_electoral_propaganda, find_spam
from services.moderation.domain.unintelligible import unintelligible_score
from shared.frameworks import default_framework


@pytest.mark.parametrize("text", [
    "PROMO -50% sur nos montres !!! Cliquez ici www.super-montres.shop",
    "Achetez du viagra pas cher 19,99€, appelez le 06 12 34 56 78 !!",
    "Gagnez de l'argent facile avec le bitcoin : https://bit.ly/xyz https://bit.ly/abc",
])
def test_advertising_is_spam(text):
    flags = find_spam(text)
    assert flags and max(f.score for f in flags) >= 0.5


@pytest.mark.parametrize("text", [
    "Voir le rapport de la CNIL : https://www.cnil.fr/fr/intelligence-artificielle, il est clair sur les risques.",
    "Une formation gratuite pour les demandeurs d'emploi serait utile.",
    "Le projet coûte 2 millions d'euros, soit 12 € par habitant.",
])
def test_civic_text_is_not_spam(text):
    assert all(f.score < 0.5 for f in find_spam(text))


def test_calls_to_vote_are_electoral_propaganda():
    assert find_electoral_propaganda("Votez pour la liste Nantes Avenir aux municipales !")
    assert find_electoral_propaganda("Je suis pour le vote blanc et le vote obligatoire.") == []
    assert find_electoral_propaganda("Qu'en pensez-vous ? Votez-vous ?") == []


A = "Je pense que la ville devrait installer des capteurs dans les parkings pour réduire les embouteillages du centre."
B = "Je pense que la ville devrait installer des capteurs dans les parkings pour réduire les embouteillages du centre !!"
C = "Les algorithmes de la CAF doivent être publiés et expliqués aux allocataires avant toute décision automatisée."


def test_simhash_is_stable_and_near_for_near_texts():
    assert simhash(A) == simhash(A)
    assert -(2**63) <= simhash(A) < 2**63
    assert hamming(simhash(A), simhash(B)) <= 3
    assert hamming(simhash(A), simhash(C)) > 10


def test_flooding_within_a_territory_and_a_batch():
    flags, signatures, new = find_floods(
        [("nantes", A), ("nantes", B), ("rennes", A), ("nantes", C), ("nantes", "d'accord")], {"rennes": [simhash(A)]})
    assert [bool(f) for f in flags] == [False, True, True, False, False]
    assert signatures == [simhash(A), simhash(B), simhash(A), simhash(C), None]
    assert len(new["nantes"]) == 3 and len(new["rennes"]) == 1


@pytest.mark.parametrize("text", ["qsdfghjklm azertyuiop", "aaaaaaaaaaaaaaaaaaaa", "jfkdlsqmfjdksqlfjdkslq", "!!!!!!!!!!!!!!"])
def test_keyboard_mash_is_unintelligible(text):
    assert unintelligible_score(text) >= 0.5


@pytest.mark.parametrize("text", [
    "La CAF et la CPAM doivent mieux informer les usagers sur l'IA.", "RGPD CNIL IA", "ok", "Oui !",
    "Voir https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000033202746",
    "Budget 2024 : 1 250 000 € (+3,5 %)", "Pourquoi pas ?",
])
def test_ordinary_text_is_intelligible(text):
    assert unintelligible_score(text) < 0.5


def test_off_topic_only_for_long_texts_far_from_the_framework():
    framework = default_framework()
    recipe = ("La recette de la tarte aux pommes : prenez trois pommes bien mûres, de la farine, du beurre et du sucre. "
              "Étalez la pâte dans le moule, disposez les quartiers de pommes en rosace, saupoudrez de sucre vanillé "
              "et enfournez quarante minutes à four chaud. Servez tiède avec une boule de glace.")
    civic = ("Je souhaite que la mairie utilise l'intelligence artificielle pour simplifier les démarches des habitants, "
             "avec un contrôle humain et une transparence sur les algorithmes utilisés par les services.")
    assert [f.score for f in find_off_topic(recipe, framework)] == [0.3]
    assert find_off_topic(civic, framework) == []
    assert find_off_topic("Tarte aux pommes.", framework) == []
    assert find_off_topic(recipe, None) == []
