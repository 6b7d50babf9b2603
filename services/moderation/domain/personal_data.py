"""Personal data: found in a text, then masked with a typed placeholder before anything is published.

Kinds: e-mail addresses, phone numbers of the network's countries, IBANs and French NIRs (checked by
their checksums), postal addresses, and person names (spaCy entities plus the cues around them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

from .charter import DATA_DIR, GroundId
from .flags import Flag
from .text import by_first_letter, canonical_word, fold

CHECK = "personal-data"
NETWORK_REGIONS = ("FR", "BE", "CA", "CI", "MA", "CM", "DE")

PLACEHOLDERS = {
    "email": "[courriel]",
    "phone": "[téléphone]",
    "iban": "[iban]",
    "nir": "[nir]",
    "address": "[adresse]",
    "name": "[nom]",
}
# When two findings overlap, the more specific kind wins (an IBAN is not also a phone number).
_PRIORITY = {"email": 0, "iban": 1, "nir": 2, "phone": 3, "address": 4, "name": 5}
_SCORE = {"email": 0.99, "iban": 0.99, "nir": 0.99, "phone": 0.95, "address": 0.85, "name": 0.75}


# Phone numbers, IBANs, NIRs and postal addresses all hold digits, which many texts have none of.
_DIGIT = re.compile(r"\d")


def _flag(kind: str, start: int, end: int, score: float | None = None, detail: str | None = None) -> Flag:
    return Flag(check=CHECK, ground=GroundId.PERSONAL_DATA, start=start, end=end,
                score=_SCORE[kind] if score is None else score, kind=kind, term=kind, detail=detail)


# --- e-mail -----------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+(?:@|\s?\[at\]\s?|\s?\(at\)\s?)[\w-]+(?:(?:\.|\s?\[dot\]\s?|\s?\(point\)\s?)[\w-]+)*\.[a-z]{2,24}(?![\w-])",
    re.IGNORECASE,
)


_SPELLED_AT = re.compile(r"[\[(]at[\])]", re.IGNORECASE)


def find_emails(text: str) -> list[Flag]:
    if "@" not in text and not _SPELLED_AT.search(text):
        return []
    return [_flag("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]


# --- phone numbers ----------------------------------------------------------------------------------

# A run of at least 8 digits, possibly grouped by spaces, dots, dashes, slashes or brackets.
# The lookahead names the characters a run starts with: the search skips the others at once.
_DIGIT_RUN = re.compile(r"(?=[+(\d])\+?\(?\d(?:[\s./\-()]{0,3}\d){7,}")
_AFTER_AMOUNT = re.compile(r"\s?(?:€|euros?|eur\b|\$|dollars?|francs?|fcfa|dh|dirhams?|%|habitants|km|m2|m²|tonnes|kwh)", re.I)


def _looks_like_phone(raw: str, region: str) -> bool:
    """Guard against amounts and identifiers that happen to be valid numbers somewhere."""
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") or raw.startswith("00") or raw.startswith("(+"):
        return True
    if digits.startswith("0"):
        return True
    # National numbers without a trunk zero: North America (10 digits) and Cameroon (9 digits).
    if region == "CA":
        return len(digits) == 10 and bool(re.search(r"[\s.\-()]", raw))
    if region == "CM":
        return len(digits) == 9 and digits[0] in "26"
    return False


def find_phones(text: str, regions: Sequence[str] = NETWORK_REGIONS) -> list[Flag]:
    if not _DIGIT.search(text) or not _DIGIT_RUN.search(text):
        return []
    found: dict[tuple[int, int], Flag] = {}
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if not _looks_like_phone(match.raw_string, region):
                continue
            if _AFTER_AMOUNT.match(text, match.end):
                continue
            key = (match.start, match.end)
            if key not in found:
                found[key] = _flag("phone", match.start, match.end,
                                   detail=phonenumbers.region_code_for_number(match.number))
    flags = list(found.values())
    for run in _DIGIT_RUN.finditer(text):
        # Parts of the run that no number covers yet.
        position = run.start()
        for covered in sorted((f for f in flags if f.start < run.end() and run.start() < f.end), key=lambda f: f.start):
            if covered.start - position >= 8:
                flags += _split_glued_numbers(text, position, covered.start, regions)
            position = max(position, covered.end)
        if run.end() - position >= 8:
            flags += _split_glued_numbers(text, position, run.end(), regions)
    return flags


def _split_glued_numbers(text: str, start: int, end: int, regions: Sequence[str]) -> list[Flag]:
    """Numbers written one after the other ("06 12 34 56 78 01 42 68 53 00") read as one long run by the
    matcher: try each number that starts the run, longest first."""
    flags = []
    position = start
    while position < end:
        starts_number = text[position] in "+(" or text[position].isdigit() and (position == 0 or not text[position - 1].isdigit())
        if not starts_number:
            position += 1
            continue
        found = None
        boundaries = [i for i in range(end, position + 7, -1) if text[i - 1].isdigit() and (i >= len(text) or not text[i].isdigit())]
        for stop in boundaries:
            candidate = text[position:stop]
            for region in regions:
                try:
                    number = phonenumbers.parse(candidate, region)
                except phonenumbers.NumberParseException:
                    continue
                if phonenumbers.is_valid_number(number) and _looks_like_phone(candidate, region):
                    found = (stop, phonenumbers.region_code_for_number(number))
                    break
            if found:
                break
        if found:
            flags.append(_flag("phone", position, found[0], detail=found[1]))
            position = found[0]
        else:
            position += 1
            while position < end and text[position].isdigit():
                position += 1
    return flags


# --- IBAN and NIR -----------------------------------------------------------------------------------

_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){10,32}")


def find_ibans(text: str) -> list[Flag]:
    if not _DIGIT.search(text):
        return []
    flags = []
    position = 0
    while match := _IBAN_CANDIDATE.search(text, position):
        candidate = match.group()
        position = match.end()
        # The pattern may have swallowed following words (even another IBAN): shrink from the right until
        # it validates, then look again right after what was found.
        for end in range(len(candidate), 13, -1):
            piece = candidate[:end]
            if piece[-1] in " -":
                continue
            if end < len(candidate) and candidate[end].isalnum() and piece[-1].isalnum() and candidate[end - 1] != " ":
                # never cut inside a group of characters
                if not candidate[end].isspace() and not candidate[end] == "-":
                    continue
            if stdnum_iban.is_valid(piece):
                flags.append(_flag("iban", match.start(), match.start() + end))
                position = match.start() + end
                break
    return flags


_NIR_CANDIDATE = re.compile(  # the lookahead as in `_DIGIT_RUN`
    r"(?=[1-478])(?<![\w])[1-478][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[ABab])[\s.]?\d{3}[\s.]?\d{3}[\s.]?\d{2}(?![\w])"
)


def find_nirs(text: str) -> list[Flag]:
    if not _DIGIT.search(text):
        return []
    flags = []
    for match in _NIR_CANDIDATE.finditer(text):
        compact = re.sub(r"[\s.]", "", match.group()).upper()
        if stdnum_nir.is_valid(compact):
            flags.append(_flag("nir", match.start(), match.end()))
    return flags


# --- postal addresses -------------------------------------------------------------------------------

_STREET_TYPE_WORDS = (
    "rue", "avenue", r"av\.", "bd", "boulevard", "place", "impasse", "all[ée]e", "chemin", "route", "quai", "cours",
    "square", "passage", "r[ée]sidence", "lotissement", "cit[ée]", "rond-point", "voie", "sentier", "esplanade",
    "promenade", "faubourg", "hameau", "lieu-dit", "parvis", "villa", "chauss[ée]e", "dr[èe]ve", "rang", "mont[ée]e",
    "chemin", r"sq\.", r"pl\.",
)
_STREET_TYPES = by_first_letter(_STREET_TYPE_WORDS)
_HOUSE_NUMBER = r"\d{1,4}(?:\s?(?:bis|ter|quater|[abcBC])\b)?"
_NAME_WORD = r"(?:[dlDL][’']\s?)?[\wÀ-ÿ][\wÀ-ÿ’'\-]*"
_STREET_STOP = {
    "et", "je", "j", "qui", "que", "qu", "a", "à", "est", "sont", "pour", "avec", "mais", "ou", "où", "donc",
    "dans", "il", "elle", "nous", "vous", "on", "ce", "cette", "depuis", "près", "pres", "car", "mon", "ma",
    "mes", "son", "sa", "ses", "notre", "votre", "leur", "un", "une", "y", "n", "ne", "pas", "au", "aux",
    "à", "en", "par", "chez", "tel", "tél", "téléphone", "email", "mail", "courriel", "c", "s", "se",
}
_PARTICLES = {"de", "du", "des", "la", "le", "les", "d", "l", "saint", "sainte", "st", "ste", "sur", "sous"}
_STREET_START = re.compile(rf"(?<![\w])({_HOUSE_NUMBER})\s*,?\s+(?:{_STREET_TYPES})(?![\w])", re.IGNORECASE)
_STREET_THEN_NUMBER = re.compile(rf"(?<![\w])(?:{_STREET_TYPES})(?![\w])", re.IGNORECASE)
_WORD_AFTER = re.compile(rf"\s+({_NAME_WORD})")
_NUMBER_AFTER_NAME = re.compile(rf",?\s+{_HOUSE_NUMBER}(?![\w])")
_POSTCODE_CITY = re.compile(
    r",?\s*(?:(?<![\d])(?:\d{5}|\d{2}\s\d{3}|\d{4})|[A-Z]\d[A-Z]\s?\d[A-Z]\d)"
    r"(?:\s+[A-ZÀ-Ý][\wÀ-ÿ’'\-]*(?:[\s\-](?:sur|sous|en|lès|les|le|la|de|du|d’|d'|[A-ZÀ-Ý][\wÀ-ÿ’'\-]*)){0,3})?"
    r"(?:\s+(?:cedex|CEDEX|Cedex)(?:\s\d{1,2})?)?"
)
# The next three patterns start with a lookahead naming their first character, as the cue patterns below.
_STANDALONE_POSTCODE_CITY = re.compile(
    r"(?=\d)(?<![\d\w€$])(?:\d{5}|2[AB]\d{3})\s+[A-ZÀ-Ý][\wÀ-ÿ’'\-]+(?:[\s\-](?:sur|sous|en|lès|les|le|la|de|du|d’|d'|[A-ZÀ-Ý][\wÀ-ÿ’'\-]*)){0,3}"
    r"(?:\s+[Cc][Ee][Dd][Ee][Xx](?:\s\d{1,2})?)?"
)
_CANADIAN_POSTCODE = re.compile(r"(?=[ABCEGHJ-NPRSTVXY])(?<![\w])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d(?![\w])")
_GERMAN_STREET = re.compile(
    r"(?=[A-ZÄÖÜ])(?<![\w])[A-ZÄÖÜ][\wäöüß\-]*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)\s+\d{1,4}\s?[a-z]?(?![\w])"
)


def _street_name_end(text: str, position: int, max_words: int = 6) -> int:
    """Extend a street name word by word; return the end of its last meaningful word (or `position`)."""
    end = position
    last_good = position
    for _ in range(max_words):
        match = _WORD_AFTER.match(text, end)
        if not match:
            break
        word = fold(match.group(1)).strip("'’")
        if word.isdigit():
            break
        bare = re.split(r"['’]", word)[-1] if "'" in word or "’" in word else word
        if word in _STREET_STOP or bare in _STREET_STOP and bare not in _PARTICLES:
            break
        end = match.end()
        if word not in _PARTICLES and not re.fullmatch(r"[dl]['’]", word):
            last_good = end
    return last_good


def find_addresses(text: str) -> list[Flag]:
    if not _DIGIT.search(text):
        return []
    flags: list[Flag] = []
    lowered_has_street = _STREET_THEN_NUMBER.search(text)
    if lowered_has_street:
        for match in _STREET_START.finditer(text):
            end = _street_name_end(text, match.end())
            if end == match.end():
                continue
            tail = _POSTCODE_CITY.match(text, end)
            if tail and re.search(r"\d", tail.group()):
                end = tail.end()
            flags.append(_flag("address", match.start(), end))
        # "Rue de la Loi 16, 1000 Bruxelles": the number after the street name.
        for match in _STREET_THEN_NUMBER.finditer(text):
            if any(f.start <= match.start() < f.end for f in flags):
                continue
            name_end = _street_name_end(text, match.end(), max_words=5)
            number = _NUMBER_AFTER_NAME.match(text, name_end)
            if name_end == match.end() or not number:
                continue
            end = number.end()
            tail = _POSTCODE_CITY.match(text, end)
            if tail and re.search(r"\d", tail.group()):
                end = tail.end()
            if match.group()[0].isupper() or re.match(r"\s*,?\s*\d{4,5}\s", text[number.end():number.end() + 8]):
                flags.append(_flag("address", match.start(), end))
    for match in _GERMAN_STREET.finditer(text):
        end = match.end()
        tail = _POSTCODE_CITY.match(text, end)
        if tail and re.search(r"\d", tail.group()):
            end = tail.end()
        flags.append(_flag("address", match.start(), end))
    for pattern in (_STANDALONE_POSTCODE_CITY, _CANADIAN_POSTCODE):
        for match in pattern.finditer(text):
            if not any(f.start <= match.start() < f.end for f in flags):
                flags.append(_flag("address", match.start(), match.end(), score=0.7))
    return flags


# --- person names -----------------------------------------------------------------------------------

def _read_words(path: Path, separator: str | None) -> frozenset[str]:
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        for entry in line.split(separator):
            entry = entry.strip()
            if entry:
                entries.add(fold(entry))
    return frozenset(entries)


@cache
def first_names() -> frozenset[str]:
    return _read_words(DATA_DIR / "names" / "first_names.txt", None)


@cache
def not_person_names() -> frozenset[str]:
    return _read_words(DATA_DIR / "names" / "not_person_names.txt", ",")


_NAME_TOKEN = r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?|[A-ZÀ-Ý]{2,}(?:-[A-ZÀ-Ý]{2,})?|[A-ZÀ-Ý]\."  # nosec B105 # a name regex, not a password
_NAME_SEQUENCE = rf"(?:{_NAME_TOKEN})(?:\s+(?:(?:de|du|le|la|van|von|der|ben|el|d['’])\s*)?(?:{_NAME_TOKEN})){{0,3}}"
# The cue patterns start with a lookahead that only names the letters their cue words start with: the
# search then skips the other characters at once instead of trying every cue word at each (twice as fast).
_TITLE_CUE = re.compile(
    rf"(?=[MDPHF])(?<![\w])(?:M\.|MM\.|Mme|Mmes|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?|Me|Monsieur|Madame|Mademoiselle|Docteur|Maître|Herr|Frau)\s+({_NAME_SEQUENCE})"
)
_INTRO_CUE = re.compile(
    r"(?=(?i:[jmi]))(?<![\w])(?:(?i:je\s+m['’]\s?appelle|mon\s+nom\s+est|moi\s+c['’]est|my\s+name\s+is|ich\s+hei(?:ß|ss)e)\s+"
    r"((?:[\wÀ-ÿ][\wÀ-ÿ\-]*)(?:\s+[\wÀ-ÿ][\wÀ-ÿ\-]*)?(?:\s+[\wÀ-ÿ][\wÀ-ÿ\-]*)?)"
    r"|(?i:je\s+suis)\s+([A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?\s+[A-ZÀ-Ý][A-Za-zà-ÿ\-]+))"
)
_SIGNATURE_CUE = re.compile(
    rf"(?=(?i:[cbsmra]))(?i:cordialement|bien\s+à\s+vous|salutations(?:\s+distinguées)?|merci(?:\s+d'avance)?|sign[ée]e?|"
    rf"best\s+regards|regards|mit\s+freundlichen\s+grüßen|amicalement|respectueusement)\s*[,.:!]?\s*\n?\s*[-–—]*\s*({_NAME_SEQUENCE})\s*\.?\s*$"
)
_DASH_SIGNATURE = re.compile(rf"\n\s*(?:--|[-–—])\s*({_NAME_SEQUENCE})\s*$")
_INTRO_STOP = {"et", "je", "j", "suis", "habite", "de", "du", "la", "le", "à", "a", "au", "et", "mais", "qui",
               "pour", "avec", "ici", "depuis", "and", "i", "und", "ich", "citoyen", "citoyenne", "habitant",
               "habitante", "agent", "agente", "élu", "élue", "retraité", "retraitée", "étudiant", "étudiante"}
_ROLE_AFTER_TITLE = {"le", "la", "les", "l"}


# "eine Frau Kopftuch trägt", "jeder Herr im Saal": after an indefinite determiner, "Frau" and "Herr" are
# nouns (not after "der" or "die": "die Frau Huber vom Bauamt" is said of a person in the south)
_DETERMINERS_DE = frozenset(
    "ein eine einer einem einen jede jeder jedem jeden diese dieser diesem diesen "
    "keine kein keiner keinem keinen welche welcher solche".split())


def _a_noun_after_a_determiner(text: str, title_start: int) -> bool:
    before = text[:title_start].split()
    return bool(before) and fold(before[-1]) in _DETERMINERS_DE


def _names_an_office(word: str) -> bool:
    from .statements import load_statement_lexicon  # (statements reads this module's word lists)

    return "role" in load_statement_lexicon().tags(canonical_word(word))


def _is_not_person(span_text: str) -> bool:
    folded = fold(span_text).strip(" .,'’")
    if folded in not_person_names():
        return True
    words = folded.split()
    return bool(words) and (words[-1] in not_person_names() and len(words) == 1)


def find_name_cues(text: str) -> list[Flag]:
    """Names announced by their context: titles (M., Mme), introductions, signatures."""
    flags = []
    for match in _TITLE_CUE.finditer(text):
        first = match.group(1).split()[0]
        if fold(first) in _ROLE_AFTER_TITLE or _is_not_person(match.group(1)) \
                or _a_noun_after_a_determiner(text, match.start()):
            continue
        start = match.start()
        if _names_an_office(first):  # "Herr Bürgermeister", "Frau Direktorin Weber": the office is no name
            rest = match.group(1)[len(first):].lstrip()
            if not rest:
                continue
            start = match.end(1) - len(rest)
        flags.append(_flag("name", start, match.end(1), score=0.9, detail="title"))
    for match in _INTRO_CUE.finditer(text):
        group = 1 if match.group(1) else 2
        if match.group(2) and _is_not_person(match.group(2)):
            continue
        words = match.group(group).split()
        kept = []
        for word in words:
            if fold(word) in {fold(w) for w in _INTRO_STOP}:
                break
            kept.append(word)
        if not kept:
            continue
        end = match.start(group) + len(" ".join(kept))
        flags.append(_flag("name", match.start(group), end, score=0.9, detail="introduction"))
    tail_start = max(0, len(text) - 160)
    for pattern in (_SIGNATURE_CUE, _DASH_SIGNATURE):
        match = pattern.search(text, tail_start)
        if match and not _is_not_person(match.group(1)):
            flags.append(_flag("name", match.start(1), match.end(1), score=0.85, detail="signature"))
    return flags


@cache
def _word_tables():
    """The model lemmatizer's tables: its index of lemmas and its lookup of inflected forms."""
    lookups = name_model().get_pipe("lemmatizer").lookups
    index: set[str] = set()
    if lookups.has_table("lemma_index"):
        from spacy.strings import get_string_id

        table = lookups.get_table("lemma_index")
        # Nouns are left out: the noun index holds surnames too (dupont, martin).
        for part_of_speech in ("adj", "adv", "verb"):
            index.update(table.get(get_string_id(part_of_speech), []))
    forms = lookups.get_table("lemma_lookup") if lookups.has_table("lemma_lookup") else {}
    return frozenset(index), forms


def is_known_word(word: str) -> bool:
    """A French common word known to the model's lemmatizer: capitalised, it is still not a name."""
    index, forms = _word_tables()
    lowered = word.lower()
    return lowered in index or lowered in forms


_NAME_WORD_SHAPE = re.compile(r"^[A-ZÀ-Ý][\wÀ-ÿ'’\-]*\.?$")
_NAME_PARTICLES = {"de", "du", "le", "la", "van", "von", "der", "ben", "el", "d'", "d’", "di", "da"}


def _bare(word: str) -> str:
    return fold(word).strip(".,'’")


def _is_first_name(word: str) -> bool:
    return _bare(word) in first_names()


def _is_unknown_name_word(word: str) -> bool:
    """A word that could be a surname: not a particle, not a listed non-person, not a common French word."""
    bare = _bare(word)
    if bare in _NAME_PARTICLES or bare in not_person_names():
        return False
    stripped = word.strip(".,'’")
    return len(stripped) <= 2 or not is_known_word(stripped)


def names_from_entities(text: str, entities: Iterable[tuple[int, int]], language: str = "fr") -> list[Flag]:
    """Keep the recogniser's PER entities that look like a private person's name.

    The small French model tags many capitalised words as persons (sentence-initial verbs, "Education
    Nationale"); an entity is kept when it holds a known first name, or when every word is capitalised,
    none is a common French word and it is not a place, a role or a public figure.
    `could_hold_person_name` relies on these rules: change both together. In German every noun is
    capitalised ("Alle Frauen"), so there only an entity holding a first name is kept.
    """
    flags = []
    for start, end in entities:
        span = text[start:end]
        # Titles are part of the cue, not of the name: "Mme Martin" -> "Martin" stays the span.
        if "\n" in span.strip() or _is_not_person(span):
            continue
        words = [w for w in re.split(r"\s+", span.strip()) if w]
        content = [w for w in words if fold(w) not in _NAME_PARTICLES]
        if not content or any(not w[0].isupper() for w in content):
            continue
        if len(content) == 1 and _bare(content[0]) in not_person_names():
            continue  # "la France": a listed place with a particle in front
        if not all(_NAME_WORD_SHAPE.match(w) for w in content) or not any(w[1:2].islower() for w in content):
            continue  # "CDD/ Intérim", "RIC", acronyms: a name has a word in Title case and no symbols
        has_first_name = any(_is_first_name(w) for w in content)
        if all(w.isupper() and len(w) > 2 for w in content) and not has_first_name:
            continue  # shouting in capitals, not a name
        if has_first_name:
            flags.append(_flag("name", start, end, score=0.85, detail="entity"))
            continue
        if len(content) >= 2 and all(_is_unknown_name_word(w) for w in content) and language != "de":
            flags.append(_flag("name", start, end, score=0.7, detail="entity"))
    return flags


_CAPITALISED_WORD = r"[A-ZÀ-Ý][\wÀ-ÿ'’\-]*"
# The same word where no word character or hyphen comes before it. The lookbehind is written after the
# capital, spanning it, so that the pattern starts with the capital: the search then jumps from capital to
# capital instead of trying the lookbehind at every character (twice as fast).
_WORD_START_CAPITALISED_WORD = r"[A-ZÀ-Ý](?<![\w\-].)[\wÀ-ÿ'’\-]*"
_CAPITALISED = re.compile(_WORD_START_CAPITALISED_WORD)
# Two capitalised words in a row, particles ("de la", "d'") allowed between them; overlapping pairs.
_CAPITALISED_PAIR = re.compile(
    rf"({_WORD_START_CAPITALISED_WORD})\s+(?:(?i:de|du|le|la|van|von|der|ben|el|di|da)\s+|d['’]\s*)*"
    rf"(?=({_CAPITALISED_WORD}))"
)


def could_hold_person_name(text: str) -> bool:
    """Whether an entity found in `text` could pass `names_from_entities`: the model is run only then.

    A kept entity holds a first name (not a listed place or figure, unless another capitalised word
    stands beside it), or at least two capitalised surname-like words side by side, one in Title case.
    Both are checked on the text's words, without the model: most contributions have neither.
    """
    for match in _CAPITALISED.finditer(text):
        word = match.group(0)
        # Each part of a hyphenated word is looked up too ("Jean-Pierre"); a word without a hyphen is its only part.
        if (_is_first_name(word) or "-" in word and any(_is_first_name(part) for part in word.split("-"))) \
                and _bare(word) not in not_person_names():
            return True
    for match in _CAPITALISED_PAIR.finditer(text):
        first, second = match.group(1), match.group(2)
        if _bare(first) in _NAME_PARTICLES or _bare(second) in _NAME_PARTICLES:
            continue
        if _is_first_name(first) or _is_first_name(second):
            return True
        if _is_unknown_name_word(first) and _is_unknown_name_word(second) \
                and (first[1:2].islower() or second[1:2].islower()):
            return True
    return False


# A sentence ends at . ! ? … followed by a space, unless the period closes an initial or a title
# ("J. Dupont", "M. Martin", "Mme. Durand"); a line break ends one too. The lookahead in front only says
# what either branch starts with: without it the seven lookbehinds are tried at every character, ten
# times slower.
_SENTENCE_END = re.compile(
    r"(?=[.!?…\n])(?:(?<!\b[A-ZÀ-Ý])(?<!\bM)(?<!\bMme)(?<!\bMlle)(?<!\bDr)(?<!\bPr)(?<!\bSt)[.!?…]+\s+|\n+)"
)


def name_windows(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of `text` that could hold a person's name: the recogniser reads
    only these (a third of the characters of the texts that hold a candidate). Its context is a few words
    on each side, so a name reads the same in its sentence as in the whole text."""
    windows, start = [], 0
    for end in [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        if end > start and could_hold_person_name(text[start:end]):
            windows.append((start, end))
        start = end
    return windows


@cache
def name_model():
    """spaCy's small French model with only the entity recogniser enabled, loaded once per process."""
    import spacy

    return spacy.load(
        "fr_core_news_sm",
        disable=["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer"],
    )


def person_entity_spans(texts: Sequence[str], batch_size: int = 256) -> list[list[tuple[int, int]]]:
    """PER entities of each text (offsets in the text), running the model once over the sentences that
    could hold one (`name_windows`)."""
    results: list[list[tuple[int, int]]] = [[] for _ in texts]
    windows = [(index, start, end) for index, text in enumerate(texts) if text
               for start, end in name_windows(text)]
    if not windows:
        return results
    nlp = name_model()
    sentences = (texts[index][start:end] for index, start, end in windows)
    for (index, start, _), doc in zip(windows, nlp.pipe(sentences, batch_size=batch_size)):
        results[index] += [(start + ent.start_char, start + ent.end_char) for ent in doc.ents if ent.label_ == "PER"]
    return results


# --- all together -----------------------------------------------------------------------------------

def resolve_overlaps(flags: list[Flag]) -> list[Flag]:
    """One flag per stretch of text: the more specific kind first, then the longer span."""
    ordered = sorted(flags, key=lambda f: (_PRIORITY.get(f.kind or "", 9), -(f.end - f.start), f.start))
    kept: list[Flag] = []
    for flag in ordered:
        overlapping = [k for k in kept if k.start < flag.end and flag.start < k.end]
        if not overlapping:
            kept.append(flag)
        elif all(k.kind == flag.kind for k in overlapping):
            # Same kind: merge into one span so nothing of either is left visible.
            start = min([flag.start] + [k.start for k in overlapping])
            end = max([flag.end] + [k.end for k in overlapping])
            for k in overlapping:
                kept.remove(k)
            kept.append(flag.model_copy(update={"start": start, "end": end}))
        else:
            # A less specific finding that sticks out of a more specific one keeps its outside parts masked.
            start = min([flag.start] + [k.start for k in overlapping])
            end = max([flag.end] + [k.end for k in overlapping])
            if start < min(k.start for k in overlapping) or end > max(k.end for k in overlapping):
                for k in overlapping:
                    kept.remove(k)
                winner = min(overlapping + [flag], key=lambda f: _PRIORITY.get(f.kind or "", 9))
                kept.append(winner.model_copy(update={"start": start, "end": end}))
    return sorted(kept, key=lambda f: f.start)


def find_personal_data(text: str, person_entities: Iterable[tuple[int, int]] = (), language: str = "fr") -> list[Flag]:
    """Every personal datum of `text`. `person_entities` are the PER spans the name model found in it."""
    if not text:
        return []
    flags = find_emails(text) + find_ibans(text) + find_nirs(text) + find_phones(text) + find_addresses(text)
    flags += find_name_cues(text)
    flags += names_from_entities(text, person_entities, language)
    flags = resolve_overlaps(flags)
    return mask_repeats(text, flags, known_data(text, flags))


_NAME_WORD_PARTICLES = {"de", "du", "le", "la", "van", "von", "der", "ben", "el", "d", "di", "da", "mme", "m", "mr",
                        "monsieur", "madame", "mlle", "dr", "me"}


def known_data(text: str, flags: Iterable[Flag]) -> dict[str, str]:
    """The personal data found in `text` as strings, by kind; for names also each surname-like word."""
    known: dict[str, str] = {}
    for flag in flags:
        if flag.kind is None:
            continue
        datum = text[flag.start:flag.end].strip()
        if len(datum) >= 3:
            known[datum] = flag.kind
        if flag.kind == "name":
            for word in re.findall(r"[^\W\d_][\w'’-]+", datum):
                if len(word) >= 3 and word[0].isupper() and fold(word) not in _NAME_WORD_PARTICLES \
                        and fold(word) not in not_person_names() and not is_known_word(word):
                    known.setdefault(word, "name")
    return known


def mask_repeats(text: str, flags: list[Flag], known: dict[str, str]) -> list[Flag]:
    """A datum found once is masked wherever else it appears (in this text or another field's)."""
    extra = []
    for datum, kind in known.items():
        for match in re.finditer(rf"(?<!\w){re.escape(datum)}(?!\w)", text):
            if not any(f.start <= match.start() and match.end() <= f.end for f in flags):
                extra.append(_flag(kind, match.start(), match.end(), score=0.8, detail="repeat"))
    return resolve_overlaps(flags + extra) if extra else flags


def find_in_text_to_publish(text: str) -> list[Flag]:
    """Personal data left in a text a person is about to publish (their own redaction), names included.
    The typed placeholders of a redaction are not data."""
    if not text:
        return []
    return find_personal_data(text, person_entity_spans([text])[0])


def redact(text: str, flags: Iterable[Flag]) -> str:
    """Replace each personal-data span with its typed placeholder."""
    spans = sorted((f for f in flags if f.kind in PLACEHOLDERS), key=lambda f: f.start)
    pieces = []
    position = 0
    for flag in spans:
        if flag.start < position:  # overlapping spans were merged by resolve_overlaps; be safe anyway
            if flag.end > position:
                position = flag.end
            continue
        pieces.append(text[position:flag.start])
        pieces.append(PLACEHOLDERS[flag.kind])
        position = flag.end
    pieces.append(text[position:])
    return "".join(pieces)
