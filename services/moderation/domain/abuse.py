"""Insults, hate, threats and obscenity: a curated lexicon plus patterns of attacks on people and groups.

Matching works on canonical words (see `text.py`), whole words only, so `con` never matches inside
`concertation` nor `bite` inside `habite`. Banned entries are clear violations; suspect entries only flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .charter import DATA_DIR, GroundId
from .flags import Flag
from .sentence_model import find_model_statements
from .statements import (
    SENTENCE_END,
    WEAK,
    clauses_said_by_others,
    quotations,
    counter_speech_spans,
    find_statements,
    framed_sentences,
    load_statement_lexicon,
    quoted_statements,
)
from .text import CanonicalText, canonical_pattern, canonical_word, tokenize

CHECK = "abuse"
LEXICON_DIR = DATA_DIR / "lexicon"
LEXICON_LANGUAGES = ("fr", "en", "de")
BANNED_SCORE = 0.95
SUSPECT_SCORE = 0.35


@dataclass(frozen=True)
class Entry:
    term: str
    words: tuple[str, ...]  # canonical words
    level: str  # banned | suspect
    ground: str
    innocent_in: frozenset[str]

    @property
    def banned(self) -> bool:
        return self.level == "banned"


@dataclass(frozen=True, eq=False)
class Lexicon:
    by_first_word: dict[str, tuple[Entry, ...]]
    innocent_phrases: tuple[tuple[str, ...], ...]  # folded words, repeats kept
    targets: frozenset[str]
    dehumanising: frozenset[str]

    def insult_words(self, level: str) -> frozenset[str]:
        return _insult_words(self, level)


@cache
def _insult_words(lexicon: Lexicon, level: str) -> frozenset[str]:
    return frozenset(
        entry.words[0]
        for entries in lexicon.by_first_word.values()
        for entry in entries
        if len(entry.words) == 1 and entry.level == level and entry.ground in ("insult", "hate")
    )


def _lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def parse_entry(line: str) -> Entry:
    parts = [part.strip() for part in line.split(";")]
    if len(parts) < 3 or parts[1] not in ("banned", "suspect"):
        raise ValueError(f"bad lexicon line: {line!r}")
    term, level, ground = parts[:3]
    GroundId(ground)  # an unknown ground is a data error
    innocent_in = frozenset(code.strip() for code in parts[3].split(",")) if len(parts) > 3 and parts[3] else frozenset()
    words = tuple(token.canonical for token in tokenize(term))
    return Entry(term, words, level, ground, innocent_in)


@cache
def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    by_first: dict[str, list[Entry]] = {}
    for language in LEXICON_LANGUAGES:
        for line in _lines(directory / f"{language}.txt"):
            entry = parse_entry(line)
            by_first.setdefault(entry.words[0], []).append(entry)
    innocent = tuple(tuple(token.folded for token in tokenize(line)) for line in _lines(directory / "innocent.txt"))
    targets = frozenset(canonical_word(w) for w in _lines(directory / "targets.txt"))
    dehumanising = frozenset(canonical_word(w) for w in _lines(directory / "dehumanising.txt") if " " not in w)
    # Longest phrases first, banned before suspect, so the strongest reading of a stretch wins.
    ordered = {
        first: tuple(sorted(entries, key=lambda e: (-len(e.words), not e.banned)))
        for first, entries in by_first.items()
    }
    return Lexicon(ordered, innocent, targets, dehumanising)


def _protected_tokens(canonical: CanonicalText, lexicon: Lexicon) -> set[int]:
    protected: set[int] = set()
    folded = canonical.folded_words
    present = set(folded)
    for phrase in lexicon.innocent_phrases:
        if phrase[0] not in present:
            continue
        size = len(phrase)
        for i in range(len(folded) - size + 1):
            if tuple(folded[i:i + size]) == phrase:
                protected.update(range(i, i + size))
    return protected


# Whom a sentence may address: "Connard, tu vas voir" is aimed at someone, "Fils de pute, comment c'est
# possible ?" at no one.
_YOU = frozenset(canonical_word(w) for w in (
    "tu te t toi vous ton ta tes votre vos du dich dir ihr euch dein deine deinen deinem euer eure you your"
).split())
_INTERJECTION_MARK = re.compile(r"\s*[,!?…]")


def _aimed_at_no_one(text: str, canonical: CanonicalText, first: int, last: int, lexicon: Lexicon) -> bool:
    """An insult or an obscenity said as an exclamation at the head of a sentence, before a comma or a mark,
    with the rest of that sentence (two words or more) addressing no one and naming no group: swearing, not
    an attack."""
    tokens = canonical.tokens
    head = text[:tokens[first].start].rstrip()
    mark = _INTERJECTION_MARK.match(text, tokens[last].end)
    if head and head[-1] not in ".!?…\n" or not mark:
        return False
    end = SENTENCE_END.search(text, mark.end())
    stop = end.start() if end else len(text)
    rest = [canonical.words[k] for k in range(last + 1, len(tokens)) if tokens[k].start < stop]
    return len(rest) >= 2 and _YOU.isdisjoint(rest) and lexicon.targets.isdisjoint(rest)


# An insult the speaker says of themselves ("j'ai été une vraie raclure", "ma mère pense que je suis un
# con", "j'ai agi comme un con", "ich war so ein Idiot", "I was such an asshole"): a first-person subject,
# "to be" (or a verb of behaving and "like") right after it, then the insult within a few words, none of
# them a negation ("ich bin doch kein …" sets the speaker apart from those it names).
_SPEAKER_SUBJECT = frozenset(canonical_word(w) for w in "je j ich i".split())
_SPEAKER_COPULA = frozenset(canonical_word(w) for w in (
    "suis etais ete etre serai serais fus bin war ware gewesen am was been be"
).split())
_SPEAKER_BEHAVING = frozenset(canonical_word(w) for w in "agi comporte benommen verhalten acted behaved".split())
_SPEAKER_LIKE = frozenset(canonical_word(w) for w in "comme wie like".split())
_NOT = frozenset(canonical_word(w) for w in "pas plus jamais nicht kein keine keinen nie not never no".split())
# what opens the insult after "to be": an article or an intensifier, never a preposition ("ich bin umgeben
# von …" says who surrounds the speaker)
_SPEAKER_OPENING = frozenset(canonical_word(w) for w in (
    "un une le la l vrai vraie vraiment tel telle tellement gros grosse sacre sacree ein eine einer einen so "
    "echt echter echtes wirklich richtig total voll der die das a an such real total complete"
).split())
_SPEAKER_SCOPE = 4  # words from the subject to "to be" ("j'ai pas toujours été")
_SPEAKER_GAP = 3  # words from "to be" or "like" to the insult ("une vraie", "so ein")


def _said_of_the_speaker(canonical: CanonicalText, first: int, lexicon: Lexicon) -> bool:
    """Whether the insult at word `first` is predicated of the speaker, with no one addressed, no group named
    and no negation between."""
    words = canonical.words
    for link in range(first - 1, max(-1, first - _SPEAKER_GAP - 2), -1):
        word = words[link]
        is_link = word in _SPEAKER_COPULA \
            or word in _SPEAKER_LIKE and link > 0 and words[link - 1] in _SPEAKER_BEHAVING
        if not is_link:
            continue
        before = words[max(0, link - _SPEAKER_SCOPE):link]
        after = words[link + 1:first]
        return not _SPEAKER_SUBJECT.isdisjoint(before) and _YOU.isdisjoint(before + after) \
            and (not after or after[0] in _SPEAKER_OPENING) \
            and _NOT.isdisjoint(after) and lexicon.targets.isdisjoint(after)
    return False


def find_lexicon_terms(canonical: CanonicalText, language: str = "fr", lexicon: Lexicon | None = None,
                       text: str = "") -> list[Flag]:
    """The lexicon's terms in the text; `text`, the text as written, lets a banned insult or obscenity
    sworn at no one (`_aimed_at_no_one`) count as a suspect word only."""
    lexicon = lexicon or load_lexicon()
    words = canonical.words
    if lexicon.by_first_word.keys().isdisjoint(words):
        return []
    protected = _protected_tokens(canonical, lexicon)
    flags: list[Flag] = []
    i = 0
    while i < len(words):
        entries = lexicon.by_first_word.get(words[i])
        matched = None
        if entries and i not in protected:
            for entry in entries:
                size = len(entry.words)
                if tuple(words[i:i + size]) == entry.words and language not in entry.innocent_in \
                        and not protected.intersection(range(i, i + size)):
                    matched = entry
                    break
        if matched is None:
            i += 1
            continue
        last = i + len(matched.words) - 1
        tokens = canonical.tokens
        sworn = matched.banned and matched.ground in ("insult", "obscenity") and text \
            and _aimed_at_no_one(text, canonical, i, last, lexicon)
        own = matched.banned and matched.ground == "insult" and not sworn \
            and _said_of_the_speaker(canonical, i, lexicon)
        flags.append(Flag(
            check=CHECK, ground=matched.ground, start=tokens[i].start, end=tokens[last].end,
            score=BANNED_SCORE if matched.banned and not (sworn or own) else SUSPECT_SCORE, term=matched.term,
            detail="sworn at no one" if sworn else "said of the speaker" if own else matched.level,
        ))
        i = last + 1
    return flags


# A German word that joins a group to a word of rabble or vermin ("Zigeunerpack", "Judenschwein",
# "Asylantenbrut", "Türkengesindel") is a slur of its own, whoever the group: no list could hold them all.
_CONTEMPT_HEADS = tuple(sorted({canonical_word(w) for w in (
    "pack gesindel brut pest schwein schweine sau säue geschmeiß abschaum ratte ratten ungeziefer plage "
    "viecher vieh mischpoke").split()}, key=len, reverse=True))
_LINKS = ("", "n", "en", "s")  # "Judenpack", "Türkenpack", "Moslemsau", "Rumänenbrut"


def _contempt_stem(word: str) -> str | None:
    """The group a contempt compound names, or None."""
    sections = load_statement_lexicon().sections_of
    for head in _CONTEMPT_HEADS:
        if word.endswith(head) and len(word) - len(head) >= 4:
            stem = word[:-len(head)]
            for link in _LINKS:
                if stem.endswith(link) and "group" in sections.get(stem[:len(stem) - len(link)], ()):
                    return stem
    return None


def find_contempt_compounds(canonical: CanonicalText, language: str) -> list[Flag]:
    if language != "de":
        return []
    tokens = canonical.tokens
    return [Flag(check=CHECK, ground=GroundId.HATE, start=tokens[i].start, end=tokens[i].end, score=BANNED_SCORE,
                 term="contempt-compound", detail="banned")
            for i, word in enumerate(canonical.words) if len(word) >= 8 and _contempt_stem(word)]


# --- patterns of attacks ----------------------------------------------------------------------------

def _alternation(words: frozenset[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


@dataclass(frozen=True)
class AttackPattern:
    name: str
    ground: str
    regex: re.Pattern[str]
    score: float
    # When the pattern names its insult (group `y`), a suspect word alone lowers the score to this.
    score_if_mild: float | None = None
    # Sets of words the text must each share a word with, or the pattern cannot match: the targets and
    # insults it names (`TARGET`, `INSULT`) always stand as whole words, and most texts hold none.
    needs: tuple[frozenset[str], ...] = ()


_THREAT_VERBS = (
    "tuer|buter|crever|defoncer|egorger|massacrer|fracasser|plomber|flinguer|pendre|bruler|eclater|"
    "saigner|frapper|violer|noyer|etrangler|descendre|decapiter|exploser|tabasser|lyncher|"
    "faire la peau|casser la gueule|casser la figure|peter la gueule|refaire le portrait"
)


@cache
def attack_patterns() -> tuple[AttackPattern, ...]:
    lexicon = load_lexicon()
    banned = lexicon.insult_words("banned")
    suspect = lexicon.insult_words("suspect")
    insult_words = banned | suspect | lexicon.dehumanising
    insult = _alternation(insult_words)
    target = _alternation(lexicon.targets)
    dehuman = _alternation(lexicon.dehumanising)
    threat_verbs = canonical_pattern(_THREAT_VERBS)

    def attack(name: str, ground: str, pattern: str, score: float, score_if_mild: float | None = None) -> AttackPattern:
        body = canonical_pattern(pattern).replace("INSULT", insult).replace("TARGET", target).replace("DEHUMAN", dehuman)
        body = body.replace("THREATVERB", threat_verbs)
        # Whole words only: the pattern starts with the space before its first word (see `find_attack_patterns`), and
        # the search jumps from space to space instead of trying every character.
        regex = re.compile(rf" (?:{body})(?![^ ])")
        # DEHUMAN is left out: in `(sont)? ?(DEHUMAN)` its word may be glued to the one before.
        needs = tuple(words for placeholder, words in (("TARGET", lexicon.targets), ("INSULT", insult_words))
                      if placeholder in pattern)
        return AttackPattern(name, ground, regex, score, score_if_mild, needs)

    return (
        # Threats aimed at someone.
        attack("threat-first-person", GroundId.THREAT,
            r"(je|j|on|nous) (vais|va|vas|allons|veux|voudrais|vait) (te|t|vous|le|la|les|lui|leur) (THREATVERB)", 0.92),
        attack("threat-you-will", GroundId.THREAT,
            r"(tu|vous|t) (vas|allez|va) (mourir|crever|le payer|souffrir|finir au cimetiere|finir a l hopital)", 0.85),
        attack("threat-where-you-live", GroundId.THREAT,
            r"(je|j|on|nous) (sais|sait|savons|connais|connait) (ou|l adresse|ton adresse|votre adresse) (tu|t|vous)? ?(habites|habitez|vis|vivez|dors|dormez|travailles|travaillez)?", 0.9),
        attack("threat-call-to-kill", GroundId.THREAT,
            r"(il faut|faut|faudrait|il faudrait|on devrait|on va) (tous )?(les|le|la|leur|tous les|toutes les) ?(\w+ )?(tuer|pendre|fusiller|bruler|gazer|exterminer|guillotiner|lyncher|decapiter|egorger|massacrer)"
            r"(?! dans l (oeuf|ouf))", 0.9),  # "il faut la tuer dans l'œuf": a project stopped early
        # not "des menaces de mort au guichet" (reported) nor "femme au volant, mort au tournant" (a saying)
        attack("threat-death-to", GroundId.THREAT,
               r"(?<!menace de )(?<!menaces de )mort (aux|au|a la|a l) (?!tournant\b)\w+", 0.9),
        attack("threat-bullet", GroundId.THREAT, r"(une )?balle dans (la|ta|sa|leur|votre) (tete|tronche|gueule)", 0.9),
        attack("threat-burn", GroundId.THREAT,
            r"(bruler|incendier|faire sauter|plastiquer|cramer) (la|les|leur|leurs|cette) (mairie|mairies|prefecture|prefectures|maison|maisons|permanence|voiture|voitures)", 0.8),
        attack("threat-en", GroundId.THREAT,
            r"(i|we|i ll|we ll|ill) (will|am going to|are going to|gonna)? ?(kill|shoot|hurt|find|rape) (you|him|her|them)", 0.9),
        attack("threat-de", GroundId.THREAT, r"(ich|wir) (bringe|bringen|mache|machen) (dich|euch|sie) (um|kalt|fertig)", 0.9),
        # Hate aimed at a group.
        attack("hate-dirty-group", GroundId.HATE, r"(sale|sales|salle|salles) (TARGET)", 0.92),
        attack("hate-group-are", GroundId.HATE,
            r"(tous |toutes )?(les|ces|des) (TARGET) (sont|c est|ce sont|restent) (tous |toutes |vraiment |que |juste )?(des |de |du )?(?P<y>INSULT)", 0.9, 0.6),
        attack("hate-out", GroundId.HATE,
            r"((dehors|a la porte|expulsez|expulser|renvoyez|renvoyer|virez|virer|degagez) (les |tous les |ces )(TARGET))|((les )?(TARGET) dehors)", 0.85),
        attack("hate-not-here", GroundId.HATE,
            r"(les|ces) (TARGET) (n ont|n a) (rien a faire|pas leur place|pas a etre) (ici|en france|chez nous|dans notre pays)", 0.8),
        attack("hate-dehumanise-group", GroundId.HATE,
            r"(les|ces|des) (TARGET) (sont|c est|ce sont)? ?(comme )?(des |de la |une )?(DEHUMAN)", 0.85),
        # Insults aimed at a person or a group.
        attack("insult-you-are", GroundId.INSULT,
            r"(vous etes|vous n etes que|t es|tu es|t est|tu n es qu|tu n es que|t es qu|espece d|espece de|bande d|bande de|sont que des|quel|quelle|quels|you are|you re|ur|du bist|ihr seid) "
            r"((tous|toutes|vraiment|qu|que|un|une|des|de|d|a|an|ein|eine|gros|grosse|sale|sales|pauvre|pauvres|vieux|vieille|bande|sacre|sacree|big|stupid|fucking|juste|rien|qu un|qu une) ){0,4}(?P<y>INSULT)",
            0.9, 0.7),
        attack("insult-all-x-are", GroundId.INSULT,
            r"(tous|toutes) (les|ces|nos|vos) \w+( \w+)? (sont|c est|ce sont) (tous |toutes |vraiment |que |juste )?(des |de )(?P<y>INSULT)",
            0.9, 0.4),
    )


def find_attack_patterns(canonical: CanonicalText, lexicon: Lexicon | None = None) -> list[Flag]:
    lexicon = lexicon or load_lexicon()
    mild_words = lexicon.insult_words("suspect")
    flags = []
    spaced = " " + canonical.text  # a match at offset i of `spaced` starts at offset i of the text
    words = set(canonical.words)
    for pattern in attack_patterns():
        if pattern.needs and any(words.isdisjoint(needed) for needed in pattern.needs):
            continue
        for match in pattern.regex.finditer(spaced):
            score = pattern.score
            if pattern.score_if_mild is not None and "y" in match.groupdict():
                y = match.group("y")
                if y in mild_words and y not in lexicon.dehumanising:
                    score = pattern.score_if_mild
            start, end = canonical.original_span(match.start(), match.end() - 1)
            flags.append(Flag(check=CHECK, ground=pattern.ground, start=start, end=end, score=score,
                              term=pattern.name, detail="pattern"))
    return flags


def find_abuse(text: str, language: str = "fr", folded_text: str | None = None,
               read_sentences: bool = True) -> list[Flag]:
    """Lexicon terms, attack patterns, statements and (unless `read_sentences` is False) the sentence model's
    readings in `text`, each with its ground and a score. `folded_text` is `fold(text)` when the caller has
    it already."""
    if not text:
        return []
    canonical = CanonicalText(text, folded_text)
    lexicon = load_lexicon()
    patterns = find_attack_patterns(canonical, lexicon)
    framed = framed_sentences(text, canonical) if patterns else []
    if framed:
        patterns = [f for f in patterns if not any(a <= f.start < b for a, b in framed)]
    found = find_lexicon_terms(canonical, language, lexicon, text) + patterns \
        + find_contempt_compounds(canonical, language) + find_statements(text, language, canonical)
    if read_sentences:
        found += find_model_statements(text, language, canonical, found)
    reported = counter_speech_spans(text, canonical) if found else []
    if reported:
        found = [f for f in found if not any(a <= f.start and f.end <= b for a, b in reported)]
    if not found:
        return found
    # for a person to read: whatever stands in a quoted statement or in what someone else is reported to
    # have said, and a word of the lexicon in any quotation
    quoted = quoted_statements(text) + clauses_said_by_others(text, canonical)
    words_quoted = quotations(text) if any(f.detail == "banned" for f in found) else []

    def within(flag: Flag, spans: list[tuple[int, int]]) -> bool:
        return any(a <= flag.start and flag.end <= b for a, b in spans)

    return [f.model_copy(update={"score": min(f.score, WEAK)})
            if within(f, quoted) or f.detail == "banned" and within(f, words_quoted) else f for f in found]
