"""Hateful and threatening statements: what a sentence says about a group, a role or a person.

The words are ordinary ("tuer", "les femmes", "rats"); the violation is in how a sentence puts them
together. A sentence is flagged when it holds a target (a protected group, a role, a person named by a
pronoun) and something said of it: violence (`threat`), hatred or disgust, a vile attribute, a
dehumanising comparison, an exclusion, a life said to be worth nothing (`hate`). The flag spans the
stretch from target to cue, so a moderator sees the statement itself.

What keeps a sentence published: negation before the cue ("je ne déteste pas", "ich hasse sie nicht"),
counter-speech (the cue inside quotation marks, reported with a verb of saying or denouncing, or a name
someone is said to call the author), a cue with no person or group near it (a threat to a sandwich,
swearing at no one), violence reported as a fact (a passive with its agent: "sont tuées par leur
conjoint"), and a negative attribute said of a group that the charter does not protect (professions are
protected from dehumanisation only). What makes it held rather than rejected: weak cues (attributes,
denied qualities), hate put to one person, asked, or set under others' opinions.

Verbs, attributes and nouns of the lexicon count in every form (`inflections.txt`, written from simplemma's
dictionaries), and words of French and German are never read as misspellings (`real_words.txt`).

Spelling evasions: the text's canonical words already undo case, accents, leetspeak, repeated letters and
letters spelled out one by one; here, words of the lexicon also match with one letter missing, added,
changed or two letters swapped, and when glued to their neighbours ("tuerce", "ichhasse"). Such a match is
weaker evidence: the contribution is held, not rejected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, reduce
from operator import or_
from pathlib import Path

from .charter import DATA_DIR, GroundId
from .flags import Flag
from .personal_data import is_known_word
from .text import CanonicalText, canonical_word, collapse_repeats

CHECK = "statements"


def _word_set(words: str) -> frozenset[str]:
    """The canonical forms of space-separated words (the lists below are written as people type)."""
    return frozenset(canonical_word(w) for w in words.split())


LEXICON_PATH = DATA_DIR / "lexicon" / "statements.txt"
INFLECTIONS_PATH = DATA_DIR / "lexicon" / "inflections.txt"
REAL_WORDS_PATH = DATA_DIR / "lexicon" / "real_words.txt"
POLARITY_PATH = DATA_DIR / "lexicon" / "polarity.txt"
WORD_FREQUENCIES_PATH = DATA_DIR / "lexicon" / "word_frequencies.txt"
WORD_FREQUENCY_FLOOR = 3.0  # Zipf: once per million words read
POLARITY_THRESHOLD = 0.5  # -0.5 or below for disparagement, 0.5 or above for a quality
# Words of published polarity lexicons (see `services/moderation/inflections.py`): what a group is said to
# be ("disparaging": adjectives and nouns, after "to be"), what is done to it ("hostile": verbs, near it),
# and a quality denied to it ("quality": adjectives after a negated "to be", "… ne sont pas fiables").
# Weaker evidence than the hand-written sections: such a statement is held for a person, never rejected.
POLARITY_SECTIONS = ("disparaging", "hostile", "quality")
SURE = 0.95  # a clear statement: rejected where the territory lets the machine reject on that ground
WEAK = 0.7  # held for a person (spelling evasions, attributes alone, unclear frames)

# Forms of a French verb of the first group, from its stem (tu-er).
_ER_ENDINGS = ("er", "e", "es", "ent", "ons", "ez", "é", "ée", "és", "ées", "erai", "eras", "era", "erons",
               "erez", "eront", "erais", "erait", "eraient", "ais", "ait", "aient", "ant", "ions", "iez")
# Words a glued token may be cut into besides the lexicon's own.
_GLUE_WORDS = _word_set(
    "a au aux ce cet cette ces me te se de des du d les la le l un une tous toutes tout juste vraiment plus "
    "tellement si tres ich du wir einfach so sehr viel alle diese diesen dieser den die das mich dich euch "
    "wirklich nur komplett putain putains endlich"
)
# Function words a word is often glued to ("musulmansn'ont", "lepremier", "erschießtsie", "Migrantenim");
# unlike the words above, they may themselves be misspelt ("snot" for "sont").
_GLUED_FUNCTION_WORDS = _word_set(
    "ne n ont sont est sur dans par pour avec sans chez en et ou qui que qu il ils elle elles on nous vous je j "
    "tu sa son ses leur leurs lui eux va vais vont ai as mes nos vos "
    "sie er es ihr ihn ihm uns im in an am auf aus mit von vom zu zum zur und oder ist sind bin bist seid hat "
    "ein eine einen einem einer der des dem jeden jede jeder chaque pas jamais rien nicht kein keine"
)
_GLUABLE = _GLUE_WORDS | _GLUED_FUNCTION_WORDS
_FILLERS = _word_set(
    "absolument vraiment tellement tous toutes tout juste simplement carrement completement bien donc "
    "alle wirklich einfach so endlich doch"
)
# What may stand between a phrase's words: fillers, and the pronoun of its object ("ne peux pas les supporter").
_PHRASE_FILLERS = _FILLERS | _word_set("les le la l leur lui sie ihn ihnen")
# Common words one letter away from a word of the lexicon ("fils" and "filles").
_NEVER_MISSPELT = _word_set(
    "fils file files pays pire rien sous tres pour dans sans tout vers leur mais bien ceux elle elles celle "
    "sein seine mein meine dein deine wenn denn dann chine voile voiles reve reves signe signes tant filer ete prendre rappeler exercer exerce exercent "
    "batus ordre ordres aines engorgement asises zerstechen"
)
_NEGATION_FR = _word_set("ne n pas jamais aucun aucune rien nul nulle personne guere lieu plutot")
# ("statt" folds into "Staat")
_NEGATION_DE = _word_set("nicht nie niemals kein keine keinen keiner keinem keinerlei nichts anstatt niemand niemanden weder")
# "je refuse que …": the clause that follows is refused (unlike `_REFUSAL`, verbs refused when negated)
_REFUSE_THAT_WORDS = _word_set("refuse refusons refusent refuser")
_THAT = _word_set("que qu")
_NOBODY = _word_set("niemand niemanden nobody")  # a negation only before a modal: a norm against the act
_MODAL = _word_set("sollte sollten soll darf durfen durfte muss mussen should must may can")
_NEGATION_EN = frozenset("not never no don t doesn t isn nobody".split())
_ANY_NEGATION = _NEGATION_FR | _NEGATION_DE | _NEGATION_EN
# German verbs of violence whose particle goes to the end ("ich bringe alle … um", "stech sie ab").
_SEPARABLE_DE: dict[str, frozenset[str]] = {}
for _stems, _particle in (
        ("bring bringe bringen bringt", "um"), ("stech steche stechen stecht", "ab"),
        ("knall knalle knallen knallt", "ab"), ("schlag schlage schlagen schlagt", "tot"),
        ("hang hange hangen hangt", "auf"), ("rotte rotten rottet", "aus"), ("mach mache machen macht", "kalt"),
        ("schlacht schlachte schlachten schlachtet", "ab"), ("schlitz schlitze schlitzen schlitzt", "auf"),
        ("murks murkse murksen murkst", "ab"), ("stech steche stechen stecht", "nieder"),
        ("schiess schiesse schiessen schiesst", "nieder"), ("schlag schlage schlagen schlagt", "zusammen"),
        ("tret trete treten tretet", "zusammen"), ("fackel fackle fackeln fackelt", "ab"),
        ("zund zunde zunden zundet", "an"), ("brenn brenne brennen brennt", "nieder"),
        ("niet niete nieten nietet", "um"), ("mach mache machen macht", "fertig"),
        ("stech steche stechen stecht", "zu"), ("mach mache machen macht", "platt"),
        ("losch losche loschen loscht", "aus"), ("radier radiere radieren radiert", "aus"),
        ("merz merze merzen merzt", "aus"), ("leg lege legen legt", "um"),
        ("schalt schalte schalten schaltet", "aus"), ("knupf knupfe knupfen knupft", "auf"),
        ("hau haue hauen haut", "um"), ("prugel prugle prugeln prugelt", "tot")):
    for _form in _stems.split():
        _SEPARABLE_DE[canonical_word(_form)] = _SEPARABLE_DE.get(canonical_word(_form), frozenset()) | {canonical_word(_particle)}
# German verbs of lesser harm whose particle goes to the end ("morgen greife ich die … an").
_SEPARABLE_HARM_DE: dict[str, frozenset[str]] = {
    canonical_word(form): _word_set(particles)
    for stems, particles in (("greif greife greifen greift", "an"), ("sperr sperre sperren sperrt", "ein weg"),
                             ("tu tue tun tut", "weh"))
    for form in stems.split()
}
_GERMAN_DETERMINERS = _word_set("der die das den dem des ein eine einen einem einer eure euren unsere unseren ihre ihren")
# German verbs of sending a group away whose particle goes to the end ("schickt die … zurück").
_SEPARABLE_BANISH_DE: dict[str, frozenset[str]] = {
    canonical_word(form): _word_set(particles)
    for stems, particles in (("schick schickt schicken", "zuruck heim weg"), ("schieb schiebt schieben", "ab"),
                             ("werft werf", "raus hinaus"), ("jagt jag", "davon fort weg"))
    for form in stems.split()
}
# Dying, a threat when wished ("je veux que les … meurent", "… sollten alle sterben", "tot sehen").
_DEATH = _word_set(
    "meurent meure mourir morts crevent sterben sterbt verrecken verreckt krepieren krepiert tot tote "
    "souffrent souffriez souffrir leiden leidet mort morte mortes toter toten bruler brulerez "
    "brennen brennt ertrunken ertrunkene ertrunkener ertrunkenen "
    "mourront mourra mourrait mourraient meurt creveront crevera tod todes verhungern verhungert verdursten "
    "verdurstet abkratzen draufgehen ersaufen ersauft stirbt sterbe accident unfall"  # "… wünsche allen … den Tod"
)
# English ones, read in English only: "die" is German's article ("Die Stadt will die … informieren").
_DEATH_EN = _word_set("dead die suffer burn")
# The lexicon's English verbs of violence, cues in English only: "Beat" is a first name, "ein Shot" a drink.
_VIOLENCE_EN = _word_set(
    "kill killed killing kills shoot shoots shot stab stabbed murder murdered hanged burned gassed beat "
    "slaughter slaughtered exterminate"
)
# Surviving, a threat when a wish denies it ("dass kein … überlebt", "qu'aucun … ne survive").
_SURVIVE = _word_set("survive survivent survivra survivront survivre uberlebt uberleben uberlebe lebend vivant vivants")
_WISH = _word_set(
    "veux voulons voudrais souhaite souhaitons espere esperons devraient meritent merite "
    "will wollen mochte wunsche wunschen hoffe sollten sollen verdienen verdient want wish hope should deserve "
    "ferai ferons dafur sicherstellen "  # "je ferai en sorte que … souffriez", "dafür sorgen, dass … leidet"
    "mieux besser better "  # "le monde irait mieux si tous les … étaient morts"
    "reve revons traume traumen dream "  # "je rêve de les voir mourir"
    "ruhen aufhoren "  # "ich werde nicht ruhen, bis alle … tot sind"
    "puisse puissent pourvu vivement hoffentlich souhaiterais wunscht"
)
_SORGEN = _word_set("sorgen sorge sorte veillerai")  # "dafür sorgen, dass", "en sorte que", "je veillerai à ce que"
# Dying foretold to the reader ("vous allez tous mourir", "ihr werdet alle sterben").
_YOU_WILL = _word_set("allez vas werdet wirst will")
# "The only good … is a dead …" ("le seul bon … est un … mort", "nur ein toter … ist ein guter …").
_ONLY_GOOD = _word_set("seul seule seuls seules einzig einzige einzigen nur only")
_IS = _word_set("est ist is")  # "un bon … est un … mort", "ein guter … ist ein toter …"
_GOOD = _word_set("bon bonne bons bonnes gut gute guter guten good")
_NEAR_WORDS = 8
_ARTICLES = _word_set("le la les l un une des du de d ce cet cette ces the a an")
# Adjectives that come before the noun ("le prochain …", "la première …"): the object is the noun.
_BEFORE_A_NOUN = _word_set(
    "prochain prochaine prochains prochaines premier premiere premiers dernier derniere derniers moindre "
    "seul seule autre autres petit petite petits petites sale sales vieux vieille jeune jeunes gros grosse "
    "pauvre pauvres chaque mes propres mains"  # "étrangler de mes mains le premier …"
)
_COPULA = _word_set(
    "sont est c ce comme que qu sind ist seid bist wie als are is like ressemblent ressemble ahneln ahnelt "
    "bande haufen"  # "quelle bande de sauvages", "was für ein Haufen Wilder"
)
# Subject pronouns and demonstratives that may stand for a group named in the sentence before.
_REFERRING = _word_set("ils elles ce c ces ceux celles sie das die diese they those")
_ONE_ADDRESSED = _word_set("tu toi t ton ta tes du dich dir dein deine you your")
# (German "wurden" folds into "würden", "would": only "worden" is sure to be the past.)
_WHY = _word_set("pourquoi warum wieso weshalb why")
_PAST_PASSIVE = _word_set("été worden was were")
_MORE_OR_LESS = _word_set("moins plus weniger mehr")
_COMPARATIVE = _word_set("aussi autant als")
# Verbs after which a negation refuses what follows ("ne tolérerai jamais que…", "nicht zulassen, dass…").
_REFUSAL = _word_set(
    "tolerer tolererai tolerons tolerer accepter accepterai accepterons laisser laisserons permettre "
    "dulden zulassen zusehen zuschauen verdient verdienen sollte sollten"
)
# Verbs of hesitating or hindering: negated, they affirm what follows ("je n'hésiterai pas à…",
# "nichts wird mich abhalten", "ich hätte kein Problem damit").
_HESITATION = _word_set(
    "hesiter hesiterai hesiterais hesiterons hesite empecher empechera empecheront empeche attendre "
    "derange derangerait deranger regretterai regretterais regrette probleme scrupule scrupules "
    "zogern zogere zogert abhalten aufhalten problem bedenken bereuen bereue skrupel"
)
# Quotation marks that open and close a quoted stretch.
_QUOTES = re.compile(r"[\"«“„»”‚‘‹›]")  # (not ’, the apostrophe)
SENTENCE_END = re.compile(r"[.!?;:]+(?:\s|$)|\n")
_POSITIVE_FRAME = _word_set(
    "admires admirer adore adorons aime aimons respecte respecter proteger protegeons defendre fier fiere "
    "fiers heureux heureuse merveilleux merveilleuses formidable formidables genial geniaux incroyable "
    "incroyables gentils gentilles intelligents intelligentes brillants courageux courageuses bienvenus "
    "bienvenue enrichissent richesse chance soutenir soutien accueillir egalite remercier merci "
    "liebe lieben ehren gelobt schutzen respektieren stolz grossartig wunderbar toll klug mutig willkommen "
    "bereicherung danke love respect proud great wonderful"
)


_LESS = _word_set("moins weniger")  # (English "less" folds into "les")


def _praises(texts: Sequence[str]) -> bool:
    """A word of the positive frame, not lessened ("moins intelligents", "weniger klug")."""
    return any(t in _POSITIVE_FRAME and _LESS.isdisjoint(texts[max(0, i - 2):i]) for i, t in enumerate(texts))


@dataclass(frozen=True, eq=False)
class StatementLexicon:
    sections_of: dict[str, frozenset[str]]  # canonical word -> its sections
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]]  # first word -> (words, section), longest first
    fuzzy_index: dict[str, frozenset[str]]  # a word or one of its one-letter deletions -> lexicon words
    phrase_words: frozenset[str]  # every word of every phrase

    def tags(self, word: str) -> frozenset[str]:
        found = self.sections_of.get(word)
        if found is not None:
            return found
        # a German compound naming an office ("Schulleiterin", "Klinikdirektor", "Jobcentermitarbeiter")
        return _ROLE if len(word) > 7 and word.endswith(_ROLE_ENDINGS) else frozenset()


_ROLE = frozenset(("role",))
_ROLE_ENDINGS = tuple(
    "leiter leiterin direktor direktorin vorsteher vorsteherin mitarbeiter mitarbeiterin beamter beamtin "
    "sachbearbeiter sachbearbeiterin beauftragte beauftragter prasident prasidentin arzt arztin "
    "burgermeister burgermeisterin".split()
)


def _expand(term: str) -> list[str]:
    if term.endswith("~"):
        stem = term[:-1][:-2]
        return [stem + ending for ending in _ER_ENDINGS if stem + ending not in _NOT_A_FORM]
    return [term]


_NOT_A_FORM = {"violent"}  # "violent" is an adjective far more often than a form of "violer"


_PHRASE_LISTS = ("exclusion", "negated-worth")
# Verbs whose every inflected form is added from the dictionaries of French and German inflections
# ("poignarder" gives "poignarderai", "erstechen" gives "erstach"): a threat or a hatred is said in any
# tense and person. The forms are read from `inflections.txt`, written from simplemma's dictionaries. Nouns and adjectives are listed in the forms they take.
_INFLECTED_SECTIONS = frozenset(("violence", "harm", "hate-emotion", "vile-predicate", "dehumanising", "praise"))
# Inflected forms that are common words in their own right.
_NOT_A_THREAT_FORM = _word_set(
    "tue tues pendant pend butee abattis frappe frappes frappee verletzt verletzte verletzten schoss "
    "schuss geschossen brule brulee brules brulees cogne crevee creves gerbes"
)


@cache
def load_inflections(path: Path = INFLECTIONS_PATH) -> dict[str, frozenset[str]]:
    """Canonical lemma -> its canonical inflected forms (`palabre moderation inflections --write`)."""
    forms = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            lemma, _, rest = line.partition(":")
            forms[lemma.strip()] = frozenset(rest.split())
    return forms


def _inflected_forms(word: str) -> frozenset[str]:
    return frozenset(form for form in load_inflections().get(word, ()) if form not in _NOT_A_THREAT_FORM)
CUE_SECTIONS = ("doxxing", "menace", "violence", "harm", "leaving", "virtue", "hate-emotion", "dehumanising", "exclusion", "negated-worth", "attribute",
                "trope", "vile-predicate", "praise", "slur-modifier", *POLARITY_SECTIONS)


def lexicon_entries(path: Path = LEXICON_PATH) -> list[tuple[str, str, tuple[str, ...]]]:
    """(section, entry as written, canonical words of one of its forms) for every form of every entry."""
    entries = []
    section, one_phrase_a_line = "", False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            header = line.strip("[]")
            section = header.removesuffix("-phrase")
            one_phrase_a_line = header.endswith("-phrase") or section in _PHRASE_LISTS
            continue
        for entry in ([line] if one_phrase_a_line else line.split()):
            for form in _expand(entry):
                words = tuple(canonical_word(w) for w in re.findall(r"[\w-]+", form.replace("'", " ")))
                if words:
                    entries.append((section, entry, words))
    return entries


def inflectable_words(path: Path = LEXICON_PATH) -> set[str]:
    """The lexicon's single words whose inflected forms count too."""
    return {words[0] for section, _, words in lexicon_entries(path)
            if len(words) == 1 and section in _INFLECTED_SECTIONS}


@cache
def load_polarity(path: Path = POLARITY_PATH) -> dict[str, str]:
    """Canonical word -> its polarity section, from `polarity.txt`."""
    section_of, section = {}, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif line and not line.startswith("#"):
            section_of[line] = section
    return section_of


@cache
def load_statement_lexicon(path: Path = LEXICON_PATH) -> StatementLexicon:
    sections: dict[str, set[str]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    listed: set[str] = set()  # words as written in the file (a verb's other forms are not misspelt)
    for section, entry, words in lexicon_entries(path):
        listed.add(canonical_word(entry.rstrip("~")))
        if len(words) == 1:
            sections.setdefault(words[0], set()).add(section)
            if section in _INFLECTED_SECTIONS:
                for inflected in _inflected_forms(words[0]):
                    sections.setdefault(inflected, set()).add(section)
        else:
            phrases.setdefault(words[0], []).append((words, section))
    for word, section in load_polarity().items():
        # never read through misspellings (only the hand-written words are); and a negation ("nichts",
        # negative in textblob-de) is no judgement: "Nichts ist schöner als …" praises
        if word not in sections and word not in _ANY_NEGATION:
            sections[word] = {section}
    fuzzy: dict[str, set[str]] = {}
    # Phrases' words ("mort" of "mort à") may be misspelt too.
    misspellable = ({w for w, ws in sections.items() if not ws <= {"person", "frame", "hedge", "praise"} and w in listed}
                    | {w for entries in phrases.values() for words, _ in entries for w in words}) - _NEVER_A_MISSPELLING
    for word in misspellable:
        if len(word) >= 4:
            for key in {word, *_deletions(word)}:
                fuzzy.setdefault(key, set()).add(word)
    return StatementLexicon(
        sections_of={w: frozenset(s) for w, s in sections.items()},
        phrases={w: tuple(sorted(p, key=lambda e: -len(e[0]))) for w, p in phrases.items()},
        fuzzy_index={k: frozenset(v) for k, v in fuzzy.items()},
        phrase_words=frozenset(w for entries in phrases.values() for words, _ in entries for w in words),
    )


# Words of phrases that ordinary words sit one letter away from ("einen" and "keinen").
_NEVER_A_MISSPELLING = _NEGATION_FR | _NEGATION_DE | _NEGATION_EN | _GLUE_WORDS | _FILLERS | _ARTICLES


def _deletions(word: str) -> set[str]:
    """`word` less one letter, repeats collapsed as in the text ("parasites" gives "paasites", read "pasites")."""
    return {collapse_repeats(word[:i] + word[i + 1:]) for i in range(len(word))}


def _one_swap(a: str, b: str) -> bool:
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@lru_cache(maxsize=100_000)
def _fuzzy_match(word: str) -> str | None:
    """The lexicon word `word` misspells, if any: one letter missing (from a word of 4 letters or more),
    two neighbours swapped, or one letter added to a word of 6 or more. A changed letter is not enough
    ("faire" is not "maire"), nor is any word that phrases or glue are made of."""
    lexicon = load_statement_lexicon()
    if len(word) < 3 or word in lexicon.sections_of or word in lexicon.phrase_words or word in _GLUE_WORDS \
            or word in _NEVER_MISSPELT:
        return None
    candidates: set[str] = set(lexicon.fuzzy_index.get(word, ()))
    for key in _deletions(word):
        candidates |= lexicon.fuzzy_index.get(key, frozenset())
    # a word of the lexicon's own lists before a word of its phrases, the longer first
    for candidate in sorted(candidates, key=lambda c: (not lexicon.tags(c), -len(c), c)):
        if len(candidate) > len(word) and word in _deletions(candidate) \
                and (len(word) >= 5 or "group" in lexicon.tags(candidate)):
            return candidate
        if len(candidate) >= 7 and len(word) == len(candidate) + 1 and candidate in _deletions(word):
            return candidate
        if _one_swap(word, candidate):
            return candidate
    return None


@lru_cache(maxsize=100_000)
def _glued_parts(word: str) -> tuple[str, ...] | None:
    """`tuerce` -> (`tuer`, `ce`): a word cut into two to four lexicon or function words, at least one of
    them from the lexicon (targets and pronouns aside)."""
    lexicon = load_statement_lexicon()
    if len(word) < 5 or word in lexicon.sections_of:
        return None
    known = lexicon.sections_of

    def usable(part: str) -> bool:
        return part in _GLUABLE or (len(part) >= 4 and (bool(known.get(part, frozenset()) & _CUE_OR_TARGET)
                                                          or part in lexicon.phrase_words))

    def cut(rest: str, depth: int) -> tuple[str, ...] | None:
        if usable(rest):
            return (rest,)
        if depth == 0:
            return None
        for i in range(len(rest) - 1, 0, -1):
            head = rest[:i]
            if usable(head):
                # Repeated letters were collapsed: "plus|stupides" reads "plustupides", "ich|hasse" "ichase".
                # Of the two readings, the one holding a lexicon word, then the one going on with "to be"
                # ("juifs|sont" over "juifs|ont").
                tails = [t for t in (cut(rest[i:], depth - 1), cut(rest[i - 1:], depth - 1)) if t]
                if tails:
                    return (head, *max(tails, key=lambda t: (any(p not in _GLUABLE for p in t), t[0] in _COPULA)))
        return None

    parts = cut(word, 3)
    if parts and len(parts) >= 2 and any(p not in _GLUABLE for p in parts):
        return parts
    if parts and len(parts) == 2 and len(word) >= 6:
        return parts  # two function words ("sontun", "chezvous"), when no lexicon word is misspelt (`misread`)
    return _after_any_word(word)


def _after_any_word(word: str) -> tuple[str, str] | None:
    """`einfacherbarmlich` -> (`einfach`, `erbarmlich`): a lexicon word of five letters or more glued after
    any other word, the longest such ending. Words of the language that end so ("Menschenverachtung") are
    in `real_words.txt` and never reach this."""
    known = load_statement_lexicon().sections_of
    for cut_at in range(2, len(word) - 4):
        if known.get(word[cut_at:], frozenset()) & _CUE_OR_TARGET - {"praise"}:  # "vraiment" is no "vr aiment"
            return word[:cut_at], word[cut_at:]
    return None


@dataclass
class _Word:
    text: str  # canonical form (or the lexicon word it misspells)
    start: int
    end: int
    tags: frozenset[str]
    evasion: bool = False


def _with_tag(word: _Word, section: str) -> _Word:
    """The same word, read as belonging to `section` too."""
    return _Word(word.text, word.start, word.end, word.tags | {section}, word.evasion)


@lru_cache(maxsize=200_000)
def _resolve(word: str) -> tuple[tuple[tuple[str, frozenset[str]], ...], bool]:
    """The lexicon words a canonical word stands for, with their sections, and whether it took a
    misspelling or glued words to read them (one part, unchanged, for most words)."""
    lexicon = load_statement_lexicon()
    tags = lexicon.tags(word)
    if tags:
        return ((word, tags),), False
    if not word.isalpha() or word in load_real_words():
        return ((word, frozenset()),), False  # numbers, codes, words of the language: nothing to misread
    return misread(word) or (((word, frozenset()),), False)


def misread(word: str) -> tuple[tuple[tuple[str, frozenset[str]], ...], bool] | None:
    """The lexicon words a word not in the lexicon may hide, glued or misspelt, if any."""
    lexicon = load_statement_lexicon()
    parts = _glued_parts(word)
    if parts and any(p not in _GLUABLE for p in parts):
        return tuple((part, lexicon.tags(part)) for part in parts), True
    misspelt = _fuzzy_match(word)
    if misspelt:
        return ((misspelt, lexicon.tags(misspelt)),), True
    if parts:
        return tuple((part, lexicon.tags(part)) for part in parts), True
    return None


@cache
def load_real_words(path: Path = REAL_WORDS_PATH) -> frozenset[str]:
    """French and German words one letter from, or made of, lexicon words ("battues" and "abattues"):
    words of the language are read as themselves, never as a misspelling (`palabre moderation
    inflections --write` writes them)."""
    return frozenset(line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#"))


_CUES = frozenset(CUE_SECTIONS)
_WEAK_SECTIONS = frozenset(("menace", "attribute", "trope", "vile-predicate", "praise", "virtue", "banish", "unwelcome", *POLARITY_SECTIONS))  # held for a person, never rejected
_SAID_WITH_A_COPULA = frozenset(("dehumanising", "vile-predicate", "disparaging", "quality"))
_TARGET_SECTIONS = frozenset(("group", "role", "person"))
_GROUP_SECTIONS = frozenset(("group",))  # protected groups; roles ("les élus") are the rules' alone
_CUE_OR_TARGET = _CUES - set(POLARITY_SECTIONS) | {"group", "role"}  # what glued words are read as


@cache
def _phrase_regex() -> re.Pattern[str]:
    """Every phrase of the lexicon as one regular expression over canonical words, fillers allowed
    between its words as `_phrase_end` allows them."""
    lexicon = load_statement_lexicon()
    filler = "(?: (?:" + "|".join(sorted(map(re.escape, _PHRASE_FILLERS))) + ")){0,2}"
    alternatives = sorted({filler.join(" " + re.escape(w) for w in phrase)
                           for entries in lexicon.phrases.values() for phrase, section in entries
                           if section in _CUES}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(alternatives) + ")(?![^ ])")


_CUE, _TARGET, _MISREAD_PHRASE, _GLUED, _GROUP = 1, 2, 4, 8, 16


@cache
def _phrase_word_sets() -> tuple[frozenset[str], ...]:
    """The words of each cue phrase: a phrase can only be there when all of them are."""
    lexicon = load_statement_lexicon()
    return tuple({frozenset(phrase) for entries in lexicon.phrases.values() for phrase, section in entries
                  if section in _CUES})


@cache
def _cue_phrase_words() -> frozenset[str]:
    """Words of cue phrases that a misspelling or glue may hide ("mrot à", "mortà", "faire lapeau")."""
    lexicon = load_statement_lexicon()
    return frozenset(word for entries in lexicon.phrases.values() for phrase, section in entries
                     if section in _CUES for word in phrase if len(word) >= 4)


@lru_cache(maxsize=200_000)
def _word_bits(word: str) -> int:
    lexicon = load_statement_lexicon()
    parts, misread = _resolve(word)
    bits = _GLUED if len(parts) > 1 else 0
    for part, tags in parts:
        bits |= (_CUE if tags & _CUES else 0) | (_TARGET if tags & _TARGET_SECTIONS else 0) \
            | (_GROUP if tags & _GROUP_SECTIONS else 0)
        if misread and part in _cue_phrase_words():
            bits |= _MISREAD_PHRASE
    return bits


_NOT_HALVES = _GLUABLE | _FILLERS | _ARTICLES | _ANY_NEGATION | _word_set(
    "je j tu te toi il elle on nous vous ils elles mon ma mes ton ta tes son sa ses ich du er es wir ihr sie "
    "mein dein sein unser euer"
)


@cache
def load_word_frequencies(path: Path = WORD_FREQUENCIES_PATH) -> dict[str, dict[str, float]]:
    """language → common word → its Zipf frequency (`palabre moderation inflections --write` writes them)."""
    out: dict[str, dict[str, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            language, word, zipf = line.split()
            out.setdefault(language, {})[word] = float(zipf)
    return out


def _common_word_cut(first: str, second: str, language: str) -> bool:
    """"so nt", "ke ine", "Lehr er": a common word of the language cut in two by a space, when a half is no
    common word or the whole is more common than either half ("de puis" stays two words)."""
    frequency = load_word_frequencies().get(language)
    whole = frequency.get(first + second) if frequency else None
    if whole is None or len(first) + len(second) < 4:
        return False
    halves = frequency.get(first), frequency.get(second)
    return None in halves or whole > max(halves)


def _split_word(first: str, second: str, language: str) -> str | None:
    """"ha sse", "so nt", "ra ts": a word cut in two by a space. A common word of the language so cut
    (`_common_word_cut`), or a lexicon word whose halves are not two words of the language ("a battu" is
    no "abattu"); never when a half is a lexicon word itself."""
    lexicon = load_statement_lexicon()
    joined = first + second
    common = _common_word_cut(first, second, language)
    if not common and joined not in lexicon.sections_of:  # most neighbours: no word together
        return None
    if len(joined) < 4 or lexicon.tags(first) or lexicon.tags(second):
        return None
    if common:
        return joined
    if not lexicon.tags(joined) & _CUE_OR_TARGET:
        return None
    real = load_real_words()
    if first in real or second in real or not _NOT_HALVES.isdisjoint((first, second)) \
            or language == "fr" and is_known_word(first) and is_known_word(second):
        return None
    return joined


def _joined_bits(words: Sequence[str]) -> int:
    """The cue and target bits of the lexicon words two neighbours make once joined (a cheap superset of
    `_split_word`, for `_may_state`)."""
    known = load_statement_lexicon().sections_of
    bits = 0
    for first, second in zip(words, words[1:]):
        tags = known.get(first + second)
        if tags:
            bits |= (_CUE if tags & _CUES else 0) | (_TARGET if tags & _TARGET_SECTIONS else 0) \
                | (_GROUP if tags & _GROUP_SECTIONS else 0)
    return bits


def _may_state(canonical: CanonicalText, language: str) -> bool:
    """Whether the text holds both a cue word and someone it could be said of, or a phrase (read through
    misspellings, glue and words cut in two): most texts hold neither and stop here."""
    present = set(canonical.words)
    bits = reduce(or_, map(_word_bits, present), 0)
    if bool(bits & _CUE) != bool(bits & _TARGET):  # a word cut in two supplies the one missing
        bits |= _joined_bits(canonical.words)
    if bits & _CUE and bits & _TARGET or bits & _MISREAD_PHRASE:
        return True
    if bits & _TARGET and (not present.isdisjoint(_SEPARABLE_DE) or not present.isdisjoint(_SEPARABLE_HARM_DE)
                           or not present.isdisjoint(_SEPARABLE_BANISH_DE)
                           or not present.isdisjoint(_CONTROL | _BLAMED | _BRINGING | _LIVING | _COMPLAINING
                                                     | _WANT_OR_LET | _JUDGEMENTS)
                           or not present.isdisjoint(_WHERE) and not present.isdisjoint(_DWELL)
                           or not present.isdisjoint(_DEATH | _DEATH_EN | _SURVIVE)
                           and not present.isdisjoint(_WISH | _NORM | _YOU_WILL | _ONLY_GOOD | _GOOD | _SORGEN)):
        return True
    text = canonical.text
    if bits & _GLUED:  # "tod denSchwulen": the phrase is read in the words the glued ones stand for
        read = [part for word in canonical.words for part, _ in _resolve(word)[0]]
        present, text = set(read), " ".join(read)
    elif bits & _TARGET and (rejoined := _rejoined(canonical, language)):  # "sind ke ine Menschen"
        present, text = set(rejoined), " ".join(rejoined)
    return any(words <= present for words in _phrase_word_sets()) \
        and _phrase_regex().search(" " + text) is not None


def _rejoined(canonical: CanonicalText, language: str) -> list[str] | None:
    """The text's words with those cut in two by a space read whole (`_split_word`), or None when none is."""
    words, out, i = canonical.words, [], 0
    while i < len(words):
        joined = _split_word(words[i], words[i + 1], language) \
            if i + 1 < len(words) and canonical.one_space_after(i) else None
        out.append(joined or words[i])
        i += 2 if joined else 1
    return out if len(out) < len(words) else None


def _words(canonical: CanonicalText, language: str) -> list[_Word]:
    words = []
    tokens, texts = canonical.tokens, canonical.words
    i = 0
    while i < len(texts):
        joined = _split_word(texts[i], texts[i + 1], language) \
            if i + 1 < len(texts) and canonical.one_space_after(i) else None
        if joined:
            words.append(_Word(joined, tokens[i].start, tokens[i + 1].end, load_statement_lexicon().tags(joined), True))
            i += 2
            continue
        parts, evasion = _resolve(texts[i])
        words.extend(_Word(part, tokens[i].start, tokens[i].end,
                           tags - {"violence"} if language != "en" and part in _VIOLENCE_EN else tags, evasion)
                     for part, tags in parts)
        i += 1
    return words


def _phrase_end(texts: list[str], i: int, phrase: tuple[str, ...]) -> int | None:
    """Index of the last word of `phrase` read from `texts[i]`, allowing up to two filler words between
    its words ("ne valent absolument rien", "peuvent tous aller se faire…"), or None."""
    j = i
    for k, word in enumerate(phrase):
        skipped = 0
        while k and j < len(texts) and texts[j] != word and texts[j] in _PHRASE_FILLERS and skipped < 2:
            j += 1
            skipped += 1
        if j >= len(texts) or texts[j] != word:
            return None
        j += 1
    return j - 1


def _phrase_tags(words: list[_Word], lexicon: StatementLexicon) -> None:
    """Tag the first word of every phrase found with the phrase's section (and span the whole phrase)."""
    texts = [w.text for w in words]
    for i, word in enumerate(words):
        for phrase, section in lexicon.phrases.get(word.text, ()):
            end = _phrase_end(texts, i, phrase)
            if end is not None:
                words[i] = _Word(word.text, word.start, words[end].end, word.tags | {section},
                                 word.evasion or any(w.evasion for w in words[i:end + 1]))
                break


# Where a German main clause ends before its particle could come: another verb's particle ("schlage …
# vor"), a subordinate clause ("…, dass … zusammen wohnen").
_CLAUSE_ENDS_DE = _word_set("vor weil wenn ob damit obwohl")  # and "dass", read as written (`_that_positions`)


def _separable_tags(text: str, words: list[_Word], thats: frozenset[int]) -> None:
    """Tag a German verb of violence (or of lesser harm) as such when its particle follows within its
    clause (`thats`: where a "dass" clause begins)."""
    for i, word in enumerate(words):
        for separable, section in ((_SEPARABLE_DE, "violence"), (_SEPARABLE_HARM_DE, "harm")):
            if _particle_follows(words, i, separable.get(word.text), thats):
                words[i] = _with_tag(words[i], section)
        # "Schiebt die … endlich ab!": a verb of deporting that opens its sentence is an order, when the
        # group is what it sends away ("Schickt den … die Unterlagen zurück" sends a thing)
        opens = i == 0 or SENTENCE_END.search(text, words[i - 1].end, word.start) is not None
        if opens and _particle_follows(words, i, _SEPARABLE_BANISH_DE.get(word.text), thats):
            group = next((g for g in range(i + 1, len(words)) if "group" in words[g].tags), None)
            particle = next((k for k in range(i + 1, len(words))
                             if words[k].text in _SEPARABLE_BANISH_DE[word.text]), len(words))
            if group is not None and group < particle and _GERMAN_DETERMINERS.isdisjoint(
                    w.text for w in words[group + 1:particle]):
                words[i] = _with_tag(words[i], "exclusion")


def _particle_follows(words: list[_Word], i: int, particles: frozenset[str] | None, thats: frozenset[int]) -> bool:
    if particles is None:
        return False
    for k, later in enumerate(words[i + 1:i + 1 + _NEAR_WORDS], start=i + 1):
        if later.text in particles:
            return True
        if SENTENCE_END.search(later.text) or later.text in _CLAUSE_ENDS_DE or k in thats:
            return False
    return False


def _wished_death_tags(words: list[_Word], language: str) -> None:
    """Tag a word of dying or suffering as violence when a wish, a "should" or a "you will" comes shortly
    before it, or when the sentence says the only good ones are dead."""
    texts = [w.text for w in words]
    death = _DEATH | _DEATH_EN if language == "en" else _DEATH
    for i, word in enumerate(words):
        if word.text in _SURVIVE and not (_NEGATION_FR | _NEGATION_DE).isdisjoint(texts[max(0, i - 5):i]) \
                and not (_WISH | _SORGEN).isdisjoint(texts[max(0, i - 10):i]):
            words[i] = _with_tag(word, "violence")
            continue
        if word.text not in death:
            continue
        before = texts[max(0, i - 8):i]
        around = texts[max(0, i - 8):i + 5]
        if not _PREVENT.isdisjoint(before):
            continue  # "il faut éviter que des … meurent en mer", "wir müssen verhindern, dass … sterben"
        normative = not _NORM.isdisjoint(before) and not _negates(before, language)  # not "kein Mensch muss …"
        if not _WISH.isdisjoint(before) or normative or not _YOU_WILL.isdisjoint(texts[max(0, i - 3):i]) \
                or not _GOOD.isdisjoint(around) and not (_ONLY_GOOD | _IS).isdisjoint(around):
            words[i] = _with_tag(word, "violence")


def _whereabouts_tags(words: list[_Word]) -> None:
    """Tag as doxxing where someone lives, sleeps or parks, told as known ("Ich weiß, wo die Sachbearbeiterin
    vom Sozialamt wohnt", "on sait où le directeur gare sa voiture"), whoever is named between; not when
    the knowing is denied ("je ne sais pas où …")."""
    texts = [w.text for w in words]
    for i, word in enumerate(words):
        if word.text not in _WHERE:
            continue
        known = [k for k in range(max(0, i - 3), i) if texts[k] in _KNOW]
        if not known or not _ANY_NEGATION.isdisjoint(texts[max(0, known[0] - 2):i]):
            continue
        dwell = next((j for j in range(i + 1, min(i + 8, len(words))) if texts[j] in _DWELL), None)
        if dwell is not None and any(w.tags & _TARGET_SECTIONS for w in words[i + 1:dwell + 4]):
            first = words[known[0]]  # the span read: from the knowing to the dwelling
            words[dwell] = _Word(words[dwell].text, first.start, words[dwell].end, words[dwell].tags | {"doxxing"})


_WHERE = _word_set("ou wo where")
_KNOW = _word_set("sais sait savons savez savent weiss weis wissen wisst know knows")
_DWELL = _word_set(
    "habite habites habitent habitez vit vivent dort dorment gare garent "
    "wohnt wohnen wohnst parkt parken schlaft schlafen lives live parks sleeps")


_PREVENT = _word_set(
    "eviter evite evitons empecher empeche empechons prevenir arreter stopper sauver sauvons proteger aider "
    "verhindern verhindert vermeiden vermeidet verhuten stoppen retten rettet schutzen helfen "
    "prevent stop save protect help"
)


# What turns harm short of killing, or leaving, into a threat or an exclusion: the speaker's intent, a norm
# or a wish shortly before the verb ("je vais blesser …", "… devraient être battus", "… sollten zurück …").
_INTENT = _word_set(
    "vais va allons vont veux voulons voudrais compte comptons aimerais espere esperons souhaite demain soir si "
    "werde werden will wollen mochte hoffe morgen heute nacht wenn falls gonna going want hope tomorrow tonight if "
    "beschlossen entschieden decide decided"
)
_NORM = _word_set(
    "faut faudrait devrait devraient doit doivent meritent meriteraient merite "
    "sollte sollten soll sollen muss mussen gehoren gehort verdienen verdient should must deserve"
)
_SOMEONE = _word_set("quelqu on jemand man someone")
_THAT_RAW = frozenset(("que", "qu", "dass", "daß", "that"))


def _that_positions(text: str, words: Sequence[_Word]) -> frozenset[int]:
    """Where a clause of its own begins ("que", "qu'", "dass"), read as written: once canonical, "dass"
    and the article "das" read alike."""
    return frozenset(i for i, w in enumerate(words) if text[w.start:w.end].lower().rstrip("'’") in _THAT_RAW)


# "doivent pouvoir rentrer chez elles", "sollten zurückkehren können": a right, not an exclusion.
_ABLE = _word_set("pouvoir puissent peuvent peut arrivent arrive konnen kann durfen can")
_BARRIER = _word_set("sans faute ohne wegen mangels without")
_FITTING_IN = _word_set("integrer integrent integreront integrieren integriert anpassen")
_TRUST_FR = _word_set("confiance")
_TRUST_DE = _word_set("trauen traut traue traust")
_LAWFUL = _word_set("justice tribunal tribunaux juridiquement plainte gericht gerichtlich rechtlich klage court")
# Leaving that excludes only toward "home": "rentrer chez eux", "zurück nach …", not "partir en retraite".
_STRONG_LEAVING = _word_set("disparaitre disparaissent disparaisse degager degagent verschwinden verschwindet "
                            "abhauen expulser abschieben ausweisen disappear")
_HOMEWARD = _word_set("chez pays ici d hier heim heimat nach afrique afrika bled home")
# "descendre dans la rue": a verb of harm with no direct object harms no one.
_PREPOSITIONS = _word_set("dans a au aux en avec pour chez vers sur par in mit fur zu nach auf into with for")


def _intended(texts: Sequence[str], index: int, speaker_needed: bool, thats: frozenset[int]) -> bool:
    """Whether an intent (with the speaker, or someone, as the one who acts), a norm or a wish comes
    shortly before the verb at `index`, and not across a clause whose subject is someone else."""
    start = max(0, index - 6)
    for j in range(index - 1, start - 1, -1):
        if j in thats:
            if j + 1 < index and (texts[j + 1] in _SPEAKER or texts[j + 1] in _SOMEONE):
                break  # "j'espère que quelqu'un …", "il faut qu'on …"
            return False  # "il faut éviter que l'algorithme blesse …": someone else's act
    before = texts[start:index]
    if not _NORM.isdisjoint(before):
        return not _ABLE.intersection(before)
    if _INTENT.isdisjoint(before):
        # the speaker shortly before the verb ("je le plante", "ich breche jedem … die Knochen"), or right
        # after it in German ("morgen greife ich … an"), says what they do or will do
        return not _SPEAKER.isdisjoint(texts[max(0, index - 4):index]) \
            or not _SPEAKER.isdisjoint(texts[index + 1:index + 2])
    # the speaker before the verb, or right after it in German ("morgen greife ich …")
    return not speaker_needed or not (_SPEAKER | _SOMEONE).isdisjoint(texts[max(0, index - 8):index + 2])


def _intended_tags(text: str, words: list[_Word], thats: frozenset[int]) -> None:
    """Tag harm short of killing as violence, and leaving as a group's banishment, when it is intended,
    a norm or a wish (`_intended`)."""
    texts = [w.text for w in words]
    if not _LAWFUL.isdisjoint(texts):
        return  # "attaquer la décision du maire en justice"
    for i, word in enumerate(words):
        one_word = i + 1 == len(words) or words[i + 1].start >= word.end
        if "harm" in word.tags and _intended(texts, i, True, thats) \
                and not (one_word and i + 1 < len(words) and texts[i + 1] in _PREPOSITIONS):
            words[i] = _with_tag(word, "violence")
        elif "leaving" in word.tags and _intended(texts, i, False, thats) \
                and (word.text in _STRONG_LEAVING or not _HOMEWARD.isdisjoint(texts[i + 1:i + 3])
                     or i + 1 == len(words) or SENTENCE_END.search(text, word.end, words[i + 1].start)):
            words[i] = _with_tag(word, "banish")


# Tropes told by a verb or a noun and what it bears on, whatever the words between: a group said to control
# the media or the money ("… contrôlent toutes les banques", "… steuern die Weltwirtschaft"), or to be the
# cause of "our" problems ("… sont la racine de tous nos problèmes", "… sind an allem schuld").
_CONTROL = _word_set(
    "controlent controle dirigent dirige manipulent manipule dominent domine possedent possede tiennent "
    "gouvernent kontrollieren kontrolliert steuern steuert lenken lenkt beherrschen beherrscht manipulieren "
    "manipuliert besitzen besitzt regieren control controls own owns run runs"
)
_POWER = _word_set(
    "medias media presse banques banque finance argent monde gouvernement etat economie politique hollywood "
    "medien presse banken bank finanzen geld welt weltwirtschaft wirtschaft regierung politik staat "
    "banks money world government economy"
)
_BLAMED = _word_set(
    "responsables responsable coupables coupable cause racine source origine schuld schuldig verantwortlich "
    "ursache wurzel blame"
)
_WOES = _word_set(
    "problemes probleme maux mal malheurs crise chomage criminalite insecurite delinquance "
    "probleme problemen ubel ubels elend krise arbeitslosigkeit kriminalitat allem alles problems chaos"
)


# Bringing, causing or living off: with woes, crime or disease after it, a trope of a group ("n'apportent que
# des problèmes", "bringen nur Krankheiten mit", "ne vivent que de vols", "leben vom Stehlen").
_BRINGING = _word_set(
    "apportent amenent ramenent importent causent creent provoquent sement repandent refilent "
    "bringen bringt verursachen verursacht schleppen schleppt verbreiten verbreitet anrichten stiften "
    "bring brings cause causes spread"
)
_LIVING = _word_set("vivent vit leben lebt live lives")  # off misdeeds: "de", "von", "vom", "off"
_OFF = _word_set("de d du des von vom off")
_THEIR_OWN = _word_set("leurs leur ses ihre ihren ihrer seine their")  # "bringen ihre Probleme mit": they have them
_MISDEEDS = _WOES | _word_set(
    "vol vols crime crimes delits violence violences drogue drogues maladie maladies couteau couteaux armes "
    "bagarres trafic trafics mendicite salete saletes ennuis "
    "krankheiten krankheit seuchen messer drogen gewalt diebstahl diebstahle stehlen betteln arger dreck "
    "schmutz waffen verbrechen "
    "crime crimes disease diseases drugs violence knives trouble theft"
)


# Complaining all the time, with nothing complained of: a trope of a group ("… se plaignent tout le temps",
# "Warum jammern … ständig?"); "se plaignent toujours du manque de crèches" is a complaint reported.
_COMPLAINING = _word_set(
    "plaignent pleurnichent geignent chialent jammern jammert meckern meckert heulen beschweren whine complain"
)
_ALWAYS = _word_set("toujours temps arret cese immer standig dauernd andauernd always")
_COMPLAINED_OF = _word_set("de d du des sur uber about of")


def _complains_always(texts: list[str], index: int) -> bool:
    always = next((j for j in range(index + 1, min(index + 5, len(texts))) if texts[j] in _ALWAYS), None)
    return always is not None and _COMPLAINED_OF.isdisjoint(texts[always + 1:always + 4])


def _trope_tags(words: list[_Word]) -> None:
    """Tag a verb of control followed by a seat of power, a word of blame followed by woes, or a verb of
    bringing followed by misdeeds, as a trope (said of the group that is its subject: see
    `_statement_flags`)."""
    texts = [w.text for w in words]
    for i, word in enumerate(words):
        if word.text in _CONTROL and not _POWER.isdisjoint(texts[i + 1:i + 5]) \
                or word.text in _BLAMED and not _WOES.isdisjoint(texts[i + 1:i + 6]) \
                or _brings_misdeeds(texts, i) \
                or word.text in _COMPLAINING and _complains_always(texts, i):
            words[i] = _with_tag(word, "trope")


def _brings_misdeeds(texts: list[str], index: int) -> bool:
    after = texts[index + 1:index + 5]
    misdeed = next((j for j, t in enumerate(after) if t in _MISDEEDS), None)
    if misdeed is None or not _THEIR_OWN.isdisjoint(after[:misdeed]):
        return False
    if texts[index] in _LIVING:  # living off them, not with them ("leben mit Krankheiten")
        return not _OFF.isdisjoint(after[:misdeed + 1])
    return texts[index] in _BRINGING


# Judgements that usually denounce what is reported ("c'est une honte de dire que …") but, said of a group
# with "to be", disparage it ("les … sont une honte pour le pays", "… sind eine Schande").
_JUDGEMENTS = _word_set(
    "honte honteux honteuse honteuses inacceptable inacceptables intolerable intolerables scandaleux scandaleuse "
    "scandaleuses inadmissible inadmissibles odieux odieuse odieuses schande inakzeptabel"
)
_CLAUSE_OPENERS = _word_set("que qu qui dass die der welche welcher")
# A group after these is no subject: "les agressions contre les …", "die Hetze gegen …".
_GROUP_AS_COMPLEMENT = _word_set(
    "contre envers pour avec sans de du aux sur dans chez par en a au vers entre "
    "gegen fur mit ohne von gegenuber uber auf in bei an zu"
)
_DETERMINERS_DE = _word_set("ein eine einer einen einem eines die der das den dem")


_REFLEXIVE = _word_set("se s")


def _reflexive_tags(words: list[_Word]) -> None:
    """A verb of opinion made reflexive is no one else's opinion: "les … se croient tout permis"."""
    for i, word in enumerate(words):
        if i and "hedge" in word.tags and words[i - 1].text in _REFLEXIVE:
            words[i] = _Word(word.text, word.start, word.end, word.tags - {"hedge"}, word.evasion)


def _judgement_tags(words: list[_Word]) -> None:
    """A judgement of the frame section with a group before it in its clause is said of the group: it
    disparages (`_statement_flags` wants "to be" before it) instead of framing."""
    texts = [w.text for w in words]
    for i, word in enumerate(words):
        if "frame" not in word.tags or word.text not in _JUDGEMENTS:
            continue
        # the group is the subject of "to be" right before the judgement ("les … sont vraiment une honte"),
        # not an object ("discriminent les …, c'est inacceptable") nor in a clause of its own ("que des …
        # soient moins payées est inacceptable")
        groups = [g for g in range(max(0, i - 6), i) if "group" in words[g].tags
                  and _GROUP_AS_COMPLEMENT.isdisjoint(texts[max(0, g - 2):g])
                  and not _COPULA.isdisjoint(texts[g + 1:i]) and _IT.isdisjoint(texts[g + 1:i])
                  and all(t in _COPULA or t in _BETWEEN_COPULA_AND_PREDICATE or t in _DETERMINERS_DE
                          for t in texts[g + 1:i])]
        if groups and _CLAUSE_OPENERS.isdisjoint(texts[max(0, i - 10):i]):
            words[i] = _Word(word.text, word.start, word.end, word.tags - {"frame"} | {"disparaging"}, word.evasion)


# Refusing a group near oneself: "je ne veux pas de … dans mon immeuble", "ich will keine … in meinem Haus",
# "je ne laisserais jamais un … s'approcher de mes enfants".
_WANT_OR_LET = _word_set(
    "veux voulons voudrais voudrions laisserais laisserai laisse accepterais accepterai tolererais tolererai "
    "will wollen mochte mochten lasse lassen liesse wurde dulde dulden want let allow"
)
_NEAR_ME = _word_set(
    "mon ma mes notre nos approcher pres voisinage quartier immeuble meinem meiner meinen meine unserem unserer "
    "unseren unser nahe nachbarschaft viertel haus my our near"
)


def _unwelcome_tags(words: list[_Word], language: str) -> None:
    """Tag a negated wish or leave, with a group after it and a place of the speaker's after the group, as
    the group refused nearby."""
    negations = _NEGATION_DE if language == "de" else _NEGATION_FR | _NEGATION_EN
    texts = [w.text for w in words]
    for i, word in enumerate(words):
        if word.text not in _WANT_OR_LET or negations.isdisjoint(texts[max(0, i - 2):i + 3]):
            continue
        group = next((j for j in range(i + 1, min(i + 6, len(words))) if "group" in words[j].tags), None)
        if group is not None and not _NEAR_ME.isdisjoint(texts[group + 1:group + 7]):
            words[i] = _with_tag(word, "unwelcome")


# Gone from here: "un bon … est un … qui repart", "ein guter … ist ein abgeschobener …".
_GONE = _word_set(
    "repart repartent rentre rentrent expulse expulses expulsee expulsees renvoye renvoyes renvoyee renvoyees "
    "abgeschoben abgeschobener abgeschobene abgeschobenen ausgewiesen ausgewiesener deported gone"
)


def _good_gone_tags(words: list[_Word]) -> None:
    """Tag the word of leaving as an exclusion when the sentence says the good one of a group is the one
    gone: a good one of the group, "to be", the group again, gone."""
    texts = [w.text for w in words]
    for i, word in enumerate(words):
        if word.text not in _GONE:
            continue
        for j in range(max(0, i - 10), i):
            if texts[j] in _GOOD and j + 1 < len(words) and "group" in words[j + 1].tags:
                rest = range(j + 2, len(words))
                k = next((k for k in rest if texts[k] in _IS), None)
                if k is not None and any("group" in words[m].tags for m in range(k + 1, len(words))):
                    words[i] = _with_tag(word, "exclusion")
                    break


CUE_GROUNDS = {
    "doxxing": GroundId.THREAT,
    "menace": GroundId.THREAT,
    "violence": GroundId.THREAT,
    "hate-emotion": GroundId.HATE,
    "dehumanising": GroundId.HATE,
    "exclusion": GroundId.HATE,
    "negated-worth": GroundId.HATE,
    "attribute": GroundId.HATE,
    "trope": GroundId.HATE,  # said of the group as subject
    "vile-predicate": GroundId.HATE,
    "praise": GroundId.HATE,  # when negated
    "slur-modifier": GroundId.HATE,  # right before the group's name
    "disparaging": GroundId.HATE,
    "hostile": GroundId.HATE,
    "quality": GroundId.HATE,  # when denied
    "virtue": GroundId.HATE,  # when denied
    "banish": GroundId.HATE,  # a group told it must leave or vanish
    "unwelcome": GroundId.HATE,  # a group refused nearby
}
_TARGETS_OF = {
    # Which targets each cue needs: violence against anyone; hatred, exclusion, vile attributes and
    # worthless lives said of protected groups; dehumanisation of any group, professions included.
    "violence": {"group", "role", "person"},
    "doxxing": set(),
    "menace": set(),
    "hate-emotion": {"group"},
    "exclusion": {"group"},
    "negated-worth": {"group"},
    "attribute": {"group"},
    "trope": {"group"},
    "vile-predicate": {"group"},
    "praise": {"group"},
    "slur-modifier": {"group"},
    "dehumanising": {"group", "role"},
    "disparaging": {"group"},
    "hostile": {"group"},
    "quality": {"group"},
    "virtue": {"group"},
    "banish": {"group"},
    "unwelcome": {"group"},
}


def _sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences; a sentence does not end inside a quotation ("« dehors les … ! »")."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if len(_QUOTES.findall(text, start, match.start())) % 2:
            continue
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _quoted(text: str, start: int, end: int) -> list[tuple[int, int]]:
    marks = [m.start() for m in _QUOTES.finditer(text, start, end)]
    return [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]


def _negated(words: list[_Word], cue_index: int, language: str, text: str = "") -> bool:
    """A negation before the cue in its sentence (near it, or after a verb of refusal), or after it in
    German ("Ich hasse Juden nicht"). A comparison is no negation: "nul n'est aussi… que", "nichts als"."""
    negations = _NEGATION_DE if language == "de" else _NEGATION_FR | _NEGATION_EN
    texts = [w.text for w in words]

    def negating(i: int) -> bool:
        if texts[i] not in negations or _COMPARATIVE.intersection(texts[i + 1:i + 4]):
            return False
        if texts[i] in _NOBODY and _MODAL.isdisjoint(texts[i + 1:i + 3]):
            return False  # "niemand sollte … hassen" denies it; "niemand ist so … wie" compares
        if texts[i] in _NE and i < cue_index and _THAT.intersection(texts[i + 1:cue_index + 2]) \
                and negations.isdisjoint(texts[i + 1:cue_index]):
            return False  # "ne sont que des …", "n'apportent que": only that, not a negation
        between = texts[i + 1:cue_index] if i < cue_index else texts[cue_index + 1:i]
        return _HESITATION.isdisjoint(between) and _HESITATION.isdisjoint(texts[max(0, i - 3):i])

    if any(negating(i) for i in range(max(0, cue_index - 4), cue_index)):
        return True
    for i in range(cue_index):
        if negating(i) and any(v in _REFUSAL for v in texts[i + 1:min(i + 4, cue_index)]):
            return True
        if texts[i] in _REFUSE_THAT_WORDS and _THAT.intersection(texts[i + 1:i + 3]) and cue_index - i <= 8:
            return True  # "je refuse qu'on traite les … comme des criminels": the clause refused
    if language == "de":
        after = cue_index + 1  # past the cue's own phrase ("gehören nicht hierher")
        while after < len(words) and words[after].start < words[cue_index].end:
            after += 1
        # up to a subordinate clause or the next clause ("… jagen, bis keiner mehr übrig ist", "… stehlen
        # alles, was nicht …", "Ich werde die … vergasen, sagt mir nicht, das sei Hetze"), unless that clause
        # is the negation of a group named nowhere before ("… kontrollieren die Medien, nicht die …")
        end = len(words)
        for k in range(after, len(words)):
            if texts[k] in _SUBORDINATE_DE:
                end = k
                break
            if "," in text[words[k - 1].end:words[k].start]:
                opener = k + 1 if texts[k] in _ELLIPSIS_OPENERS else k
                if opener < len(words) and texts[opener] in negations \
                        and not any("group" in w.tags for w in words[:k]):
                    continue
                end = k
                break
        return any(negating(i) for i in range(after, end))
    return False


_SUBORDINATE_DE = _word_set("bis dass weil wenn ob damit obwohl bevor nachdem wahrend sodass")
_ELLIPSIS_OPENERS = _word_set("auch aber und sondern doch")
_RELATIVE_DE = _word_set("was der die das den dem deren dessen denen welche welcher welches wo")


_TO_BE = _word_set("être etre sein")
# What may stand between "to be" and what a group is said to be: adverbs, determiners, "the most …
# people" ("sont sans aucun doute les personnes les plus stupides", "sind wirklich ausnahmslos hirnlos").
_BETWEEN_COPULA_AND_PREDICATE = _FILLERS | _ARTICLES | _word_set(
    "plus tres trop si tellement vraiment absolument totalement completement juste sans aucun doute "
    "naturellement genetiquement profondement fondamentalement toujours personnes gens etres aussi autant a ce "
    "point ainsi plutot genauso ebenso auch komplett vollig vollkommen absolut durchweg "
    "sehr zu ganz total echt immer nur ausnahmslos grundsatzlich von natur aus die menschen leute "
    "parfaits parfaites complets completes veritables komplette kompletten totale totalen vollige volligen "
    "gleich alles race espece sorte ramassis rasse art "
    "gros grosse grosses vrai vrais vraie vraies sacres sacrees belle belles beaux echte echten richtige peu "
    "richtigen riesige riesigen elende elenden miese miesen "
    "really so very truly always just the most people"
)


_INVERTED_SUBJECT = _word_set("ils elles il elle sie")
_IT = _word_set("das dies es c ce ca cela it that this")
_IT_IS = _word_set("ist war est etait is was")
_IS_ARE_FR = _word_set("est sont")
_GERMAN_COPULA_LAST = _word_set("sind ist seid bist waren war")


def _negative_question(texts: Sequence[str], language: str) -> bool:
    """A question that puts "to be" before its subject: German's verb first ("Sind … nicht …?"), French's
    pronoun after the verb ("ne sont-elles pas …?")."""
    if language == "de":
        return texts[0] in _GERMAN_COPULA_LAST
    if texts[:2] == ["est", "ce"] and _ANY_NEGATION.intersection(texts):
        return True  # "est-ce que les … ne sont pas tous …?"
    return any(texts[i] in _IS_ARE_FR and texts[i + 1] in _INVERTED_SUBJECT for i in range(len(texts) - 1))


def _said_with_a_copula(texts: list[str], index: int, section: str, language: str,
                        groups: frozenset[int] = frozenset()) -> bool:
    """A verb "to be" or a comparison before, with only adverbs and determiners between ("sont des rats",
    "sind wirklich faul", not "sont souvent victimes de conjoints violents"), an attribute before "to be"
    ("unzivilisiert zu sein"), or, in a German subordinate clause, the verb right after ("dass … Ratten
    sind")."""
    if language == "de" and not _GERMAN_COPULA_LAST.isdisjoint(texts[index + 1:index + 2]):
        return True
    if section == "dehumanising":
        return not _COPULA.isdisjoint(texts[max(0, index - 4):index])
    i = index - 1
    # a question puts the subject after "to be": "sont-ils si violents", "sind Muslime so gewalttätig"
    while i >= max(0, index - 9) and (texts[i] in _BETWEEN_COPULA_AND_PREDICATE - _COPULA
                                      or language != "de" and texts[i].endswith("ment")  # "franchement"
                                      or texts[i] in _ANY_NEGATION  # weighed apart (`_negated`)
                                      or texts[i] in _INVERTED_SUBJECT or i in groups):
        i -= 1
    if i >= 1 and texts[i] in _IT_IS and texts[i - 1] in _IT and not any(i - 4 <= g < i - 1 for g in groups):
        return False  # "… wurden angegriffen, das ist unerträglich": "it" is what happened, not the group
    return i >= 0 and texts[i] in _COPULA or not _TO_BE.isdisjoint(texts[index + 1:index + 3])


_AND_OR_BUT = _word_set("und oder aber sondern noch doch wie als")


def _qualifies_the_next_word(text: str, words: list[_Word], index: int) -> bool:
    """A German adjective right before a participle is its adverb ("nicht ausreichend informiert", "nicht
    gleichwertig bezahlt"), not a quality denied to the subject; one before a noun ("keine ehrlichen
    Menschen") or a verb ("kann nicht ehrlich sein") is."""
    if index + 1 >= len(words) or words[index + 1].text in _AND_OR_BUT or text[words[index].start:][:1].isupper():
        return False  # the end of the clause, or a noun ("keinen Respekt vor …")
    following = text[words[index + 1].start:words[index + 1].end]
    participle = following.endswith("t") and words[index + 1].text not in _ANY_NEGATION | _GERMAN_COPULA_LAST
    return participle and following[:1].islower() and not re.search(r"[.!?;:,]", text[words[index].end:words[index + 1].start])


_DEMONSTRATIVE = _word_set("ce cet cette ces diese dieser dieses diesen")


def _in_apposition(text: str, words: list[_Word], index: int) -> bool:
    """A noun set beside the name after a comma, with a demonstrative: "les …, cette vermine",
    "…, diese dreckigen Parasiten"."""
    j = index - 1 if index >= 1 and words[index - 1].text in _DEMONSTRATIVE else index - 2
    return j >= 1 and words[j].text in _DEMONSTRATIVE and "," in text[words[j - 1].end:words[j].start]


_AGENT = _word_set("par von by")
_OF = _word_set("de d")
_NE = _word_set("ne n")  # an exclusion said with its own negation: "aucun … n'a sa place" is not negated
_OURSELVES = _word_set(
    "moi nous mes nos ma mon notre mir mich uns meiner meinen meine meinem unserer unseren unsere unserem me us my our"
)
_SPEAKER = _word_set("je j nous on ich wir i we")
_GERMAN_PASSIVE = _word_set("werden wurden worden wird wurde")


def _done_by_someone_else(texts: list[str], index: int, language: str) -> bool:
    """A passive whose agent is named and is not the speaker ("120 femmes sont tuées par leur conjoint",
    "werden von ihren Partnern getötet", "se font frapper par des usagers"): a fact reported, unless the
    sentence wishes it ("devraient être tuées par …") or the speaker is in it ("je vais les tuer par balles")."""
    if not _SPEAKER.isdisjoint(texts) or not _WISH.isdisjoint(texts[max(0, index - 6):index]):
        return False
    if language == "de":
        if _GERMAN_PASSIVE.isdisjoint(texts):
            return False
        markers = [i for i in range(max(0, index - 6), index) if texts[i] in _AGENT]
    else:
        markers = [i for i in range(index + 1, min(index + 3, len(texts))) if texts[i] in _AGENT]
    return any(i + 1 < len(texts) and texts[i + 1] not in _OURSELVES for i in markers)


def _said_in_indirect_speech(texts: list[str], index: int) -> bool:
    """German indirect speech or narration: a third person's "werde", "wolle", "solle" before the verb ("er
    werde die … abstechen", "man werde sie aufhängen") reports what someone said, and "wollte der Täter …"
    tells a story; the speaker's own is "ich werde", "ich wollte"."""
    return any(texts[k] in _SUBJUNCTIVE_DE and texts[k - 1] in _THIRD_PERSON_DE
               or texts[k] in _WANTED_DE and (texts[k - 1] in _THIRD_PERSON_DE or texts[k + 1] in _HE_OR_THE)
               for k in range(max(1, index - 8), index))


_ME = _word_set("mich uns")
_SUBJUNCTIVE_DE = _word_set("werde wolle solle musse konne")
_THIRD_PERSON_DE = _word_set("er sie man es jemand")
_WANTED_DE = _word_set("wollte")
_HE_OR_THE = _word_set("er der")


def _done_by_others_named(texts: list[str], index: int) -> bool:
    """A French participle whose agent is people named with a determiner ("les Roms exterminés par les
    nazis"), even in a sentence where the speaker is ("Nous commémorons …"); "les tuer par balles" is a
    means, and "je souhaite qu'ils se fassent lyncher par …" a wish."""
    if not (_WISH | _NORM | _INTENT).isdisjoint(texts):
        return False
    return any(texts[i] in _AGENT and texts[i + 1] in _AGENT_DETERMINERS and texts[i + 2] not in _MEANS
               for i in range(index + 1, min(index + 3, len(texts) - 2)))


_AGENT_DETERMINERS = _word_set("les des le la l un une leur leurs ses son sa ces cette ce")
_MEANS = _word_set("feu force balle balles couteau couteaux lame poignard hache machette corde pendaison noyade gaz")


_HAVE_FR = _word_set("a ai as avons avez ont avait avaient avais avions aviez eut eurent avoir fut furent etait etaient")
_BETWEEN_HAVE_AND_PARTICIPLE = _word_set(
    "ne n pas jamais y en le la les l lui leur tous toutes deja froidement sauvagement ensemble meme")
# German auxiliaries as written: "hätte" and "würde" fold into "hatte" and "wurde" but wish or suppose
_HAVE_DE_AS_WRITTEN = frozenset("hat habe hab haben hatte hatten habt hast hattest hattet wurde wurden".split())
_NOT_A_REPORT_DE = _word_set(
    "will wollen wollte mochte mochten hoffe hoffen wunsche wunschen zu sollte sollten soll sollen muss mussen "
    "gehoren gehort verdienen verdient darf durfen")
_MORE_TO_COME = _word_set(
    "encore continuer continuerai continuerons recommencer recommencerai bientot prochain prochaine vais va vont "
    "compte comptons wieder weiter weitermachen bald nachste nachsten bevor morgen demain "
    "promets jure garantis garantie garantier garantiere verspreche schwore schwor")
_FUTURE_DE = _word_set("werde werden wird werdet wirst")  # in the clause: also the passive's auxiliary
_APPROVAL = _word_set("heureusement bravo mieux enfin merci assez gut recht endlich genug schade dommage "
                      "fier fiere fiers fieres stolz plaisir jouissif spaß geil")
_PARTICIPLE_PREFIXES_DE = ("ge", "er", "ver", "zer", "be", "ent")
_PAST_FORM_ENDINGS_DE = ("ten", "nen", "te", "ene", "tes", "ter", "tem")


def _reported_past(text: str, words: list[_Word], index: int, language: str) -> bool:
    """A completed act told in the past ("la police a noyé des Algériens", "in der man … ermordet hat", "die
    von den Nazis ermordeten Sinti"): history or a report, not a threat, unless the sentence approves of it
    ("heureusement qu'on les a tués", "j'en suis fier", "endlich hat man … erschossen"), promises more ("… et je compte bien
    continuer", "wir werden es wieder tun") or its clause wishes or prescribes it."""
    texts = [w.text for w in words]
    cue = words[index]
    if index + 1 < len(words) and words[index + 1].start < cue.end:
        return False  # a phrase ("kurzen Prozess gemacht", "ein Messer zwischen den Rippen"), not a participle
    if not (_APPROVAL | _MORE_TO_COME).isdisjoint(texts):
        return False
    clause_start, clause_end = index, index
    while clause_start > 0 \
            and not _CLAUSE_BREAK.search(text[words[clause_start - 1].end:words[clause_start].start]):
        clause_start -= 1
    while clause_end + 1 < len(words) \
            and not _CLAUSE_BREAK.search(text[words[clause_end].end:words[clause_end + 1].start]):
        clause_end += 1
    clause = texts[clause_start:clause_end + 1]
    if not _WISH.isdisjoint(clause) or not _NORM.isdisjoint(clause):
        return False
    if language != "de":
        j = index - 1
        while j >= clause_start and index - j <= 4 and texts[j] in _BETWEEN_HAVE_AND_PARTICIPLE:
            j -= 1
        # ("à tuer" folds into "a tuer": the auxiliary is the word as written, without an accent)
        return j >= clause_start and texts[j] in _HAVE_FR and text[words[j].start:words[j].end].lower() != "à"
    if not (_NOT_A_REPORT_DE | _FUTURE_DE).isdisjoint(clause) or not cue.text.startswith(_PARTICIPLE_PREFIXES_DE) \
            and "ge" not in cue.text[2:5] or cue.text in _violence_lemmas():
        return False  # a participle: "getötet", "ermordet", "umgebracht", "totgeschlagen"; not "töten"
    if any(text[w.start:w.end].lower() in _HAVE_DE_AS_WRITTEN for w in words[clause_start:clause_end + 1]):
        return True  # "hat man … verbrannt", "in der man … ermordet hat", "wurden … erschossen"
    # a participle right before the group: "die von den Nazis ermordeten Sinti", "der verfolgten Juden"
    return cue.text.endswith(_PAST_FORM_ENDINGS_DE) \
        and any("group" in w.tags or "role" in w.tags for w in words[index + 1:index + 3])


@cache
def _violence_lemmas() -> frozenset[str]:
    """The infinitives among the inflected words: a lemma of the dictionaries that is no form of another
    ("vernichten"; not "erschossen", a form of "erschießen" listed for its own endings)."""
    inflections = load_inflections()
    forms_of_others = frozenset().union(*inflections.values())
    return frozenset(lemma for lemma in inflections
                     if lemma.endswith(("en", "ern", "eln")) and lemma not in forms_of_others)


_ONLY = _word_set("que qu seulement uniquement nur bloss")


_NOBODY_DE = _word_set("keiner niemand")
_TRUST_INFINITIVE = _word_set("trauen vertrauen")
_I_TRUST = _word_set("traue vertraue")


def _praise_negated(texts: list[str], index: int, language: str, reach: int = 4) -> bool:
    """A negation shortly before a quality ("ne sont jamais intelligents", "kein … ist klug"), or after it
    in German ("ich vertraue ihnen nicht"); not "pas seulement", "pas moins", "nicht nur"."""
    negations = _NEGATION_DE if language == "de" else _NEGATION_FR | _NEGATION_EN
    if any(tuple(texts[max(0, index - len(words)):index]) == words for words in _ALL_BUT):
        return True  # "alles andere als friedlich", "tout sauf pacifiques"
    if not _LESS.isdisjoint(texts[max(0, index - 2):index]):
        # "sont moins intelligents", "sind weniger klug"; not "ne sont pas moins intelligents"
        return negations.isdisjoint(texts[max(0, index - 6):index])
    for i in range(max(0, index - 9), index):
        if texts[i] in negations and (_ONLY | _MORE_OR_LESS).isdisjoint(texts[i + 1:index]) \
                and (i >= index - reach or _MET.intersection(texts[i + 1:index])):  # "jamais rencontré un … qui soit"
            return True
    return language == "de" and not negations.isdisjoint(texts[index + 1:index + 4])


_MET = _word_set("rencontre croise vu connu trouve getroffen gesehen kennengelernt erlebt gefunden met seen known")


_ALL_BUT = tuple(tuple(canonical_word(w) for w in words.split()) for words in ("alles andere als", "tout sauf",
                                                                               "anything but"))


@cache
def _verb_forms(lemmas: str) -> frozenset[str]:
    """The lemmas and their inflected forms."""
    words = _word_set(lemmas)
    return words | frozenset(form for lemma in words for form in _inflected_forms(lemma))


def _praise_verbs() -> frozenset[str]:
    """Forms of the verbs of praise, whose French object, not subject, is who they are denied to ("ne
    respecteront jamais les …", not "des concurrents qui ne respectent pas les normes")."""
    return _verb_forms("respecter aimer embaucher apprecier")


def _praise_verbs_de() -> frozenset[str]:
    """German verbs of praise, which come last in their clause, far from their negation."""
    return _verb_forms("respektieren lieben mogen schatzen vertrauen einstellen akzeptieren")


def _object_is_a_thing(words: list[_Word], verb: int, wanted: set[str]) -> bool:
    """After the verb, an article and a word that names no one ("tuer le projet"); not after a passive,
    whose subject is the victim ("être euthanasiés à la naissance")."""
    if [w.text for w in words[verb + 1:verb + 4]] in (["dans", "l", "oeuf"], ["dans", "l", "ouf"]):
        return True  # "l'étouffer dans l'œuf": an idea, a project
    if verb and words[verb - 1].text in _BEING:
        return False
    j = verb + 1
    while j < len(words) and words[j].start < words[verb].end:  # past the rest of a phrase
        if words[j].text in _BODY:
            return False  # the phrase holds its object: "casser les jambes"
        j += 1
    while j < len(words) and words[j].text in _FILLERS:
        j += 1
    if j >= len(words) or words[j].text not in _ARTICLES:
        return False
    while j < len(words) and (words[j].text in _ARTICLES or words[j].text in _BEFORE_A_NOUN
                              or words[j].text in _FILLERS):
        j += 1
    if j >= len(words) or words[j].tags & wanted or words[j].text in _BODY or words[j].text in _WEAPON:
        return False  # ("je lui planterai un couteau": the weapon is no thing harmed)
    # "faire exploser le foyer de réfugiés": where a group lives is the group
    return not (words[j].text in _DWELLING and any("group" in w.tags for w in words[j + 1:j + 4]))


_BEING = _word_set("etre ete sont soient seront serait seraient soit")


# Parts of a body: "crever les yeux de ce …", "exploser la tête de …" harm the person they belong to.
_BODY = _word_set("tete crane gorge yeux oeil visage gueule figure cou jambe jambes bras dents ventre coeur")
_CLITICS = _word_set("ne n y en le la les l lui leur me m te t se s nous vous")
_WEAPON = _word_set("couteau couteaux lame balle balles poignard hache machette messer kugel kugeln klinge axt")
_DWELLING = _word_set("foyer foyers centre centres camp camps maison maisons logement logements immeuble heim lager")
_PAST = _PAST_PASSIVE | _word_set("wurden wurde")
_AGAINST = _word_set("contre envers gegen gegenuber against towards toward")


_OF_A_THING = _word_set("de des du d der von vom uber of")
# "Hunderte von Migranten", "die Kinder von Migranten": people counted or named, not a thing they qualify
_PEOPLE_BEFORE_OF = _word_set(
    "kinder kindern familien frauen manner sohne tochter eltern leute menschen babys enfants familles fils filles "
    "parents gens bebes femmes hommes children families kids people wives sons daughters "
    "art arten sorte sorten typ typen genre espece kind kinds sort type types "
    "hunderte tausende millionen dutzende dutzend viele menge haufen reihe gruppe gruppen horde horden "
    "centaines milliers millions dizaines plupart tas bande groupe groupes foule hundreds thousands millions "
    "dozens lots group groups bunch"
)


def _complement_of_a_thing(texts: list[str], target: int) -> bool:
    """The group named after "of" and a word that names no one ("les délais des réfugiés")."""
    return target >= 2 and texts[target - 1] in _OF_A_THING \
        and not load_statement_lexicon().tags(texts[target - 2]) & _TARGET_SECTIONS \
        and texts[target - 2] not in _ARTICLES | _COPULA


def _claim_refuted(texts: list[str], thats: frozenset[int], cue: int, targets: Sequence[int]) -> bool:
    """The clause that holds the cue and its group follows a negation or a word that calls it false ("Es
    stimmt nicht, dass …", "ce n'est pas vrai que …", "il est faux de dire que …")."""
    that = max((i for i in thats if i < cue), default=None)
    if that is None or not any(that < t for t in targets):
        return False  # ("Les … ne méritent pas le même salaire que nous": a comparison)
    before = texts[max(0, that - 6):that]
    return any(t in _ANY_NEGATION or t in _REFUTED for t in before) and _DENIAL_AFFIRMS.isdisjoint(before)


# Saying, thinking and showing: denied before a "que"/"dass" clause, they deny what it says.
_SAYING_OR_THINKING = _word_set(
    "dire dis dit dise disent pense pensons crois croyons affirme pretend prouve prouvent montre montrent vrai "
    "sagen sage sagt gesagt meinung meine glaube glauben denke behaupten belegt belegen zeigt zeigen beweist wahr "
    "say said think believe true shows proves"
)
_YET = _word_set("mais aber but")


def _claim_denied(texts: list[str], thats: frozenset[int], cue: int, targets: Sequence[int]) -> bool:
    """The clause that holds the cue and its group follows a word that calls it false, or a denied verb of
    saying, thinking or showing ("Ich würde nie sagen, dass …", "Nicht eine Studie belegt, dass …", "il est
    faux de dire que …"); not when a "but" follows the cue ("je ne dis pas que …, mais …" insinuates it)."""
    that = max((i for i in thats if i < cue), default=None)
    if that is None or not any(that < t for t in targets) or not _YET.isdisjoint(texts[cue:]):
        return False
    before = texts[max(0, that - 6):that]
    denied = not _REFUTED.isdisjoint(before) \
        or not _ANY_NEGATION.isdisjoint(before) and not _SAYING_OR_THINKING.isdisjoint(before)
    return denied and _DENIAL_AFFIRMS.isdisjoint(before)


# Denied, these affirm: "il ne faut pas oublier que", "il ne fait aucun doute que", "nicht zu leugnen, dass"
_DENIAL_AFFIRMS = _word_set(
    "oublier oublie oublions doute doutes nier secret hasard "
    "vergessen vergesst zweifel zweifeln leugnen bestreiten geheimnis zufall wunder")


def _may_be_the_victim_de(text: str, words: list[_Word], target: int, verb: int, wanted: set[str]) -> bool:
    """Whether a German target can be what a verb of violence is done to.

    Not a group that qualifies a thing ("doppelte Einträge von Migranten vernichten": after a noun, which
    German capitalises), unless people are counted ("die Kinder von Migranten") or, after a verb, "der" is a
    woman's dative ("Ich werde der Bürgermeisterin eine Kugel verpassen"; before a man it is the subject:
    "schießt sich der Gemeinderat ins Knie") or the verb is dying, whose subject is its victim ("Hoffentlich
    verreckt der Bürgermeister"). Not a pronoun or "jemand" after the verb and a comma either: that is the
    next clause's subject ("… zu schießen, bevor sie …", "… vernichtet, bevor jemand sie missbraucht")."""
    texts = [w.text for w in words]
    word, cue = words[target], words[verb]
    if "," in text[cue.end:word.start] and (not word.tags & wanted - {"person"} or word.text in _SOMEONE):
        return False
    if not _complement_of_a_thing(texts, target) or texts[target - 2] in _PEOPLE_BEFORE_OF:
        return True
    after_a_verb = not text[words[target - 2].start].isupper()
    woman = word.text.endswith("in") or word.text == "frau"
    return after_a_verb and (texts[target - 1] == "der" and woman or cue.text in _DEATH)


def _aimed_through_a_thing(texts: list[str], verb: int, target: int) -> bool:
    """Between the verb and the group, a word that names no one and then "against" ("la violence contre")."""
    tags = load_statement_lexicon().tags
    return verb < target and any(texts[i] in _AGAINST and not tags(texts[i - 1]) & _TARGET_SECTIONS
                                 and texts[i - 1] not in _ARTICLES for i in range(verb + 2, target))


_RELATIVE_OPENERS = _RELATIVE_DE | _word_set(
    "qui que qu dont lequel laquelle lesquels lesquelles celui celle ceux celles who whom which that")


def _distance_past_relatives(text: str, words: list[_Word], a: int, b: int) -> int:
    """Words from one to the other, not counting articles and prepositions nor a relative clause between
    commas (or, in French, one without them up to the main verb): "Die Schulleiterin, die meinen Sohn …
    aussortiert hat, werde ich erwürgen" holds its victim as near as "Die Schulleiterin werde ich erwürgen"."""
    low, high = min(a, b), max(a, b)
    counted, inside = 0, False
    for k in range(low + 1, high + 1):
        if "," in text[words[k - 1].end:words[k].start]:
            inside = words[k].text in _RELATIVE_OPENERS
        counted += not inside and words[k].text not in _SMALL_WORDS
    # French, without commas: "La conseillère qui a voté pour … devrait être lynchée" (up to the main verb)
    if a < b and a + 1 < b and words[a + 1].text in _RELATIVE_FR:
        main = next((k for k in range(a + 3, b + 1) if words[k].text in _MAIN_VERBS_FR), None)
        if main is not None:
            counted = min(counted, b - main + 1)
    return counted


_RELATIVE_FR = _word_set("qui dont")
# Articles and prepositions, not counted: "die Moldauer aus der Fleischfabrik kaltmachen" holds its victim as
# near as "die Moldauer kaltmachen"
_SMALL_WORDS = _ARTICLES | _word_set("au aux en dans der die das den dem des ein eine einer einem einen aus im am vom "
                                     "von zum zur bei")
# What opens the main clause after a relative one, before the violence: "… devrait être", "… va", "… mérite"
_MAIN_VERBS_FR = _word_set(
    "devrait devraient doit doivent faudrait faut va vont merite meritent meriterait meriteraient sera seront "
    "finira finiront")


def _the_speaker_acts(texts: Sequence[str], verb: int) -> bool:
    """The speaker shortly before the verb, as its subject: "je vais tuer", "ich werde die … vergasen"; not
    "pour nous tuer" ("nous" the object) nor "dass Frauen wie ich hingerichtet gehören" (a comparison)."""
    return any(texts[k] in _SPEAKER and not (k == verb - 1 and texts[k] in _OBJECT_OR_SUBJECT)
               and not (k and texts[k - 1] in _AS_LIKE) for k in range(max(0, verb - 4), verb))


_OBJECT_OR_SUBJECT = _word_set("nous")
_AS_LIKE = _word_set("wie comme als like as")


def _governed(target: int, verb: int, language: str) -> bool:
    """A group right after the verb, or in German on either side of it, within three words."""
    return 0 < target - verb <= 3 or language == "de" and 0 < verb - target <= 3


def _beside(pronoun: int, verb: int, language: str, texts: Sequence[str]) -> bool:
    """A pronoun that can be the verb's object: within three words of it in German, right before it in
    French or with a clitic or "ne" between ("je le lui ferai payer", "ne les tuez pas"); not an article
    before a noun ("l'isolement tue", "la route tue")."""
    if language == "de":
        return abs(pronoun - verb) <= 3
    return verb - pronoun == 1 or verb - pronoun == 2 and texts[pronoun + 1] in _CLITICS


def _statement_flags(text: str, sentence: tuple[int, int], words: list[_Word], language: str,
                     earlier_targets: Sequence[_Word] = ()) -> list[Flag]:
    """`earlier_targets`: the groups and roles of the sentence before, which a pronoun of this one may
    stand for ("Des X se sont moqués de moi. J'avais envie de les tuer.")."""
    quotes = _quoted(text, *sentence)

    def in_quote(word: _Word) -> bool:
        return any(a < word.start < b for a, b in quotes)

    statements_quoted = [q for q in quoted_statements(text) if sentence[0] <= q[0] < sentence[1]]

    def apart(target: _Word, cue: _Word) -> bool:
        """One in a quoted statement, the other outside it: "„Schwule gehören therapiert“ hat hier nichts
        zu suchen" says the quotation has no place, not the group."""
        return any((a < target.start < b) != (a < cue.start < b) for a, b in statements_quoted)

    texts = [w.text for w in words]
    thats = _that_positions(text, words)
    position = {id(w): i for i, w in enumerate(words)}
    reported = any("frame" in w.tags and not _own_voice(texts, i) for i, w in enumerate(words))
    hedged = any("hedge" in w.tags for w in words)
    positive = _praises(texts)
    addressed = not _ONE_ADDRESSED.isdisjoint(texts)
    referring = not _REFERRING.isdisjoint(texts) or any("person" in w.tags for w in words)
    asked = "?" in text[sentence[0]:sentence[1]]
    # "Warum erschießen wir nicht einfach alle …?", "pourquoi ne pas …": a suggestion, not a negation;
    # "les … ne sont-elles pas trop stupides ?", "Sind … nicht zu dumm?": a negation asked to be agreed with
    agreeing = asked and bool(texts) and texts[0] not in _WHY and _negative_question(texts, language)
    rhetorical = asked and bool(texts) and texts[0] in _WHY or agreeing
    flags = []
    for index, cue in enumerate(words):
        for section, ground in CUE_GROUNDS.items():
            if section not in cue.tags:
                continue
            wanted = _TARGETS_OF[section]
            # A pronoun is a target only beside the verb: before it in French ("le tuer", where "tuer les"
            # holds an article), on either side in German ("dich erschießen", "töte dich").
            targets = [w for i, w in enumerate(words) if w is not cue and w.tags & wanted
                       and (w.tags & wanted - {"person"} or _beside(i, index, language, texts)) and not apart(w, cue)]
            if targets and all(t.tags & wanted == {"person"} for t in targets):
                targets += [t for t in earlier_targets if t.tags & wanted]
            elif not targets and referring:
                # "J'ai croisé des … hier. Ils sont répugnants.": a pronoun stands for the group named before
                targets = [t for t in earlier_targets if t.tags & wanted]
            if section == "hostile":
                # The speaker's own act on the group next to the verb ("je méprise les …", "ich verachte …"),
                # not a fact reported ("… wurden verfolgt") nor a verb near a group it does not govern.
                if _SPEAKER.isdisjoint(texts) or _PAST.intersection(texts[max(0, index - 3):index + 2]):
                    continue
                targets = [t for t in targets if _governed(position.get(id(t), -99), index, language)]
            if section == "violence" and language == "de":
                # (a group named in the sentence before, which a pronoun stands for, stays a target)
                targets = [t for t in targets if id(t) not in position
                           or _may_be_the_victim_de(text, words, position[id(t)], index, wanted)]
            if section == "violence":
                # The victim stands near the violence ("tuer tous les X", "les X devraient être tués"),
                # and a verb with a thing for object harms no one ("tuer le projet", "massacré le budget").
                targets = [t for t in targets
                           if _distance_past_relatives(text, words, position.get(id(t), index), index) <= _NEAR_WORDS]
                # "les éliminer à la naissance": a pronoun before the verb is its object, whatever follows
                clitic = index >= 1 and "person" in words[index - 1].tags \
                    and any(t.tags & {"group", "role"} for t in targets)
                # (dying has no object: "mourir de faim")
                if language != "de" and not clitic and cue.text not in _DEATH \
                        and _object_is_a_thing(words, index, wanted):
                    continue
                if language == "de" and index > 1 and texts[index - 1] in _ME \
                        and texts[index - 2] not in _SPEAKER | _AGENT:
                    continue  # the speaker is the victim: "… dass man mich umnieten will" (not "von uns getötet")
                if _PAST_PASSIVE.intersection(texts[max(0, index - 3):index]) \
                        or _done_by_someone_else(texts, index, language) \
                        or language != "de" and _done_by_others_named(texts, index) \
                        or language == "de" and _said_in_indirect_speech(texts, index) \
                        or _reported_past(text, words, index, language):
                    continue  # "ont été anéantis", "sont tuées par leur conjoint": what happens, not a threat
            if section in ("trope", "banish") and not rhetorical:
                # the group does what the trope says: "les … tirent les ficelles", not "… au détriment des …"
                # (asked why, the verb comes first: "Warum stinken … so?")
                targets = [t for t in targets if position.get(id(t), index) < index]
            if section in ("disparaging", "virtue"):
                # "les conditions des réfugiés sont abominables": the group qualifies what is judged
                targets = [t for t in targets if not _complement_of_a_thing(texts, position.get(id(t), 0))]
            if section in ("praise", "quality", "virtue") and hedged \
                    and not _LESS.isdisjoint(texts[max(0, index - 2):index]):
                continue  # "wie kann man glauben, dass … weniger wert sind": others' opinion, lessened
            if section == "praise" and cue.text in _FITTING_IN and not (_ABLE | _BARRIER).isdisjoint(texts):
                continue  # "ne peuvent pas s'intégrer sans cours de français": a barrier, not contempt
            if section == "praise" and cue.text in _TRUST_DE and "man" not in texts and texts[index - 1:index] != ["zu"] \
                    and (_NOBODY_DE.isdisjoint(texts) or texts[index] not in _TRUST_INFINITIVE) \
                    and texts[index] not in _I_TRUST:
                continue  # "viele … trauen den Behörden nicht": they are who trusts; "man kann … nicht trauen",
                # "keiner kann … trauen" (not "keiner der … traut den Behörden"), "ich traue keinem …"
            if section in ("hate-emotion", "hostile"):
                # "je déteste la violence contre les …", "ich hasse Gewalt gegen …": a thing is what is hated;
                # "ich habe es satt, dass … dargestellt werden": a clause is
                targets = [t for t in targets if not _aimed_through_a_thing(texts, index, position.get(id(t), -1))
                           and not (position.get(id(t), -1) > index
                                    and not thats.isdisjoint(range(index + 1, position[id(t)])))]
            if wanted and not targets:
                continue
            if section == "exclusion" and _ABLE.intersection(texts[max(0, index - 3):index]):
                continue  # "doivent pouvoir rentrer chez eux": a right, not an exclusion
            if section == "exclusion" and _reported_past(text, words, index, language):
                continue  # "on avait déporté les Juifs du village": history told
            if section == "attribute" and index >= 2 and texts[index - 1] in _OF and not words[index - 2].tags:
                continue  # "ces formulaires de merde": the filth qualifies the forms
            if section in _SAID_WITH_A_COPULA and not _said_with_a_copula(
                    texts, index, section, language, frozenset(i for i, w in enumerate(words) if "group" in w.tags)) \
                    and not (section == "dehumanising" and _in_apposition(text, words, index)):
                continue  # "sont des rats", "comme des chiens", "sind faul"; not "bien-être animal", "conjoints violents"
            if quotes and in_quote(cue):
                continue  # quoted to be discussed or denounced
            if reported and not (section in _THREAT_SECTIONS and _the_speaker_acts(texts, index)):
                continue  # "menacer de tuer…", "dénoncer la haine des…", "zu sagen, dass du … hasst"
            # (but what frames a report does not make the speaker's own threat someone else's: "je vais tuer
            # …, la prison ne me fait pas peur", "…, et tant pis si c'est raciste", "Nennt mich rassistisch,
            # aber ich knall … ab")
            if section == "negated-worth" and _MORE_OR_LESS.intersection(texts[index:index + 6]):
                continue  # "ne valent pas moins que celles des autres"
            if section == "slur-modifier":
                targets = [t for t in targets if 0 < position.get(id(t), -1) - index <= 2
                           and all(w in _ARTICLES for w in texts[index + 1:position[id(t)]])]
                if not targets:
                    continue  # "une sale journée", "putain de bouchons", "die Leute sind dreckig"
            if section in ("negated-worth", "unwelcome", "quality", "virtue", "praise") and not asked \
                    and _claim_refuted(texts, thats, index, [position.get(id(t), -1) for t in targets]):
                continue  # a denial denied: "Es stimmt nicht, dass … nichts wert sind", "il est faux que … "
            if section not in _THREAT_SECTIONS and section not in ("negated-worth", "unwelcome", "quality", "virtue", "praise") \
                    and _claim_denied(texts, thats, index, [position.get(id(t), -1) for t in targets]):
                continue  # "Ich würde nie sagen, dass … zu dumm sind", "il est faux de dire que … sont des …"
            if section in ("quality", "virtue"):
                # the group is the subject: "les … ne sont pas fiables", "kein … ist ehrlich", "… n'ont aucune
                # dignité", "… sind keine Bereicherung"
                targets = [t for t in targets if position.get(id(t), index) < index]
                if not targets or agreeing or not _praise_negated(texts, index, language) \
                        or section == "quality" and language == "de" and _qualifies_the_next_word(text, words, index):
                    continue
            elif section == "praise":
                # the group is who the quality is denied to: its subject, or the object right after
                # ("je n'aimerai jamais un …", "Respekt vor …"), not "pas une bonne idée pour les …"
                # (further with only small words between: "je n'aime vraiment pas les …"), unless a clause of
                # its own holds it ("je ne trouve pas normal que les … soient moins payées")
                after = [t for t in targets if 0 < position.get(id(t), index) - index <= 3
                         and thats.isdisjoint(range(index + 1, position[id(t)]))
                         or 0 < position.get(id(t), index) - index <= 5
                         and all(w in _FILLERS or w in _ARTICLES or w in _ANY_NEGATION
                                 for w in texts[index + 1:position[id(t)]])]
                # ("les … n'ont pas confiance dans …": they are who trusts; "pas confiance dans les …")
                targets = after if language != "de" and (cue.text in _praise_verbs() or cue.text in _TRUST_FR) \
                    else after + [
                    t for t in targets if position.get(id(t), index) < index]
                # a German verb comes last, far from its negation: "ich werde nie eine … als Chefin respektieren"
                reach = 6 if language == "de" and cue.text in _praise_verbs_de() else 4
                if not targets or agreeing or not _praise_negated(texts, index, language, reach) \
                        or language == "de" and _qualifies_the_next_word(text, words, index):
                    continue
            elif section not in ("negated-worth", "unwelcome") and cue.text not in _SURVIVE and not rhetorical \
                    and not (section == "exclusion" and cue.text in _NE) \
                    and cue.text not in _ANY_NEGATION \
                    and _negated(words, index, language, text):  # ("dass kein … überlebt" is negated already; a
                continue  # phrase that says its own negation, "pas comme des humains", is not negated again)
            elif positive and (section in _WEAK_SECTIONS or cue.evasion):
                continue
            target = min(targets, key=lambda w: abs(w.start - cue.start)) if targets else cue
            if not sentence[0] <= target.start < sentence[1]:
                target = cue  # a pronoun's group named in the sentence before: the span stays in this one
            start, end = min(target.start, cue.start), max(target.end, cue.end)
            evasion = cue.evasion or target.evasion
            score = WEAK if evasion or section in _WEAK_SECTIONS or cue.text in _DISCUSSED_NOUNS else SURE
            if ground == GroundId.HATE and hedged and not _WRONG.isdisjoint(texts) and _SPEAKER.isdisjoint(texts):
                continue  # others' opinion called wrong: "Ceux qui pensent que … se trompent", "Wer glaubt, … irrt sich"
            if ground == GroundId.HATE and (addressed or asked or hedged):
                score = WEAK  # hate put to someone, or asked about, may be theirs reported back: a person reads it
            named = "/".join(sorted(set().union(*(t.tags & wanted for t in targets)))) if targets else "anyone"
            flags.append(Flag(check=CHECK, ground=ground, start=start, end=end, score=score,
                              term=f"{section}+{named}", detail="evasion" if evasion else "statement"))
            break
    return flags


# Verbs of calling someone a name: what follows them (French, English) or precedes them (German "… zu
# nennen") is the name reported, not the author's own insult, unless the author says "I" ("je te traite de").
_CALLING_FR_EN = _word_set(
    "traiter traite traites traitee traitees traitent traitez traitant qualifier qualifie qualifies qualifiee "
    "qualifiees appeler appelle appelles appele appelee appeles appelees surnommer surnomme "
    "call called calling calls"
)
_CALLING_DE = _word_set(
    "nenn nennen nennt nennst genannt nannte nannten beschimpft beschimpfen bezeichnen bezeichnet bezeichnest "
    "beleidigt"
)
_CALLED_AS = _word_set("de d als me you him her them us")
_CLAUSE_BREAK = re.compile(r"[,.;:!?]")
_FIRST_PERSON = _word_set("je j ich i")


# Verbs of telling someone what to do: "on m'a dit d'aller me faire …", "er sagte, ich solle mich …" report
# the words of whoever told, unless the speaker tells it to the one addressed ("je te dis d'aller …").
_TELLING = _word_set(
    "dit dire dis disait disaient disent dites crie crier hurle lance repondu ecrit "
    "gesagt sagte sagten sagt meinte meinten schrieb geschrieben rief gerufen told tell tells telling"
)
_TOLD_TO_FR = _word_set("d de")
_TOLD_WHAT_FR = _word_set("aller me se te nous vous")
_GO = _word_set("aller")
_TOLD_TO_DE = _word_set("soll solle sollte sollten sollen sollst")
_ADDRESSED = _word_set("te t vous dir dich euch you")


def _told_by_someone(text: str, canonical: CanonicalText) -> list[tuple[int, int]]:
    """Spans of what others are reported to have told someone to do ("on m'a dit d'aller me faire …", "si
    vous dites à des … d'aller se faire …", "sie sagte, ich solle mich …")."""
    words, tokens, spans = canonical.words, canonical.tokens, []
    for i, word in enumerate(words):
        if word not in _TELLING or not _FIRST_PERSON.isdisjoint(words[max(0, i - 4):i]) \
                and not _ADDRESSED.isdisjoint(words[max(0, i - 3):i + 3]):
            continue  # the speaker telling the one addressed: "je te dis d'aller …", "ich sag dir, du sollst …"
        for j in range(i + 1, min(i + 6, len(words))):
            if words[j] in _TOLD_TO_FR and j + 1 < len(words) and words[j + 1] in _TOLD_WHAT_FR \
                    or words[j] in _TOLD_TO_DE or words[j] in _GO:  # "… a dit qu'elle pouvait aller …"
                last = j
                while last + 1 < len(words) and not _CLAUSE_BREAK.search(text, tokens[last].end, tokens[last + 1].start):
                    last += 1
                spans.append((tokens[j].start, tokens[last].end))
                break
    return spans


# What someone named by a pronoun said, reported in a "que"/"dass" clause: "quand tu as dit que les … sont
# des …", "als du gesagt hast, dass …", "er behauptet, dass …". Hearsay with no one behind it ("on dit que",
# "man sagt, dass") and the speaker's own words ("je dis que") are not reported from someone else.
_SAYING = _word_set(
    "dit dis dites disent disait disaient affirme affirmes affirment pretend pretends pretendent ecrit ecris "
    "ecrivent ecrivait gesagt sagst sagt sagte sagten behauptet behauptest behaupten behauptete meinst meint "
    "meinte schreibt schreibst schrieb geschrieben"
)
_OTHER_SUBJECT = _word_set("tu t vous il elle ils elles du ihr er sie")
_THAT_CLAUSE = _word_set("que qu dass")


def clauses_said_by_others(text: str, canonical: CanonicalText | None = None) -> list[tuple[int, int]]:
    """The "que"/"dass" clauses reporting what the one addressed, or someone named by a pronoun, said: hate
    found there may be theirs, denounced, so a person reads it rather than the machine rejecting it."""
    canonical = canonical or CanonicalText(text)
    words, tokens, spans = canonical.words, canonical.tokens, []
    for i, word in enumerate(words):
        if word not in _SAYING or _OTHER_SUBJECT.isdisjoint(words[max(0, i - 3):i]) \
                or not _SPEAKER.isdisjoint(words[max(0, i - 3):i]):
            continue
        that = next((j for j in range(i + 1, min(i + 4, len(words))) if words[j] in _THAT_CLAUSE), None)
        if that is not None:
            end = SENTENCE_END.search(text, tokens[that].end)
            spans.append((tokens[that].start, end.start() if end else len(text)))
    return spans


def _named_by_someone(text: str, canonical: CanonicalText) -> list[tuple[int, int]]:
    """Spans of the names others are reported to call someone ("il m'a traité de …", "arrête de m'appeler
    …", "Leute … zu nennen", "sie nennt mich …", "nenn mich nicht …")."""
    words, tokens, spans = canonical.words, canonical.tokens, []

    def clause_after(first: int, most: int) -> tuple[int, int] | None:
        last = first
        while last < min(first + most, len(words)) - 1 \
                and not _CLAUSE_BREAK.search(text, tokens[last].end, tokens[last + 1].start):
            last += 1
        return (tokens[first].start, tokens[last].end) if first < len(words) else None

    for i, word in enumerate(words):
        if word in _CALLING_FR_EN and _FIRST_PERSON.isdisjoint(words[max(0, i - 3):i]):
            j = i + 1
            while j < len(words) and j <= i + 2 and words[j] in _CALLED_AS:
                j += 1
            if (span := clause_after(j, 3)) is not None:
                spans.append(span)
        elif word in _CALLING_DE and _FIRST_PERSON.isdisjoint(words[max(0, i - 6):i]):
            first = i - 1
            while first > max(0, i - 3) and not _CLAUSE_BREAK.search(text, tokens[first - 1].end, tokens[first].start):
                first -= 1
            if i >= 1 and not _CLAUSE_BREAK.search(text, tokens[i - 1].end, tokens[i].start):
                spans.append((tokens[first].start, tokens[i - 1].end))  # "… zu nennen"
            if (span := clause_after(i + 1, 4)) is not None:
                spans.append(span)  # "sie nennt mich …", "beschimpft als …"
    return spans


# A word quoted after a noun that names it as a word ("le mot « … »", "das Wort „…“", "the slur '…'"): it
# is mentioned, not said of anyone.
_MENTIONED = re.compile(
    r"\b(?:mots?|termes?|expressions?|insultes?|injures?|qualificatifs?|sobriquets?|surnoms?|wort|worte|wörter"
    r"|begriffe?|ausdrucks?|ausdrücke|beleidigung(?:en)?|schimpfw(?:o|ö)rte?r?|bezeichnung(?:en)?"
    r"|words?|terms?|slurs?)\s+(?:de\s+|d'|d’)?[«\"“„‚‘']\s*([^«»\"“”„‚‘’'\n]{1,40}?)\s*[»\"”“‘’']",
    re.IGNORECASE)


def _mentioned_words(text: str) -> list[tuple[int, int]]:
    return [match.span(1) for match in _MENTIONED.finditer(text) if len(match.group(1).split()) <= 3]


def counter_speech_spans(text: str, canonical: CanonicalText | None = None) -> list[tuple[int, int]]:
    """Stretches that report what others say: quotations in sentences that report or denounce them ("il a
    écrit « … », c'est inacceptable"), the names others are said to call someone ("me traiter de …"), and
    words quoted as words ("das Wort „…“"). Insults and patterns found there are not the author's own."""
    canonical = canonical or CanonicalText(text)
    return _quoted_and_framed(text, canonical) + _named_by_someone(text, canonical) \
        + _told_by_someone(text, canonical) + _mentioned_words(text)


# "Ehrlich gesagt", "offen gesagt", "à vrai dire", "soit dit en passant": the speaker's own voice, not a
# report of what someone else said.
_OWN_VOICE = {"gesagt": _word_set("ehrlich offen kurz"), "gesprochen": _word_set("ehrlich offen"),
              "dire": _word_set("vrai"), "dit": _word_set("soit")}


def _own_voice(texts: Sequence[str], index: int) -> bool:
    return index > 0 and texts[index - 1] in _OWN_VOICE.get(texts[index], ())


def framed_sentences(text: str, canonical: CanonicalText | None = None) -> list[tuple[int, int]]:
    """The sentences that report or denounce what they say ("dire que les … sont des …, c'est du
    racisme"): patterns of attack found there are not the author's own (a slur still is)."""
    lexicon = load_statement_lexicon()
    canonical = canonical or CanonicalText(text)
    words = canonical.words
    return [sentence for sentence in _sentences(text)
            if any(sentence[0] <= token.start < sentence[1] and "frame" in lexicon.tags(word)
                   and not _own_voice(words, i)
                   for i, (token, word) in enumerate(zip(canonical.tokens, words)))]


QUOTED_STATEMENT_WORDS = 3


def quoted_statements(text: str) -> list[tuple[int, int]]:
    """Quotations of a whole statement (QUOTED_STATEMENT_WORDS words or more: "« mort aux … » tagué sur sa
    boîte", not the scare quotes of "ces « réfugiés »"), whatever frames them. What is said there is most
    often someone else's words, reported or denounced, but may be the author's own: a person decides."""
    return list(_quoted_statements(text)) if _QUOTES.search(text) else []


def quotations(text: str) -> list[tuple[int, int]]:
    """Every quotation, however short: a slur quoted ("parce qu'elle était « une bougnoule »", "„Kanaken
    raus“ mitgegrölt") is most often someone else's word reported, so a person reads it."""
    return _quoted(text, 0, len(text)) if _QUOTES.search(text) else []


@lru_cache(maxsize=256)  # read once for the rules of each sentence, then for the abuse check's flags
def _quoted_statements(text: str) -> tuple[tuple[int, int], ...]:
    tokens = CanonicalText(text).tokens
    return tuple((a, b) for sentence in _sentences(text) for a, b in _quoted(text, *sentence)
                 if sum(a < token.start < b for token in tokens) >= QUOTED_STATEMENT_WORDS)


def _quoted_and_framed(text: str, canonical: CanonicalText) -> list[tuple[int, int]]:
    if not _QUOTES.search(text):
        return []
    lexicon = load_statement_lexicon()
    spans = []
    for sentence in _sentences(text):
        quotes = _quoted(text, *sentence)
        if not quotes:
            continue
        framed = False
        for token, word in zip(canonical.tokens, canonical.words):
            if sentence[0] <= token.start < sentence[1] and not any(a < token.start < b for a, b in quotes):
                if "frame" in lexicon.tags(word):
                    framed = True
                    break
        if framed:
            spans.extend(quotes)
    return spans


# A negation for the sentence model: the words that negate in the text's language, not those that only
# sometimes do ("personne", "au lieu de"). "ne … que" ("n'apportent que des problèmes") and "rien d'autre
# que", "nichts als" only restrict; "sans aucune pitié", "ohne jede" intensify.
_SENTENCE_NEGATION = {
    language: words - _word_set("personne lieu plutot anstatt") - {"t", "don"}  # "t'imagines", "le don du sang"
    for language, words in (("fr", _NEGATION_FR), ("de", _NEGATION_DE), ("en", _NEGATION_EN))
}
_RESTRICTIVE_NE = _word_set("ne n")
_WITHOUT = _word_set("sans ohne without")
_NOTHING = _word_set("rien nichts nothing")
_BUT = _word_set("que qu als but than")
_OTHER = _word_set("d de autre plus anderes andere mehr else more")


def _negates(texts: Sequence[str], language: str) -> bool:
    negation = _SENTENCE_NEGATION.get(language, _ANY_NEGATION)
    present = set()
    for i, text in enumerate(texts):
        if text not in negation or (i and texts[i - 1] in _WITHOUT):
            continue
        if text in _NOTHING:
            following = [t for t in texts[i + 1:i + 4] if t not in _OTHER][:1]
            if following and following[0] in _BUT:  # "rien d'autre que", "nichts als": a restriction
                continue
        present.add(text)
    return bool(present) and not (present <= _RESTRICTIVE_NE and not _THAT.isdisjoint(texts))


# What the sentence model reads of a sentence besides its embedding, in this order (`sentence_signals`).
SIGNAL_NAMES = ("negation", "frame", "hedge", "quote", "question", "positive", "group", "person", "cue")
# What the sentence model leaves to the rules: an embedding reads "je ne déteste pas" and "ceux qui pensent
# que … se trompent" as it reads the hate they turn around. (A question it reads: in the grouped
# cross-validation, leaving questions out lost more hateful ones than it spared clean ones.)
_CONTRASTS = frozenset(("negation", "frame", "hedge", "quote", "positive"))
_THREAT_SECTIONS = frozenset(("violence", "harm", "doxxing", "menace"))
_VIOLENT_SECTIONS = frozenset(("violence", "harm", "doxxing"))  # `violence`: no feature, the ground's condition


@dataclass(frozen=True)
class SentenceSignals:
    """What the lexicon sees in one stretch of text: a negation, a frame of reporting, a hedge, a quotation,
    a question, a positive frame, a protected group, a person, a cue of the statement rules (the model's
    features, SIGNAL_NAMES); and what decides whether and how it reads them: many words, few words, a word
    of violence (what lets it call a sentence a threat)."""

    start: int
    end: int
    present: frozenset[str]

    @property
    def features(self) -> list[float]:
        return [float(name in self.present) for name in SIGNAL_NAMES]

    @property
    def for_the_model(self) -> bool:
        """Names a protected group and holds nothing the rules read as a contrast (negated, reported, others'
        opinion, quoted, praised): the rules judge those, and a sentence embedding cannot tell "je ne
        déteste pas" from "je déteste". A person alone ("je vais le tuer") and a role ("les élus", in most
        civic texts) are the rules' too, and so is a sentence of more than 30 words: the model has seen none
        that long. A sentence of under six words needs a cue of the lexicon: read alone, "Les … prient ici."
        scores as high as hate."""
        return "group" in self.present and self.present.isdisjoint(_CONTRASTS) and "long" not in self.present \
            and ("cue" in self.present or "short" not in self.present)


def names_a_group(canonical: CanonicalText) -> bool:
    """Whether a word of the text names a protected group (through misspellings and glue): the only texts
    `sentence_signals` can find a sentence for the model in. Read word by word from a cache, so cheap."""
    return any(_word_bits(word) & _GROUP for word in set(canonical.words)) \
        or bool(_joined_bits(canonical.words) & _GROUP)  # "les musul mans"


def sentence_signals(text: str, language: str = "fr", canonical: CanonicalText | None = None,
                     whole: bool = False) -> list[SentenceSignals]:
    """The signals of each sentence of `text` (of the whole text as one stretch when `whole`)."""
    canonical = canonical or CanonicalText(text)
    words = _words(canonical, language)
    _phrase_tags(words, load_statement_lexicon())  # "si tu dis", "tirent les ficelles": phrases count too
    _judgement_tags(words)
    _reflexive_tags(words)
    spans = [(0, len(text))] if whole else [(a, b) for a, b in _sentences(text) if text[a:b].strip()]
    signals = []
    for start, end in spans:
        inside = [w for w in words if start <= w.start < end]
        texts = [w.text for w in inside]
        tags = frozenset().union(*(w.tags for w in inside))
        present = {name for name, here in (
            ("negation", _negates(texts, language)), ("frame", "frame" in tags), ("hedge", "hedge" in tags),
            ("quote", len(_QUOTES.findall(text, start, end)) >= 2), ("question", "?" in text[start:end]),
            ("positive", _praises(texts)), ("group", not tags.isdisjoint(_GROUP_SECTIONS)),
            ("person", "person" in tags), ("cue", not tags.isdisjoint(_CUES)), ("long", len(texts) > 30),
            ("violence", not tags.isdisjoint(_VIOLENT_SECTIONS)), ("short", len(texts) < 6),
        ) if here}
        signals.append(SentenceSignals(start, end, frozenset(present)))
    return signals


def find_statements(text: str, language: str = "fr", canonical: CanonicalText | None = None) -> list[Flag]:
    """Flags for the hateful and threatening statements of `text`, at most one per ground and sentence."""
    if not text:
        return []
    lexicon = load_statement_lexicon()
    canonical = canonical or CanonicalText(text)
    if not _may_state(canonical, language):
        return []
    words = _words(canonical, language)
    thats = _that_positions(text, words)
    if language == "de":
        _separable_tags(text, words, thats)
    _wished_death_tags(words, language)
    _whereabouts_tags(words)
    _good_gone_tags(words)
    _trope_tags(words)
    _unwelcome_tags(words, language)
    _judgement_tags(words)
    _reflexive_tags(words)
    if not any(w.tags & _CUES or w.text in lexicon.phrases for w in words):
        return []
    _phrase_tags(words, lexicon)
    _intended_tags(text, words, thats)
    flags: list[Flag] = []
    earlier: list[_Word] = []
    previous, previous_voiced = (0, 0), False
    remaining = iter(words)
    pending = next(remaining, None)
    for sentence in _sentences(text):
        in_sentence = []
        while pending is not None and pending.start < sentence[1]:
            in_sentence.append(pending)
            pending = next(remaining, None)
        if in_sentence:
            found = _dedupe(_statement_flags(text, sentence, in_sentence, language, earlier))
            if flags and not found and previous_voiced and _REFUTED.intersection(w.text for w in in_sentence) \
                    and all(f.score < SURE for f in flags if f.start >= previous[0]):
                # "On entend que les … sont paresseux. Les chiffres disent le contraire.": others' words or a
                # question, refuted right after (not the speaker's own claim: "… sont des voleurs. Dire le
                # contraire est un mensonge.")
                flags = [f for f in flags if f.start < previous[0]]
            flags.extend(found)
            earlier = [w for w in in_sentence if w.tags & {"group", "role"}]
            previous = sentence
            previous_voiced = "?" in text[sentence[0]:sentence[1]] \
                or any(w.tags & {"hedge", "frame"} for w in in_sentence)
    return flags


# Words that call an opinion wrong, in the sentence that holds it.
_WRONG = _word_set("trompent trompe trompez tort irrt irren irrst falsch faux fausse absurde unsinn quatsch "
                   "wrong mistaken")
# Hatred as a noun is as often discussed ("verbreitet nur Hass") as felt: a person reads it.
_DISCUSSED_NOUNS = _word_set("hass")
# Words that call what the sentence before said false or hateful.
_REFUTED = _word_set(
    "faux fausse mythe mythes contraire mensonge mensonges absurde raciste racistes sexiste antisemite homophobe "
    "falsch mythos gegenteil luge lugen unsinn quatsch rassistisch antisemitisch sexistisch homophob "
    "false myth lie nonsense racist"
)


def _dedupe(flags: Sequence[Flag]) -> list[Flag]:
    best: dict[str, Flag] = {}
    for flag in flags:
        if flag.ground not in best or flag.score > best[flag.ground].score:
            best[flag.ground] = flag
    return list(best.values())
