"""French text to content lemmas: tokenisation, lemmatisation with a cache, stop words, accent folding.

spaCy runs only where it earns its cost: on a budgeted set of texts chosen to cover the forms not yet
seen (lemmas taken in context, the most frequent one per form), then on the remaining forms alone.
Every other token is a dictionary lookup, which is what makes a million texts affordable.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache

TOKEN_RE = re.compile(r"[^\W\d_]+")
URL_RE = re.compile(r"(?:https?://|www\.)\S+")
LEARN_CHUNK = 20_000  # texts split and learned at a time (see `Lemmatizer.docs`)

_KEEP = {"personne", "personnes", "ouvert", "ouverte", "ouverts", "nouveau", "proche", "retour", "public"}
_EXTRA_STOP = """
faire falloir pouvoir devoir vouloir aller avoir etre mettre dire voir savoir prendre donner venir
etc cas chose fois bien non oui trop aussi tres plus moins tout tous toute toutes beaucoup vraiment
ainsi exemple niveau part cela ceci celui celle ceux il elle on nous vous ils elles je tu leur lui
y en ne pas que qui quoi dont ou au aux du des un une le la les de d l qu s n j m t c
avoir etre afin chez ca cet cette ces son sa ses mon ma mes ton ta tes notre votre
leurs nos vos rien sans sous sur dans par pour avec entre vers depuis pendant comme lorsque alors donc
mais car or ni si quand ici la-bas deja encore toujours jamais souvent parfois enfin surtout notamment
premier deuxieme autre autres meme memes tel telle tels telles certain certaine certains certaines
chaque aucun aucune plusieurs quelque quelques lequel laquelle lesquels auquel duquel
an annee jour mois heure veux voudrais faudrait faut aujourd hui
""".split()


def fold(text: str) -> str:
    """Lower case without accents: `Écologie` and `ecologie` meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("œ", "oe").replace("æ", "ae")


@cache
def stop_words() -> frozenset[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    words = {fold(w) for w in STOP_WORDS if fold(w) not in {fold(k) for k in _KEEP}}
    words.update(_EXTRA_STOP)
    return frozenset(words)


def tokens(text: str) -> list[str]:
    """Lower-cased word forms (letters only; apostrophes, hyphens, digits and punctuation split)."""
    lowered = text.lower()
    if "http" in lowered or "www." in lowered:  # what URL_RE needs to match: most texts skip the substitution
        lowered = URL_RE.sub(" ", lowered)
    return TOKEN_RE.findall(lowered)


_NLP = None
_NLP_LOCK = threading.Lock()


def _nlp():
    """spaCy's small French model with only what the lemmatiser needs (no parser, no NER)."""
    global _NLP
    with _NLP_LOCK:
        if _NLP is None:
            import spacy

            _NLP = spacy.load("fr_core_news_sm", exclude=["parser", "ner"])
        return _NLP


@cache
def _lemma_lookup():
    """The model's own form → lemma table, for a form seen out of context (no tagging needed)."""
    return _nlp().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


def lookup_lemma(form: str) -> str:
    value = _lemma_lookup().get(form, form)
    return value[0] if isinstance(value, list) else value


class TaggedTexts:
    """What the tagger made of each text, as (form, lemma, form, lemma, …), kept for the `capacity` texts
    tagged or asked for most recently.

    A process that recomputes the same growing corpus again and again (the recompute worker) keeps one,
    so that only the texts it has not seen yet go through spaCy. The votes a `Lemmatizer` takes are the
    same whether a text's tags were kept or computed afresh, so a recompute does not depend on what the
    process saw before.
    """

    def __init__(self, capacity: int = 25_000, names_capacity: int = 200_000) -> None:
        self.capacity = capacity
        self.names_capacity = names_capacity
        self._pairs: dict[str, tuple[str, ...]] = {}
        self._names: dict[str, str] = {}  # shares one string per form or lemma between kept texts

    def __len__(self) -> int:
        return len(self._pairs)

    def tag(self, texts: Sequence[str], batch_size: int) -> list[tuple[str, ...]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._pairs))
        fresh = dict(zip(missing, (self._flatten(doc) for doc in _nlp().pipe(missing, batch_size=batch_size)),
                         strict=True))
        out = [fresh[t] if t in fresh else self._pairs[t] for t in texts]
        if self.capacity:
            for text, pairs in zip(texts, out, strict=True):
                self._pairs.pop(text, None)
                self._pairs[text] = pairs  # most recent last
            for text in list(self._pairs)[: max(0, len(self._pairs) - self.capacity)]:
                del self._pairs[text]
        if len(self._names) > self.names_capacity:
            self._names.clear()  # forms of texts let go would stay otherwise; only sharing is lost
        return out

    def _flatten(self, doc) -> tuple[str, ...]:
        name = self._names.setdefault
        return tuple(name(w, w) for tok in doc for w in (tok.lower_, tok.lemma_.lower()))


class Lemmatizer:
    """Maps texts to content lemmas, keeping a form → lemma cache.

    Learning a form runs the tagger over texts where it occurs; `docs(learn=False)` takes the model's
    lookup table for forms not learned yet instead (much cheaper, and the same lemma for most forms), which
    is what classifying each new contribution on arrival can afford.
    For a given sequence of texts the result is a function of that sequence only (callers sort their
    inputs), so two runs over the same input agree.
    """

    def __init__(self, context_budget: int = 20_000, batch_size: int = 256,
                 tagged: TaggedTexts | None = None) -> None:
        self.context_budget = context_budget
        self.batch_size = batch_size
        self.tagged = tagged if tagged is not None else TaggedTexts(capacity=0)
        self._lemma: dict[str, str] = {}
        self._looked_up: dict[str, str] = {}
        self._content: dict[str, str] = {}  # form → its content lemma as `lemmas` gives it, "" for none

    def __len__(self) -> int:
        return len(self._lemma)

    def learn(self, texts: Sequence[str]) -> None:
        """Add to the cache every form of `texts` not yet known (see `docs`)."""
        self._learn_in_chunks(texts, with_docs=False)

    def _learn_in_chunks(self, texts: Sequence[str], with_docs: bool) -> list[str]:
        """Learn the forms of `texts` a chunk at a time, each text split into forms once, and return the
        texts' docs (`with_docs`) or nothing. Holding a chunk's forms, not a million texts', keeps the
        memory flat. For each chunk, the texts holding forms not known yet are tagged in context, in order,
        within what is left of `context_budget`; the forms they do not cover are tagged alone."""
        out: list[str] = []
        budget = self.context_budget
        for start in range(0, len(texts), LEARN_CHUNK):
            chunk = texts[start:start + LEARN_CHUNK]
            split = [tokens(text) for text in chunk]
            budget -= self._learn_split(chunk, split, budget)
            if with_docs:
                out.extend(self._joined(toks) for toks in split)
        return out

    def _learn_split(self, texts: Sequence[str], split: Sequence[list[str]], budget: int) -> int:
        """Learn the unknown forms of `texts` (already split into `split`); returns how many texts it tagged
        in context."""
        known = self._lemma
        unknown: set[str] = set()
        for toks in split:
            unknown.update(toks)
        unknown.difference_update(known)
        if not unknown:
            return 0
        chosen: list[str] = []
        pending = set(unknown)
        for text, toks in zip(texts, split):
            if len(chosen) >= budget or not pending:
                break
            if not pending.isdisjoint(toks):
                chosen.append(text)
                pending.difference_update(toks)
        votes: dict[str, Counter] = defaultdict(Counter)
        for pairs in self.tagged.tag(chosen, self.batch_size):
            for form, lemma in zip(pairs[::2], pairs[1::2]):
                if form in unknown:
                    votes[form][lemma] += 1
        for form, counter in votes.items():
            best = max(counter.items(), key=lambda item: (item[1], item[0]))
            self._lemma[form] = best[0]
        alone = sorted(unknown - votes.keys())
        for form, pairs in zip(alone, self.tagged.tag(alone, 1000)):
            self._lemma[form] = pairs[1] if len(pairs) == 2 else form
        for form in unknown:  # a form looked up before it was learned reads as learned from now on
            self._content.pop(form, None)
        return len(chosen)

    def _content_lemma(self, form: str) -> str:
        """The form's folded lemma, learned or else looked up; "" for a stop word or a single letter."""
        found = self._content.get(form)
        if found is None:
            lem = self._lemma.get(form)
            if lem is None:
                lem = self._looked_up.get(form)
                if lem is None:
                    lem = self._looked_up[form] = lookup_lemma(form)
            lem = _fold_cached(lem)
            found = self._content[form] = lem if len(lem) > 1 and lem not in stop_words() else ""
        return found

    def _joined(self, toks: list[str]) -> str:
        """The content lemmas of a text's forms, space-joined."""
        lems = list(map(self._content.get, toks))  # nearly every form is known after the first texts
        if None in lems:
            lems = list(map(self._content_lemma, toks))
        return " ".join(filter(None, lems))

    def written_forms(self, texts: Sequence[str]) -> dict[str, str]:
        """Each content lemma of `texts` → the form its writers used most (ties: the first in alphabetical
        order), so that keywords read as written ("fiscalité", "transports en commun"), not as lemmas."""
        used: Counter[str] = Counter()
        for text in texts:
            used.update(tokens(text))
        counts: dict[str, Counter] = defaultdict(Counter)
        for form, n in used.items():
            lem = self._content_lemma(form)
            if lem:
                counts[lem][form] += n
        return {lem: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for lem, c in counts.items()}

    def docs(self, texts: Sequence[str], learn: bool = True) -> list[str]:
        """Each text as a space-joined string of content lemmas (the vectorisers' input)."""
        if not learn:
            return [self._joined(tokens(text)) for text in texts]
        return self._learn_in_chunks(texts, with_docs=True)


@cache
def _fold_cached(word: str) -> str:
    return fold(word)


def quote(text: str, limit: int = 320) -> str:
    """The published text, or a prefix of it cut at a word boundary followed by an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def heading(text: str, limit: int = 120) -> str:
    """A heading taken from a contribution as written: its first sentence when that says enough (at least
    20 characters), trimmed at a word boundary to about `limit` characters with an ellipsis. Always a prefix
    of the text (or the prefix and an ellipsis), so it stays traceable."""
    text = text.strip()
    first = SENTENCE_END.split(text, maxsplit=1)[0]
    if len(first) >= 20:
        text = first
    return quote(text, limit)


def is_traceable(quoted: str, published: str) -> bool:
    """True when `quoted` is the published text or a prefix of it ending in an ellipsis."""
    published = published.strip()
    if quoted == published:
        return True
    return quoted.endswith("…") and published.startswith(quoted[:-1])
