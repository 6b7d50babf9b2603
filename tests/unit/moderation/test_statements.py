import pytest

from services.moderation.domain.abuse import find_abuse
from services.moderation.domain.pipeline import ModerationInput, check_batch
from services.moderation.domain.policy import TerritoryPolicy
from services.moderation.domain.statements import SURE, WEAK, find_statements, names_a_group, sentence_signals
from services.moderation.domain.text import CanonicalText
from shared.vocabulary import ModerationMode, Outcome


def grounds(text, language="fr"):
    return {(f.ground, f.score) for f in find_statements(text, language)}


@pytest.mark.parametrize("text,language,ground", [
    ("Je vais poignarder un musulman demain.", "fr", "threat"),
    ("Les réfugiés devraient tous être tués.", "fr", "threat"),
    ("Je veux le tuer.", "fr", "threat"),
    ("Je sais où il habite.", "fr", "threat"),
    ("Ich werde diesen Juden umbringen.", "de", "threat"),
    ("Je déteste les femmes.", "fr", "hate"),
    ("Les migrants n'ont pas leur place dans nos services publics.", "fr", "hate"),
    ("Les fonctionnaires sont des parasites.", "fr", "hate"),
    ("Ich hasse Schwule.", "de", "hate"),
])
def test_statements_of_violence_and_hatred_are_flagged_sure(text, language, ground):
    assert (ground, SURE) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Je veux t u e r tous les réfugiés.", "fr"),
    ("Je veux teur tous les réfugiés.", "fr"),
    ("Ich h4sse Juden.", "de"),
    # glued to a function word
    ("Les étrangers n'ontpas leur place ici.", "fr"),
    ("Les migrants sontun virus.", "fr"),
    ("Tod denSchwulen!", "de"),
    ("Je vais pendrechaque réfugié que je trouverai.", "fr"),
    ("Erschießtsie alle, diese Flüchtlinge.", "de"),
    ("Je vais vous faire lapeau, bande de gays.", "fr"),
    # a letter missing between two same letters ("paasites" reads "pasites")
    ("Les agents de la mairie sont des paasites.", "fr"),
    # glued after any word ("Menschenverachtung", a word of the language, is read as itself)
    ("Die Flüchtlinge sind einfacherbärmlich.", "de"),
    ("Les musulmans sont franchementpitoyables.", "fr"),
])
def test_spelling_evasions_are_caught(text, language):
    assert find_statements(text, language)


def test_a_misspelt_cue_is_weaker_evidence():
    assert grounds("Mrot à tous les homos.") == {("threat", WEAK)}


@pytest.mark.parametrize("text,language", [
    ("Je ne déteste pas les femmes.", "fr"),
    ("Ich hasse Juden nicht.", "de"),
    ("Il devrait être en prison pour avoir dit \"les musulmans devraient tous être tués\".", "fr"),
    ("Nous devons dénoncer la haine des homos dans notre société.", "fr"),
    ("J'adore les réfugiés.", "fr"),
    ("Je déteste les embouteillages.", "fr"),
    ("Il faut supprimer les niches fiscales et tuer le projet de rocade.", "fr"),
    ("La maire a pris une décision désastreuse pour les agents.", "fr"),
    ("Putain, quelle journée.", "fr"),
    ("Les associations de personnes handicapées demandent des guichets humains.", "fr"),
])
def test_contrast_cases_are_not_flagged(text, language):
    assert find_statements(text, language) == []


def test_the_span_covers_target_and_cue():
    text = "Franchement, je vais poignarder un musulman demain."
    (flag,) = find_statements(text)
    assert text[flag.start:flag.end] == "poignarder un musulman"


def test_a_sure_threat_is_rejected_in_automatic_mode_and_held_in_strict_mode():
    item = ModerationInput(contribution_id="c1", territory="t", body="Les élus devraient tous être pendus.")
    (result,), _ = check_batch([item], {"t": TerritoryPolicy()}, {}, detect_names=False)
    assert result.outcome == Outcome.REJECTED and result.grounds == ["threat"]
    assert result.statement.automated_detection and result.statement.automated_decision
    assert [g.id for g in result.statement.grounds] == ["threat"]
    (result,), _ = check_batch([item], {"t": TerritoryPolicy(mode=ModerationMode.STRICT)}, {}, detect_names=False)
    assert result.outcome == Outcome.HELD and result.suggested_outcome == Outcome.REJECTED
    assert "menace" in result.statement.facts_and_circumstances.lower()


@pytest.mark.parametrize(("text", "language"), [
    ("Je n'hésiterai pas à égorger les réfugiés.", "fr"),
    ("Rien ne m'empêchera de poignarder un musulman.", "fr"),
    ("Ich werde nicht zögern, Frauen zu erschießen.", "de"),
    ("Ich bringe alle Behinderten um.", "de"),
    ("Ich steche die Juden ab, einen nach dem anderen.", "de"),
    ("Les Juifs devraient tous être gazés.", "fr"),
    ("Je vais faire du mal à ces migrants.", "fr"),
])
def test_threats_through_double_negation_separable_verbs_and_phrases_are_flagged(text, language):
    assert [f.ground for f in find_statements(text, language)] == ["threat"]


@pytest.mark.parametrize(("text", "language"), [
    ("Je ne vais pas tuer les réfugiés, je vais les aider.", "fr"),
    ("J'ai hâte de voir plus de femmes au conseil municipal.", "fr"),
    ("Wir bringen die Flüchtlinge in der Turnhalle unter.", "de"),
    ("Il faut trier les liquides et les solides pour les habitants.", "fr"),
])
def test_ordinary_uses_of_those_words_are_not_flagged(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize(("text", "language"), [
    ("Je veux que tous les réfugiés meurent.", "fr"),
    ("Diese Muslime sollten alle sterben.", "de"),
    ("Je vais abattre le prochain musulman que je vois.", "fr"),
    ("Ich werde den nächsten Asylbewerber, den ich sehe, erschießen.", "de"),
])
def test_wished_deaths_and_adjectives_before_the_victim_are_threats(text, language):
    assert [f.ground for f in find_statements(text, language)] == ["threat"]


def test_dying_without_a_wish_is_no_threat():
    assert find_statements("Trop de migrants meurent encore en Méditerranée.", "fr") == []


@pytest.mark.parametrize(("text", "language"), [
    ("Je ne supporte pas les musulmans.", "fr"),
    ("Les réfugiés ressemblent à des cafards.", "fr"),
    ("Les femmes sont des sous-hommes.", "fr"),
    ("Ich kann Schwule nicht ausstehen.", "de"),
    ("Flüchtlinge gehören nicht hierher.", "de"),
    ("Juden sind eine Pest.", "de"),
])
def test_hatred_dehumanisation_and_exclusion_of_a_group_are_hate(text, language):
    assert [f.ground for f in find_statements(text, language)] == ["hate"]


@pytest.mark.parametrize(("text", "language"), [
    ("Wir sollten Frauen nicht leiden lassen.", "de"),
    ("Flüchtlinge gehören zu uns.", "de"),
    ("Je supporte mal les bouchons, pas les cyclistes qui me doublent.", "fr"),
])
def test_their_contrasts_are_not_hate(text, language):
    assert [f for f in find_statements(text, language) if f.ground == "hate"] == []


@pytest.mark.parametrize("text,language", [
    ("Je poignarderai le prochain juif que je croiserai.", "fr"),  # future tense, from the verb's lemma
    ("Nous égorgerons ces migrants.", "fr"),
    ("Ich erstach gestern zwei Flüchtlinge und mache weiter.", "de"),  # strong verb, past tense
    ("Ich werde alle Schwulen niedermetzeln.", "de"),
    ("Vous allez tous mourir, sales migrants.", "fr"),  # death foretold to the reader
    ("Le seul bon musulman est un musulman mort.", "fr"),
    ("Nur ein toter Jude ist ein guter Jude.", "de"),
    ("Je vais me débarrasser de tous les Roms.", "fr"),
    ("Je vais les tuer par balles, ces migrants.", "fr"),  # the speaker is the agent
    ("Les femmes devraient être tuées par leurs maris.", "fr"),  # wished
    ("Diese Juden werden von uns getötet.", "de"),
    ("Je vais suriner ce migrant.", "fr"),  # slang and rarer verbs of grievous harm
    ("Ich werde die Flüchtlinge zerfleischen.", "de"),
])
def test_threats_in_any_tense_and_classic_forms_are_sure(text, language):
    assert ("threat", SURE) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Les juifs sont vraiment tous paresseux.", "fr"),
    ("Die Muslime sind faul und kriminell.", "de"),
    ("Les musulmans ne sont jamais honnêtes.", "fr"),  # a quality denied
    ("Je ne ferai jamais confiance à un juif.", "fr"),
    ("Kein Flüchtling ist vertrauenswürdig.", "de"),
    ("Ich vertraue Schwulen nicht.", "de"),
])
def test_vile_attributes_and_denied_qualities_are_held_as_hate(text, language):
    assert ("hate", WEAK) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Les femmes sont souvent victimes de conjoints violents.", "fr"),  # adjective of someone else
    ("Les conjoints violents des femmes doivent être jugés.", "fr"),
    ("Les femmes ne sont pas seulement intelligentes, elles sont courageuses.", "fr"),
    ("Les personnes handicapées ne sont pas moins capables que les autres.", "fr"),
    ("La peine de mort pour les femmes battues est un scandale.", "fr"),  # "battues" is a word, not "abattues"
    ("Les migrants ont été tués en Méditerranée, il faut les secourir.", "fr"),  # what happened
    ("Je souhaite que les personnes handicapées ne souffrent plus de l'isolement.", "fr"),
    ("Zwei Polizisten wurden gestern bei der Demonstration verletzt.", "de"),
    ("Chaque année, 120 femmes sont tuées par leur conjoint.", "fr"),  # a passive with its agent: a fact
    ("Jedes Jahr werden über hundert Frauen von ihren Partnern getötet.", "de"),
    ("Les agents d'accueil se font frapper par des usagers.", "fr"),
])
def test_descriptions_reports_and_praise_are_not_flagged(text, language):
    assert find_statements(text, language) == []


def test_hate_put_to_one_person_is_held_rather_than_rejected():
    """Counter-speech often answers someone ("tu dis que …"): a person reads it before anything is rejected."""
    assert grounds("Toi aussi, tu détestes les femmes ?") == {("hate", WEAK)}
    assert grounds("Je déteste les femmes.") == {("hate", SURE)}


@pytest.mark.parametrize("text,language", [
    ("Comment tu peux trouver ça normal de me traiter de bougnoule ?", "fr"),
    ("Il m'a traité de sale pédé devant tout le monde, c'est inadmissible.", "fr"),
    ("Es ist nicht in Ordnung, Leute Kanake zu nennen.", "de"),
    ("Nenn mich nicht Fotze.", "de"),
    ("Sie nennt mich Kanake, seit ich hier arbeite.", "de"),
    ("Arrête de m'appeler sale pédé.", "fr"),
])
def test_names_others_are_reported_to_call_someone_are_not_the_authors_insults(text, language):
    assert find_abuse(text, language) == []


@pytest.mark.parametrize("text,language", [
    ("Je te traite de connard.", "fr"),
    ("Ich nenne dich Fotze.", "de"),
])
def test_calling_someone_a_name_oneself_is_still_an_insult(text, language):
    assert {f.ground for f in find_abuse(text, language)} == {"insult"}


@pytest.mark.parametrize("text,language", [
    ("Les gens qui pensent que les musulmans sont des parasites, il y en a partout.", "fr"),
    ("Wer glaubt, dass Juden Ratten sind, soll es laut sagen.", "de"),
])
def test_hate_under_others_opinions_is_held_not_rejected(text, language):
    assert ("hate", WEAK) in grounds(text, language)
    assert ("hate", SURE) not in grounds(text, language)


def test_a_name_reported_after_als_is_not_the_authors_insult():
    assert find_abuse("Er hat mich vor allen als Kanake bezeichnet, das ist unerträglich.", "de") == []
    assert {f.ground for f in find_abuse("Ich bezeichne dich als Fotze.", "de")} == {"insult"}


@pytest.mark.parametrize("text,language", [
    ("Putains de migrants, ils sont partout.", "fr"),
    ("Diese scheiß Flüchtlinge kriegen alles.", "de"),
])
def test_filth_stuck_to_a_groups_name_is_hate(text, language):
    assert "hate" in {ground for ground, _ in grounds(text, language)}


@pytest.mark.parametrize("text,language", [
    ("Quelle sale journée pour les femmes.", "fr"),
    ("Putain de bouchons, les migrants n'y sont pour rien.", "fr"),
    ("Die dreckigen Straßen im Viertel der Flüchtlinge.", "de"),
])
def test_swearing_beside_a_group_but_not_at_it_is_not_flagged(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize("text,language", [
    ("Les Roms sont un gaspillage d'oxygène.", "fr"),
    ("Schwule gehören in einen Käfig.", "de"),
])
def test_implicit_derogation_tropes_are_held_as_hate(text, language):
    assert ("hate", WEAK) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Cela permettra de faire payer aux utilitaires étrangers leurs dues.", "fr"),
    ("Les agents vont le payer cher si les effectifs baissent encore.", "fr"),
    ("Die Bürger müssen dafür bezahlen, nicht die Flüchtlinge.", "de"),
    ("Cette réforme va mettre le feu aux poudres chez les agents.", "fr"),
])
def test_costs_and_figures_of_speech_are_not_threats(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize("text,language,flagged", [
    ("Ich schlachte jeden Juden ab, den ich sehe.", "de", True),
    ("Ich schlag die Schwulen zusammen.", "de", True),
    ("Ich schlag die Schwulen tot.", "de", True),  # one verb, two particles
    ("Ich schlage vor, dass Flüchtlinge zusammen wohnen.", "de", False),  # "vor" ends the clause
    ("Wir löschen die Daten der Migranten aus dem System aus.", "de", False),
])
def test_german_separable_verbs_of_violence(text, language, flagged):
    assert bool(find_statements(text, language)) is flagged


@pytest.mark.parametrize("text,language", [
    ("Je ferai en sorte que vous, les trans, souffriez.", "fr"),
    ("Chaque réfugié que je croiserai prendra une balle.", "fr"),
    ("Je vais étrangler de mes mains le premier trans que je vois.", "fr"),
    ("Ich sorge dafür, dass ihr Transmenschen leidet.", "de"),
    ("Ich werde jeden Schwulen schlagen, bis er blutet.", "de"),
    ("Jeder Flüchtling, der mir begegnet, kriegt eine Kugel.", "de"),
])
def test_harm_promised_bullets_and_blood_are_threats(text, language):
    assert ("threat", SURE) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Je ferai tout pour que les personnes handicapées ne souffrent plus.", "fr"),
    ("Die Stadt muss dafür sorgen, dass Flüchtlinge nicht leiden.", "de"),
])
def test_promising_an_end_to_suffering_is_no_threat(text, language):
    assert find_statements(text, language) == []


def test_patterns_of_attack_in_a_sentence_that_denounces_them_are_not_the_authors():
    assert find_abuse("Dire que les musulmans sont des parasites, c'est du racisme pur.", "fr") == []
    assert find_abuse("Les musulmans sont des parasites.", "fr")
    assert find_abuse("Tu dis n'importe quoi, sale pédé.", "fr")  # a slur stays a slur


@pytest.mark.parametrize("text,language", [
    ("Si tu dis que les trans méritent de mourir, tu es un monstre.", "fr"),
    ("Wenn ich höre, dass jemand Schwule töten will, schäme ich mich.", "de"),
])
def test_threats_reported_to_be_denounced_are_not_flagged(text, language):
    assert find_abuse(text, language) == []


@pytest.mark.parametrize("text,language", [
    ("Le monde irait mieux si tous les juifs étaient morts.", "fr"),
    ("Die Welt wäre besser, wenn alle Muslime tot wären.", "de"),
    ("Man sollte alle Flüchtlinge einschläfern.", "de"),
])
def test_a_better_world_without_a_group_is_a_threat(text, language):
    assert ("threat", SURE) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Les personnes âgées vivraient mieux si on les accompagnait, au lieu de les laisser mourir seules.", "fr"),
    ("Man sollte Flüchtlingen helfen, anstatt sie sterben zu lassen.", "de"),
])
def test_instead_of_letting_die_is_no_threat(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize("text,language", [
    ("Les handicapés, on devrait les éliminer à la naissance.", "fr"),  # the pronoun is the object
    ("Muslime verdienen es, gehängt zu werden.", "de"),
    ("Warum erschießen wir nicht einfach alle Transmenschen?", "de"),  # a suggestion, not a negation
    ("Ein guter Migrant ist ein ertrunkener Migrant.", "de"),
    ("Ich träume davon, alle Flüchtlinge brennen zu sehen.", "de"),
])
def test_suggested_dreamt_and_deserved_deaths_are_threats(text, language):
    assert ("threat", SURE) in grounds(text, language)


@pytest.mark.parametrize("text,language", [
    ("Il faut les éliminer de la liste d'attente, ces dossiers en double.", "fr"),
    ("Pourquoi les femmes ne sont-elles pas mieux protégées contre les violences ?", "fr"),
    ("Je rêve d'un monde où les femmes ne meurent plus sous les coups.", "fr"),
])
def test_things_eliminated_and_deaths_refused_are_not_threats(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize("text,language", [
    ("Je ne pourrais jamais aimer un juif.", "fr"),
    ("Les femmes ne sont pas des personnes de valeur.", "fr"),
    ("Les musulmans ne font pas partie de notre société.", "fr"),
    ("Ich würde niemals einen Araber einstellen.", "de"),
    ("Muslime gehören nicht zu Deutschland.", "de"),
])
def test_worth_respect_or_belonging_denied_to_a_group_is_held(text, language):
    assert ("hate", WEAK) in grounds(text, language)


@pytest.mark.parametrize("text", [
    "Des concurrents étrangers qui ne respecteraient pas les normes de notre pays.",  # they, not respect for them
    "Ce n'est pas une bonne idée pour les personnes âgées.",  # the group is not what is judged
    "Les seniors n'ont pas toujours confiance dans les outils numériques.",
])
def test_a_negation_beside_a_group_that_denies_it_nothing_is_not_hate(text):
    assert not find_statements(text, "fr")


@pytest.mark.parametrize("text,language", [
    ("J'ai croisé des migrants hier. Ils sont vraiment répugnants.", "fr"),
    ("Les musulmans ? Je les méprise.", "fr"),
    ("Les trans, je ne peux pas les supporter.", "fr"),
    ("Ich habe Transmenschen getroffen. Das sind Parasiten.", "de"),
])
def test_hate_said_of_a_group_through_a_pronoun_is_flagged(text, language):
    assert {f.ground for f in find_statements(text, language)} == {"hate"}


def test_a_pronoun_for_a_group_named_before_carries_no_hate_by_itself():
    assert not find_statements("J'ai croisé des migrants hier. Ils étaient perdus face à la borne de la gare.")


@pytest.mark.parametrize("text,language", [
    ("Les musulmans sont abominables.", "fr"),  # words of the published polarity lexicons, not listed by hand
    ("Die Flüchtlinge sind grauenhaft.", "de"),
    ("Ich schikaniere Flüchtlinge, wo ich kann.", "de"),
])
def test_disparagement_in_words_nobody_listed_is_held_for_a_person(text, language):
    assert grounds(text, language) == {("hate", WEAK)}


@pytest.mark.parametrize("text,language", [
    ("Les conditions des réfugiés sont abominables.", "fr"),  # the group qualifies what is judged
    ("Die Unterkünfte der Flüchtlinge sind grauenhaft.", "de"),
    ("Die Behörden schikanieren Flüchtlinge.", "de"),  # a fact reported, not the speaker's act
    ("Les musulmans ne sont pas abominables.", "fr"),
    ("Je déteste la violence contre les femmes.", "fr"),  # a thing is what is hated
    ("Ich hasse Gewalt gegen Frauen.", "de"),
    ("Nous détestons le racisme envers les musulmans.", "fr"),
    ("Niemand sollte Schwule hassen.", "de"),  # a norm against hatred
    ("Je refuse qu'on traite les migrants comme des criminels.", "fr"),  # the clause is refused
])
def test_what_is_judged_or_hated_is_not_the_group(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize("text,language", [
    ("Die Menschenverachtung gegenüber Flüchtlingen muss aufhören.", "de"),  # a compound, not a glued word
    ("Les Roms sont vraiment nos voisins.", "fr"),  # "vraiment" is not "vr" + "aiment"
])
def test_words_of_the_language_are_not_read_as_glued(text, language):
    assert find_statements(text, language) == []


def test_a_refusal_covers_its_own_clause_only():
    assert grounds("Je refuse qu'on laisse entrer ces migrants, ce sont des criminels.") == {("hate", WEAK)}


def test_a_quality_of_the_polarity_lexicon_denied_to_a_group_is_held_and_granted_is_not():
    assert grounds("Die Flüchtlinge sind nicht loyal.", "de") == {("hate", WEAK)}
    assert find_statements("Die Flüchtlinge sind loyal.", "de") == []
    assert find_statements("Die Regeln sind für Flüchtlinge nicht loyal.", "de") == []  # the rules are judged


@pytest.mark.parametrize("text,flagged", [
    ("Die Software soll doppelte Einträge von Migranten vernichten.", False),  # the entries are destroyed
    ("Man sollte die Akten von Flüchtlingen verbrennen.", False),
    ("Ich werde Hunderte von Migranten töten.", True),  # people counted
    ("Ich werde die Kinder von Migranten töten.", True),
    ("Diese Art von Frauen sollte man ertränken.", True),
])
def test_a_german_von_complement_of_a_thing_is_not_the_victim(text, flagged):
    assert bool(find_statements(text, "de")) is flagged


@pytest.mark.parametrize(("text", "language"), [
    ("Les femmes sont des ra ts.", "fr"),
    ("Die Mus lime sind Ratten.", "de"),
    ("Je vais tuer tous les mig rants.", "fr"),
])
def test_a_word_cut_in_two_by_a_space_is_read_whole_and_held(text, language):
    assert {score for _, score in grounds(text, language)} == {WEAK}


@pytest.mark.parametrize(("text", "language", "ground"), [
    ("Les Algériens so nt des parasites.", "fr", "hate"),  # "sont": no lexicon word, a common one
    ("Migranten sind ke ine Menschen.", "de", "hate"),  # "keine" completes the phrase "keine Menschen"
    ("Die Flüchtlinge si nd Ungeziefer.", "de", "hate"),
])
def test_a_common_word_cut_in_two_by_a_space_is_read_whole(text, language, ground):
    assert ground in {g for g, _ in grounds(text, language)}


@pytest.mark.parametrize(("text", "language"), [
    ("Les migrants arrivent par tout moyen de transport.", "fr"),  # "partout" is rarer than "par"
    ("Wir helfen den Flüchtlingen, so wie es die Stadt vorsieht.", "de"),
    ("Sur tout le territoire, les femmes sont des élues comme les autres.", "fr"),
])
def test_two_common_words_that_spell_a_word_together_stay_apart(text, language):
    assert grounds(text, language) == set()


@pytest.mark.parametrize("text", [
    "Le maire a battu le record de participation des migrants.",
    "Un bon moyen pour un exécutif de tester l'accord des réfugiés.",
    "Un certain nombre de membres du conseil sont des femmes.",
    "Si tu es migrant, la mairie t'aide.",
])
def test_two_words_that_spell_a_lexicon_word_together_stay_apart(text):
    assert grounds(text) == set()


@pytest.mark.parametrize(("text", "language"), [
    ("Les juifssont des rats.", "fr"),  # "juifs|sont", read with the shared s, not "juifs|ont"
    ("Ichhasse Muslime.", "de"),  # "ich|hasse", read with the shared h
])
def test_a_space_missing_where_letters_repeat_is_read_with_the_shared_letter(text, language):
    assert {ground for ground, _ in grounds(text, language)} == {"hate"}


def test_the_german_article_die_is_no_wish_of_death():
    """"will" (wants) and "die" (the article) are a wish and a death in English only."""
    assert grounds("Die Stadt will die Migranten besser informieren.", "de") == set()
    assert ("threat", SURE) in grounds("I want all immigrants to die.", "en")


def test_english_verbs_of_violence_are_cues_in_english_only():
    """"Beat" is a first name in German, "ein Shot" a drink."""
    assert grounds("Beat Müller hilft den Flüchtlingen.", "de") == set()
    assert ("threat", SURE) in grounds("I will shoot all immigrants.", "en")


@pytest.mark.parametrize(("text", "language"), [
    ("Je vais blesser le premier migrant que je croise.", "fr"),
    ("Les trans devraient être enfermés et battus.", "fr"),
    ("Si je croise un musulman, je le plante.", "fr"),
    ("On va s'en prendre aux Roms du camp cette nuit.", "fr"),
    ("Je vais faire exploser le foyer de réfugiés.", "fr"),
    ("Morgen greife ich die Muslime in der Moschee an.", "de"),
    ("Ich will diesen Schwulen wehtun.", "de"),
    ("Ich breche jedem Juden die Knochen.", "de"),
])
def test_harm_short_of_killing_is_a_threat_when_intended_or_called_for(text, language):
    assert any(ground == "threat" for ground, _ in grounds(text, language))


@pytest.mark.parametrize(("text", "language"), [
    ("Ce discours est blessant pour les musulmans.", "fr"),
    ("C'est là où le bas blesse pour les femmes qui travaillent.", "fr"),
    ("Les réfugiés ont été attaqués la nuit dernière.", "fr"),
    ("Il faut éviter que l'algorithme blesse les personnes handicapées.", "fr"),
    ("Nous allons attaquer la décision du maire en justice.", "fr"),
    ("Je vais descendre dans la rue avec les migrants.", "fr"),
    ("Je vais planter un arbre devant la mosquée.", "fr"),
    ("Flüchtlinge wurden gestern angegriffen, das ist unerträglich.", "de"),
    ("Ich schlage vor, Frauen besser zu schützen.", "de"),
])
def test_the_same_verbs_reported_idiomatic_or_aimed_at_things_are_no_threat(text, language):
    assert grounds(text, language) == set()


@pytest.mark.parametrize(("text", "language"), [
    ("Les Juifs doivent disparaître de ce pays.", "fr"),
    ("Schwarze sollten zurück nach Afrika gehen.", "de"),
    ("Les juifs, il faudrait tous les expulser.", "fr"),
    ("Je ne veux pas de réfugiés dans mon immeuble.", "fr"),
    ("Ich will keine Flüchtlinge in meinem Haus.", "de"),
    ("Les juifs contrôlent toutes les banques.", "fr"),
    ("Juden steuern die Weltwirtschaft.", "de"),
    ("Les immigrés sont la racine de tous nos problèmes.", "fr"),
    ("Les migrants n'apportent que des problèmes.", "fr"),
    ("Les Roms ne vivent que de mendicité et de vols.", "fr"),
    ("Flüchtlinge bringen nur Krankheiten und Messer mit.", "de"),
    ("Roma leben nur vom Betteln und Stehlen.", "de"),
])
def test_banishment_refusal_nearby_and_tropes_told_in_other_words_are_held_as_hate(text, language):
    assert ("hate", WEAK) in grounds(text, language)


@pytest.mark.parametrize(("text", "language"), [
    ("Les réfugiés doivent pouvoir rentrer chez eux quand la guerre sera finie.", "fr"),
    ("Flüchtlinge sollten zurückkehren können, wenn der Krieg vorbei ist.", "de"),
    ("Les seniors doivent partir en formation numérique gratuitement.", "fr"),
    ("Je ne laisserais jamais un algorithme décider seul des aides sociales.", "fr"),
    ("Les banques contrôlent trop nos données personnelles.", "fr"),
    ("Le chômage est un problème pour les migrants comme pour les autres.", "fr"),
    ("Les migrants ne sont pas responsables de la crise.", "fr"),
    ("Les migrants n'apportent pas la délinquance, c'est un mythe.", "fr"),
    ("Les réfugiés apportent leurs problèmes de santé au guichet.", "fr"),
    ("Viele Flüchtlinge leben mit Krankheiten, die nicht behandelt werden.", "de"),
    ("Die Migranten bringen ihre Probleme mit den Behörden zur Sprechstunde.", "de"),
])
def test_rights_facts_and_things_in_those_shapes_are_not_hate(text, language):
    assert grounds(text, language) == set()


@pytest.mark.parametrize(("text", "language"), [
    ("Les trans n'ont aucune dignité.", "fr"),
    ("Les immigrés ne sont pas une richesse.", "fr"),
    ("Juden haben kein Gewissen.", "de"),
    ("Ausländer sind keine Bereicherung.", "de"),
    ("Je n'aime vraiment pas les Arabes.", "fr"),
    ("Muslime sind alles andere als friedlich.", "de"),
    ("Ich habe keinerlei Respekt vor Muslimen.", "de"),
    ("Frauen sind zu nichts zu gebrauchen.", "de"),
])
def test_worth_and_virtues_denied_to_a_group_are_held_as_hate(text, language):
    assert ("hate", WEAK) in grounds(text, language)


@pytest.mark.parametrize(("text", "language"), [
    ("Les handicapés n'ont souvent aucun accès aux formulaires en ligne.", "fr"),
    ("Je ne trouve pas normal que les femmes soient moins payées.", "fr"),
    ("Ich finde es nicht richtig, dass Frauen weniger verdienen.", "de"),
    ("La burqa ne fait pas partie de la tradition musulmane.", "fr"),
])
def test_what_a_group_lacks_through_others_or_a_thing_it_qualifies_is_not_hate(text, language):
    assert grounds(text, language) == set()


@pytest.mark.parametrize(("text", "expected"), [
    ("Ich werde Migranten jagen, bis keiner mehr übrig ist.", {"threat"}),
    ("Roma stehlen alles, was nicht niet- und nagelfest ist.", {"hate"}),
    ("Die Algorithmen der Plattformen kontrollieren die Medien, nicht die Juden.", set()),
    # a negation in the next clause is that clause's, unless it negates a group named nowhere before
    ("Ich werde die Juden vergasen, sagt mir nicht, das sei Hetze.", {"threat"}),
    ("Ich werde die Juden vergasen, nicht die Muslime.", {"threat"}),
    ("Ich hasse niemanden wegen seiner Religion, auch nicht die Muslime.", set()),
])
def test_a_german_negation_counts_in_the_clause_of_the_cue_only(text, expected):
    assert {ground for ground, _ in grounds(text, "de")} == expected


@pytest.mark.parametrize(("text", "language"), [
    ("Ich habe es satt, dass Roma ständig als Diebe dargestellt werden.", "de"),
    ("J'en ai assez qu'on présente les Roms comme des voleurs.", "fr"),
    ("On entend souvent que les réfugiés sont paresseux. Les chiffres disent le contraire.", "fr"),
    ("Viele glauben immer noch, dass Juden die Welt kontrollieren. Das ist ein antisemitischer Mythos.", "de"),
    ("Il a crié « Tuez les migrants ! » devant la mairie, la police l'a arrêté.", "fr"),
    ("Ich habe gehört, wie jemand Frauen als minderwertig bezeichnete, und bin eingeschritten.", "de"),
])
def test_hate_depicted_refuted_or_quoted_across_a_mark_is_counter_speech(text, language):
    assert grounds(text, language) == set()


def test_hatred_as_a_german_noun_is_held_for_a_person_not_rejected():
    assert grounds("Ich habe nur Hass für Migranten.", "de") == {("hate", WEAK)}
    # the quoted slogan is what spreads hatred, not the group it names
    assert grounds("Die Parole „Migranten sind Verbrecher“ verbreitet nur Hass.", "de") == set()
    assert grounds("Gleich morgen fackle ich das Asylheim ab.", "de") == {("threat", SURE)}


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Les musulmans ne s'intégreront jamais.", "fr", {("hate", WEAK)}),
    ("Muslime werden sich niemals integrieren.", "de", {("hate", WEAK)}),
    ("Man kann Flüchtlingen nicht trauen.", "de", {("hate", WEAK)}),
    ("Migranten haben hier keinen Wert.", "de", {("hate", WEAK)}),
    ("Les migrants ne peuvent pas s'intégrer sans cours de français.", "fr", set()),
    ("Ohne Sprachkurse können sich Flüchtlinge nicht integrieren.", "de", set()),
    ("Keiner kann Juden trauen.", "de", {("hate", WEAK)}),
    ("Ich traue keinem Muslim.", "de", {("hate", WEAK)}),
    ("Viele Migranten trauen den Behörden nicht.", "de", set()),
    ("Keiner der Flüchtlinge traut den Behörden.", "de", set()),
    ("Die Rechte der Migranten haben keinen Wert, wenn niemand sie durchsetzt.", "de", set()),
])
def test_fitting_in_and_trust_denied_are_contempt_unless_a_barrier_or_their_own(text, language, expected):
    assert grounds(text, language) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Schickt die Flüchtlinge alle zurück!", {"hate"}),
    ("Schiebt die Ausländer endlich ab!", {"hate"}),
    ("Schickt den Flüchtlingen die Unterlagen zurück, bitte.", set()),
    ("Die Stadt schickt den Flüchtlingen die Unterlagen zurück.", set()),
])
def test_an_order_to_send_a_group_away_is_an_exclusion(text, expected):
    assert {ground for ground, _ in grounds(text, "de")} == expected


@pytest.mark.parametrize(("text", "language"), [
    ("Les Roms sont des voleurs. Dire le contraire est un mensonge.", "fr"),
    ("Die Roma sind Diebe. Alles andere ist eine Lüge.", "de"),
])
def test_the_speakers_own_claim_is_not_cleared_by_calling_its_opposite_a_lie(text, language):
    assert ("hate", WEAK) in grounds(text, language)


@pytest.mark.parametrize("text", [
    "Les musulmans sont la honte de ce pays.",
    "Les Roms sont une honte pour la ville.",
    "Ces migrants sont vraiment honteux.",
])
def test_a_judgement_said_of_a_group_disparages_it(text):
    assert ("hate", WEAK) in grounds(text)


@pytest.mark.parametrize("text", [
    "C'est une honte de dire que les musulmans sont des voleurs.",  # the judgement frames what is reported
    "La situation des réfugiés est une honte.",  # said of their situation
    "Les algorithmes discriminent les femmes et les personnes handicapées, c'est inacceptable.",  # of "it"
    "Les tags antisémites sur la synagogue sont une honte pour toute notre ville.",  # of the tags
    "Que des femmes soient encore moins payées est inacceptable.",  # of a clause
    "Les migrants vivent dans des conditions qui sont une honte.",  # of the conditions
])
def test_a_judgement_of_what_is_done_to_a_group_is_no_hate(text):
    assert find_abuse(text, "fr") == []


@pytest.mark.parametrize(("text", "language"), [
    ("Nichts ist schöner als eine Stadt voller Muslime.", "de"),  # "nichts" negates, it does not disparage
    ("Ich habe keinerlei Probleme mit Muslimen.", "de"),
])
def test_a_negation_is_no_judgement_of_a_group(text, language):
    assert grounds(text, language) == set()


@pytest.mark.parametrize(("text", "expected"), [
    ("Wir löschen alle Roma aus.", {"threat"}),
    ("Morgen lege ich ein paar Flüchtlinge um.", {"threat"}),
    ("Die Stadt löscht die Daten der Flüchtlinge aus dem System aus.", set()),
    ("Wir schalten die Heizung im Rathaus aus.", set()),
    ("Ich werde sicherstellen, dass alle Juden sterben.", {"threat"}),
    ("Die Stadt muss sicherstellen, dass keine Flüchtlinge im Winter auf der Straße sterben.", set()),
])
def test_german_verbs_of_killing_with_their_particle_at_the_end(text, expected):
    assert {ground for ground, _ in grounds(text, "de")} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Pour moi, les Noirs sont moins intelligents, c'est comme ça.", "fr", {"hate"}),
    ("Schwarze sind weniger klug als Weiße.", "de", {"hate"}),
    ("Les Noirs ne sont pas moins intelligents que les autres.", "fr", set()),
    ("Wie kann man noch glauben, dass Frauen weniger wert sind als Männer?", "de", set()),
    ("Les femmes sont moins payées que les hommes.", "fr", set()),
    ("Les trans devraient être enfermés.", "fr", {"threat"}),
    ("Les migrants sont enfermés dans des centres de rétention.", "fr", set()),
])
def test_a_quality_lessened_is_denied_and_a_norm_of_confinement_threatens(text, language, expected):
    assert {ground for ground, _ in grounds(text, language)} == expected


def test_a_reflexive_verb_of_opinion_is_nobody_elses_opinion():
    [reflexive] = sentence_signals("Les musulmans se croient toujours tout permis dans ce pays.")
    [others] = sentence_signals("Beaucoup croient que les musulmans sont dangereux.")
    assert "hedge" not in reflexive.present and "hedge" in others.present


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Les femmes se plaignent tout le temps.", "fr", {"hate"}),
    ("Warum jammern Frauen eigentlich ständig?", "de", {"hate"}),
    ("Les femmes se plaignent toujours du manque de crèches.", "fr", set()),
    ("Die Migranten beschweren sich ständig über die Formulare.", "de", set()),
    ("Ich werde nie eine Frau als Chefin respektieren.", "de", {"hate"}),
    ("Flüchtlinge verdienen kein Mitgefühl.", "de", {"hate"}),
    ("Die Migranten sind nicht gut informiert über ihre Rechte.", "de", set()),
    ("Die Behörden haben kein Mitgefühl mit Flüchtlingen.", "de", set()),
])
def test_complaining_always_and_respect_or_compassion_denied(text, language, expected):
    assert {ground for ground, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a wish or a norm of dying, in any words of death, against a group or a role
    ("Les Noirs doivent mourir.", "fr", {"threat"}),
    ("Puissent tous les Noirs mourir de faim.", "fr", {"threat"}),
    ("Ich wünsche allen Juden einen langsamen Tod.", "de", {"threat"}),
    ("Les handicapés devraient être euthanasiés à la naissance.", "fr", {"threat"}),
    # preventing deaths, and a norm denied, wish no one dead
    ("Il faut éviter que des migrants meurent en mer.", "fr", set()),
    ("Wir müssen verhindern, dass noch mehr Flüchtlinge im Mittelmeer sterben.", "de", set()),
    ("Kein Mensch muss in der Notaufnahme sterben, nur weil die KI Senioren falsch einstuft.", "de", set()),
])
def test_wishes_and_norms_of_death(text, language, expected):
    assert {f.ground for f in find_statements(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # offices named by a German compound, and origins in every form
    ("Ich werde die Schulleiterin erwürgen.", "de", {"threat"}),
    ("Dem Klinikdirektor schlag ich den Schädel ein.", "de", {"threat"}),
    ("Je vais pendre le proviseur.", "fr", {"threat"}),
    ("Chinesen sollte man verbrennen.", "de", {"threat"}),
    ("Les Roumaines sont des voleuses.", "fr", {"hate"}),
])
def test_roles_and_origins_beyond_the_common_words(text, language, expected):
    assert {f.ground for f in find_statements(text, language)} == expected


@pytest.mark.parametrize(("text", "language"), [
    # the quotation has no place here, not the group quoted
    ("In der Kommentarspalte stand „Schwule gehören therapiert“ – so etwas hat hier nichts zu suchen.", "de"),
    # "weder … noch" denies both
    ("Muss man noch erklären, dass Juden weder Brunnen vergiften noch Pandemien erfinden?", "de"),
])
def test_a_quoted_statement_and_weder_noch_are_not_the_speakers_hate(text, language):
    assert find_statements(text, language) == []


@pytest.mark.parametrize(("text", "outcome"), [
    # someone else's words reported with a verb of shouting or tagging: published
    ("Hier au guichet, un homme a crié à une femme voilée « rentre chez toi, sale Arabe », personne n'a bougé.",
     Outcome.PUBLISHED),
    # a quoted statement with nothing saying whose it is: a person reads it, nothing is rejected
    ("Ma voisine a retrouvé « mort aux Juifs » sur sa boîte aux lettres. Que compte faire la mairie ?", Outcome.HELD),
    # scare quotes around one word leave the author's own hate
    ("Les « réfugiés » sont des parasites.", Outcome.REJECTED),
])
def test_quoted_hate_is_reported_speech(text, outcome):
    [result], _ = check_batch([ModerationInput(contribution_id="c", territory="t", body=text, language="fr")], {}, {},
                              detect_names=False)
    assert result.outcome == outcome


@pytest.mark.parametrize(("text", "language", "expected"), [
    # knowing where someone lives, whoever says it: a threat
    ("On sait où elle habite, la maire.", "fr", {("threat", SURE)}),
    ("Wir wissen, wo du wohnst.", "de", {("threat", SURE)}),
    ("On a trouvé son adresse, qui vient avec nous ?", "fr", {("threat", SURE)}),
    # the idioms of a veiled threat: held for a person
    ("Les vieux qui bloquent la réforme, la chasse est ouverte.", "fr", {("threat", WEAK)}),
    ("Ce serait dommage qu'il arrive quelque chose aux enfants du directeur.", "fr", {("threat", WEAK)}),
    ("Ein Unfall ist schnell passiert, das sollte sich die Stadträtin merken.", "de", {("threat", WEAK)}),
    # knowing where the needs are, and an accident as a risk of the technology, threaten no one
    ("On sait où sont les failles du système.", "fr", set()),
    ("Un accident de la route est vite arrivé avec ces navettes autonomes.", "fr", set()),
])
def test_doxxing_and_veiled_threats(text, language, expected):
    assert grounds(text, language) == expected


@pytest.mark.parametrize(("text", "names_one"), [
    ("Les Roumaines du quartier", True),
    ("Viele Rumänen arbeiten hier.", True),
    ("Les seniors du quartier", True),
    # German adjectives of a group, in their forms
    ("Muslimische Sachbearbeiter bevorzugen ihre eigenen Leute.", True),
    ("Seit ein schwules Paar das Gasthaus übernommen hat", True),
    ("Die Preise im Kreis steigen.", False),  # not "Greis"
    # common words that fold or misspell into an origin or a handicap name no group
    ("Pôle emploi a changé de nom.", False),  # not "Pole"
    ("C'est une ruse du prestataire.", False),  # not "russe"
    ("Gagner un peu plus que le smic.", False),  # not "peul"
    ("Ces algorithmes aveugles et sourds aux demandes.", False),
])
def test_which_words_name_a_protected_group(text, names_one):
    assert names_a_group(CanonicalText(text)) == names_one


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a weapon or a part of the body is no thing harmed
    ("J'attendrai l'agente de la CAF à la sortie et je lui planterai un couteau.", "fr", {"threat"}),
    ("Les Roumains de la gare, je vais leur casser les jambes un par un.", "fr", {"threat"}),
    ("Les Turcs du quartier, faudrait leur tirer dessus.", "fr", {"threat"}),
    ("Ich fahr den Krüppel im Rollstuhl einfach über den Haufen.", "de", {"threat"}),
    ("Ich zerre die Muslime aus der Moschee und knüpfe sie auf.", "de", {"threat"}),
    # a thing planted, broken or thrown over
    ("Je vais lui planter un arbre dans le jardin.", "fr", set()),
    ("Il faut casser les jambes à ce projet.", "fr", set()),
    ("Der Plan wirft alles über den Haufen.", "de", set()),
])
def test_violence_in_idioms_and_with_a_weapon(text, language, expected):
    assert {f.ground for f in find_statements(text, language)} == expected


@pytest.mark.parametrize("text", [
    # an article before a noun is no object pronoun
    "Au Maroc, les accidents de la route tuent surtout des piétons.",
    "L'isolement tue, au sens propre, chez les agriculteurs.",
    # an idea killed in the egg
    "Ce projet, il faut l'étouffer dans l'œuf.",
    "Le projet des élus devrait être tué dans l'oeuf.",
    # a name others called a group, in the past
    "En 1994, la radio des Mille Collines traitait les Tutsi de « cafards » avant les massacres.",
])
def test_killing_said_of_causes_and_projects_threatens_no_one(text):
    assert find_statements(text, "fr") == []


def test_a_pronoun_with_a_clitic_before_the_verb_is_still_its_object():
    assert {f.ground for f in find_statements("Ces migrants, le canal est là : je les y noierai.")} == {"threat"}


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a completed act told in the past: history or a report
    ("Wir gedenken der von den Nazis ermordeten Sinti und Roma.", "de", set()),
    ("Hier steht das Denkmal für die Klinik, in der man behinderte Menschen ermordet hat.", "de", set()),
    ("Im Mittelalter hat man Juden verbrannt, das darf nie vergessen werden.", "de", set()),
    ("In Hanau wurden neun Menschen mit Migrationsgeschichte erschossen.", "de", set()),
    ("Nous commémorons les Roms exterminés par les nazis.", "fr", set()),
    ("En 1961, la police a noyé des Algériens dans la Seine, il faut le rappeler.", "fr", set()),
    ("Mon grand-père racontait comment on avait déporté les Juifs de notre village.", "fr", set()),
    # the same verbs, promised, prescribed, supposed, wished or approved of
    ("Ich werde die Flüchtlinge erschießen.", "de", {"threat"}),
    ("Ich würde am liebsten alle Flüchtlinge erschießen.", "de", {"threat"}),
    ("Man hätte die Juden alle vergasen sollen.", "de", {"threat"}),
    ("Wir haben letzten Sommer schon Türken verprügelt, und wir werden es wieder tun.", "de", {"threat"}),
    ("J'ai déjà tabassé deux migrants le mois dernier, et je compte bien continuer.", "fr", {"threat"}),
    ("Je suis prêt à tuer les migrants.", "fr", {"threat"}),
    ("Heureusement qu'on a gazé les Juifs.", "fr", {"threat"}),
    ("J'ai tué des Arabes et j'en suis fier.", "fr", {"threat"}),
    ("Man hat damals Zigeuner vergast, und ich bin stolz darauf.", "de", {"threat"}),
    ("Je souhaite aux profs de se faire lyncher par leurs élèves.", "fr", {"threat"}),
])
def test_violence_told_in_the_past_is_no_threat_unless_promised_again(text, language, expected):
    assert {f.ground for f in find_statements(text, language)} & {"threat", "hate"} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # veiled threats held for a person: days counted, a beating in slang, blood foretold
    ("Madame la maire, vos jours sont comptés.", "fr", {("threat", WEAK)}),
    ("Toi l'agent de la CAF, tu vas comprendre ta douleur.", "fr", {("threat", WEAK)}),
    ("On va lui faire sa fête, au directeur.", "fr", {("threat", WEAK)}),
    ("Pass bloß auf, du Sachbearbeiter.", "de", {("threat", WEAK)}),
    ("Blut wird fließen, wenn das durchkommt.", "de", {("threat", WEAK)}),
    # the same words of things, or of a party
    ("Les jours de ce logiciel sont comptés.", "fr", set()),
    ("On fera la fête samedi après le conseil.", "fr", set()),
    ("Die Tage des Faxgeräts im Bürgeramt sind gezählt.", "de", set()),
])
def test_veiled_threat_idioms_are_held_not_rejected(text, language, expected):
    assert grounds(text, language) == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a threat reported is counter-speech
    ("Il a menacé de tuer les migrants du foyer, j'ai porté plainte.", "fr", set()),
    ("Des jeunes ont menacé de brûler les boutiques des commerçants burkinabè.", "fr", set()),
    ("Er drohte, die Moschee mit allen Muslimen darin anzuzünden.", "de", set()),
    # a menace named as a noun is still said of the group
    ("Les Roms sont une menace de tous les instants pour le quartier.", "fr", {"hate"}),
])
def test_threats_reported_are_not_the_speakers(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a relative clause between the victim and the verb does not put the victim out of reach
    ("Die Schulleiterin, die meinen Sohn mit ihrer Software aussortiert hat, werde ich eigenhändig erwürgen.",
     "de", {"threat"}),
    ("Den Sachbearbeiter, der meinen Antrag seit Monaten liegen lässt, werde ich morgen abstechen.", "de",
     {"threat"}),
    # the same length of words that are no relative clause still does
    ("Die Flüchtlinge leiden im alten Hotel am Bahnhof seit Monaten sehr, und die Stadt will das Projekt "
     "jetzt töten.", "de", set()),
])
def test_a_relative_clause_does_not_part_the_victim_from_the_verb(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # the law and its sanctions do not turn the speaker's own threat into a report
    ("Je vais tuer tous les Arabes du quartier, la prison ne me fait pas peur.", "fr", {"threat"}),
    ("Ich bring die Juden alle um, das Gefängnis ist mir egal.", "de", {"threat"}),
    ("Ich fahr den Krüppel im Rollstuhl über den Haufen, wenn er noch einmal den Gehweg blockiert.", "de",
     {"threat"}),
    # nor does a word of reporting or denouncing, when the speaker makes the threat
    ("Je vais tuer ces Arabes, et tant pis si c'est raciste.", "fr", {"threat"}),
    ("Traitez-moi de raciste si vous voulez, je vais cramer le foyer des migrants.", "fr", {"threat"}),
    # someone else's threat, reported to the police or denounced, is still a report
    ("Er hat gedroht, die Juden umzubringen, ich habe Anzeige erstattet.", "de", set()),
    ("Ich habe Anzeige erstattet, weil mein Nachbar die Flüchtlinge abstechen will.", "de", set()),
    ("Il a dit qu'il allait tuer les Arabes, c'est inacceptable.", "fr", set()),
    ("Schrecklich, wenn Leute sagen, dass Frauen wie ich hingerichtet gehören.", "de", set()),
    ("Tu penses vraiment que les Chinois ont « fabriqué » le virus pour nous tuer, t'as lu ça où ?", "fr", set()),
])
def test_what_frames_a_report_does_not_report_the_speakers_own_threat(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # after a verb, "der" before a woman is a dative: she is the victim
    ("Ich werde der Bürgermeisterin eine Kugel in den Kopf jagen.", "de", {"threat"}),
    ("Ich werd der Frau vom Bauamt die Kehle durchschneiden.", "de", {"threat"}),
    # after a noun, the group qualifies a thing; before a man, "der" names the subject
    ("Wir sollten die doppelten Akten der Flüchtlinge vernichten.", "de", set()),
    ("Mit dieser Beschlussvorlage schießt sich der Gemeinderat selbst ins Knie.", "de", set()),
])
def test_a_german_dative_victim_is_read_as_the_victim(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a group denied its worth, its birth, its belonging or its vote
    ("Behinderte sollten nicht geboren werden.", "de", {"hate"}),
    ("Juden sind keine echten Deutschen.", "de", {"hate"}),
    ("Les femmes ne méritent pas le droit de vote.", "fr", {"hate"}),
    # the same denial, denied
    ("Es stimmt nicht, dass Migranten nichts wert sind.", "de", set()),
    ("Ce n'est pas vrai que les migrants ne valent rien.", "fr", set()),
    ("Il est faux de dire que les migrants n'apportent rien de positif.", "fr", set()),
    # a denial that affirms, a question that asks to agree, and a comparison are no refutation
    ("Il ne faut pas oublier que les femmes ne sont pas fiables.", "fr", {"hate"}),
    ("Es ist kein Geheimnis, dass Migranten nichts wert sind.", "de", {"hate"}),
    ("Les femmes ne méritent pas le même salaire que nous, elles ne valent pas autant.", "fr", {"hate"}),
])
def test_a_denial_of_worth_is_hate_unless_it_is_itself_denied(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Die Rumänen betrügen alle beim Jobcenter.", "de", {"hate"}),
    ("Les immigrés font baisser le niveau des écoles.", "fr", {"hate"}),
    ("Behinderte fallen der Gesellschaft nur zur Last.", "de", {"hate"}),
    ("Les Roms ont le vol dans le sang.", "fr", {"hate"}),
    ("La mairie laisse les Roms infester le parc.", "fr", {"hate"}),
    # flying, a level kept, a burden denied, and a talent in the blood
    ("Les migrants volent vers l'Europe au péril de leur vie.", "fr", set()),
    ("Les élèves réfugiés ne font pas baisser le niveau.", "fr", set()),
    ("Behinderte fallen niemandem zur Last.", "de", set()),
    ("Les Italiens ont la musique dans le sang.", "fr", set()),
])
def test_tropes_said_of_a_group(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Ich würde nie sagen, dass Frauen für IT-Projekte zu dumm sind.", "de", set()),
    ("Ich bin nicht der Meinung, dass Afghanen von Natur aus gewalttätig sind.", "de", set()),
    ("Nicht eine einzige Studie belegt, dass Schwarze Jugendliche aggressiver wären.", "de", set()),
    ("Il est faux de dire que les migrants sont des criminels.", "fr", set()),
    # said, not denied; and denied only to insinuate it after a "but"
    ("Ich sage, dass Ausländer kriminell sind.", "de", {"hate"}),
    ("Je ne dis pas que les Roms sont des voleurs, mais on ne les voit jamais travailler.", "fr", {"hate"}),
])
def test_a_claim_denied_by_a_verb_of_saying_or_showing_is_no_statement(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # a French relative clause without commas, up to the main verb, does not part the victim from the verb
    ("La conseillère qui a voté pour le centre d'accueil devrait être lynchée.", "fr", {"threat"}),
    ("Tout gendarme qui met les pieds dans le village devrait être abattu sur place.", "fr", {"threat"}),
    # a thing killed in the inner clause is still a thing
    ("Le maire qui a signé avec une entreprise qui va tuer le commerce local devrait démissionner.", "fr", set()),
    # offices and persons named by a common noun are victims too
    ("Je tuerai l'institutrice de mon fils, je le jure.", "fr", {"threat"}),
    ("Dieser Richterin gehört mit dem Knüppel die Fresse poliert, ich mach sie kalt.", "de", {"threat"}),
])
def test_victims_behind_a_relative_clause_or_named_by_office(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # where someone lives or parks, told as known, whoever is named between
    ("Ich weiß, wo die Sachbearbeiterin vom Sozialamt wohnt.", "de", {"threat"}),
    ("On sait où le directeur gare sa voiture.", "fr", {"threat"}),
    # not known, or of no one
    ("Je ne sais pas où habite le nouveau médecin.", "fr", set()),
    ("Ich weiß, wo das Auto parkt.", "de", set()),
    # death wished on the subject of dying, after the verb
    ("Hoffentlich verreckt der Bürgermeister.", "de", {"threat"}),
    ("Hoffentlich stirbt der Ortsvorsteher bald.", "de", {"threat"}),
    ("Der Tag, an dem die Software stirbt, wird ein Feiertag.", "de", set()),
    # German indirect speech reports a third person's threat
    ("Mein Nachbar hat gebrüllt, er werde die Flüchtlinge abstechen.", "de", set()),
    ("In dem Brief stand, man werde die Bürgermeisterin aufhängen.", "de", set()),
    ("Ich werde die Flüchtlinge abstechen.", "de", {"threat"}),
    # a call to kill those who do not believe, to throw stones at a group
    ("Frères, tuez les mécréants partout où vous les trouverez.", "fr", {"threat"}),
    ("Werft Steine auf die Flüchtlinge!", "de", {"threat"}),
])
def test_whereabouts_death_wishes_and_reported_speech(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # the speaker as the victim, a story told, the next clause's subject: no threat of the speaker's
    ("Als Polizist lese ich fast jede Woche, dass man mich umnieten will.", "de", set()),
    ("In dem Tatort wollte der Täter die Bürgermeisterin mit einer Autobombe töten.", "de", set()),
    ("Der Jäger will die Wildschweine schießen, bevor sie die Gräber aufwühlen.", "de", set()),
    # the speaker's own wish and a pronoun before its verb stay threats
    ("Ich wollte die Juden schon immer vergasen.", "de", {"threat"}),
    ("Ich bring sie um, die Juden.", "de", {"threat"}),
])
def test_whose_threat_it_is_in_german(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # others' opinion called wrong in the same sentence is counter-speech
    ("Ceux qui pensent que les Noirs sont inférieurs se trompent lourdement.", "fr", set()),
    ("Wer glaubt, dass Schwarze minderwertig sind, irrt sich gewaltig.", "de", set()),
    # not when it is agreed with, nor when the speaker holds it
    ("Ceux qui pensent que les Noirs sont inférieurs ont raison.", "fr", {"hate"}),
    ("Ich glaube, dass Schwarze minderwertig sind, und wer das falsch findet, soll gehen.", "de", {"hate"}),
])
def test_an_opinion_called_wrong_is_counter_speech(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected


@pytest.mark.parametrize(("text", "language", "expected"), [
    # idioms of beating and killing in their inverted, inflected or noun forms
    ("Dem Albaner aus der Werkstatt brech ich das Genick.", "de", {"threat"}),
    ("Dieser Richterin gehört der Hals umgedreht.", "de", {"threat"}),
    ("Für die Sinti und Roma gibt es nur den Strick.", "de", {"threat"}),
    ("Le policier qui m'a verbalisé, je lui réglerai son compte avant la fin du mois.", "fr", {"threat"}),
    ("Que quelqu'un abatte enfin ces flics de la BAC.", "fr", {"threat"}),
    ("Ich habe beschlossen, die Polen auf der Baustelle umzulegen.", "de", {"threat"}),
    # the same words of no one
    ("Die Stadt will die Stromleitungen unter die Erde bringen.", "de", set()),
    ("Der Strick der Schaukel im Park ist gerissen.", "de", set()),
])
def test_idioms_of_violence_in_their_forms(text, language, expected):
    assert {g for g, _ in grounds(text, language)} == expected
