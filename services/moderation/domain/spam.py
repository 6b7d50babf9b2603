"""Advertising and spam, and electoral propaganda: promotional patterns scored together.

A link alone is ordinary in a civic text (people cite their sources); it is the combination of links,
calls to click or buy, prices and contact numbers that makes an advertisement.
"""

from __future__ import annotations

import re

from .charter import GroundId
from .flags import Flag
from .text import by_first_letter

CHECK_SPAM = "spam"
CHECK_ELECTORAL = "electoral-propaganda"

_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]{2,}\.(?:com|net|org|fr|be|ca|ma|ci|cm|de|io|biz|info|shop|store|xyz|top|ru|cn|ly|gl|co)(?:/[^\s<>\"']*)?\b"
)
_SHORTENER = re.compile(r"(?i)\b(?:bit\.ly|tinyurl\.com|goo\.gl|t\.co|ow\.ly|is\.gd|cutt\.ly|shorturl\.at)\b")
_PROMOTIONS = (
    "promo", "promos", "promotion", "promotions", "code promo", "soldes", r"r[ée]duction de \d+", r"-\d{1,2} ?%",
    r"\d{1,2} ?% de r[ée]duction",
    "cliquez", "cliquer ici", "clique ici", "click here", "buy now", "achetez", "commandez",
    "livraison (?:gratuite|offerte)", "offre (?:exclusive|sp[ée]ciale|limit[ée]e)",
    "prix (?:imbattables?|cass[ée]s)", "meilleur prix", "gagnez", "gagner de l'argent", "argent facile",
    "revenus? passifs?", "travail à domicile",
    "bitcoin", "crypto(?:monnaie)?s?", "forex", "casino", "paris sportifs", "viagra", "cialis",
    "rencontres? (?:coquines?|sexy)",
    "inscrivez-vous", "abonnez-vous", "suivez-moi", "follow me", "contactez-nous", "whatsapp", "telegram", "dm me",
    "visitez notre (?:site|boutique)", "notre boutique", "en stock", "stock limit[ée]", "satisfait ou rembours[ée]",
    "sans engagement", "essai gratuit",
    "free shipping", "discount", "limited offer", "special offer", "earn money", "make money", "sale now",
)
_PROMO = re.compile(rf"(?i)(?<!\w)(?:{by_first_letter(_PROMOTIONS)})(?!\w)")
_PRICE = re.compile(r"(?i)(?<!\w)\d+(?:[.,]\d{1,2})? ?(?:€|euros?|eur|\$|usd|fcfa|dh)(?!\w)|(?<!\w)(?:€|\$) ?\d+")
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s.\-]?\d){7,}")
_SHOUTING = re.compile(r"\b[A-ZÀ-Ý]{4,}\b")
_EXCLAMATIONS = re.compile(r"!{2,}|💰|🔥|✅|👉|💥|🎁")


# Every link and every shortener has a dot followed by something other than a space, or "://": the many
# texts without either skip the two costlier patterns.
_LINK_HINT = re.compile(r"\.\S|://")


def spam_score(text: str) -> tuple[float, list[tuple[int, int, str]]]:
    """A score in 0..1 and the spans that made it."""
    spans: list[tuple[int, int, str]] = []
    may_link = _LINK_HINT.search(text) is not None
    urls = list(_URL.finditer(text)) if may_link else []
    promos = list(_PROMO.finditer(text))
    score = 0.0
    if urls:
        score += 0.2 + 0.1 * min(len(urls) - 1, 3)
        spans += [(m.start(), m.end(), "link") for m in urls]
    if may_link and _SHORTENER.search(text):
        score += 0.2
    if promos:
        # Words like "achetez" or "réduction" also occur in civic text: alone they stay under the hold line.
        score += 0.3 + 0.1 * min(len(promos) - 1, 2)
        spans += [(m.start(), m.end(), "promotion") for m in promos]
        if urls:
            score += 0.1
        prices = list(_PRICE.finditer(text))
        if prices:
            score += 0.15
            spans += [(m.start(), m.end(), "price") for m in prices]
        if _PHONE_LIKE.search(text):
            score += 0.15
    if not (promos or urls):
        return score, spans
    words = len(text.split()) or 1
    if promos and (len(_SHOUTING.findall(text)) / words > 0.3 or _EXCLAMATIONS.search(text)):
        score += 0.15
    if urls and words <= len(urls) * 3:
        score += 0.25  # little but links
    return min(score, 1.0), spans


def find_spam(text: str) -> list[Flag]:
    if not text:
        return []
    score, spans = spam_score(text)
    if score < 0.2 or not spans:
        return []
    return [
        Flag(check=CHECK_SPAM, ground=GroundId.SPAM, start=start, end=end, score=round(score, 3), term=what)
        for start, end, what in spans
    ]


_CALLS_TO_VOTE = (
    "votez", "votez pour", "vote for", "wählt", "élisez", "elisez",
    "soutenez (?:notre|la|le) (?:liste|candidat|candidate|parti)", "rejoignez (?:notre|la) (?:liste|campagne)",
    "notre candidat(?:e)? aux", "notre liste aux (?:municipales|élections)", "ma liste aux (?:municipales|élections)",
    "aux (?:municipales|législatives|européennes|présidentielles?|régionales|départementales),? votez",
)
_ELECTORAL = re.compile(
    rf"(?i)(?<!\w)(?:{by_first_letter(_CALLS_TO_VOTE)})"
    r"(?!\w)(?![ -]?(?:blanc|nul|obligatoire|électronique|par|à|en ligne|des|-vous|-tu))"
)


def find_electoral_propaganda(text: str) -> list[Flag]:
    """Calls to vote for someone: held for a person, never rejected automatically."""
    if not text:
        return []
    return [
        Flag(check=CHECK_ELECTORAL, ground=GroundId.ELECTORAL_PROPAGANDA, start=m.start(), end=m.end(),
             score=0.6, term="call-to-vote")
        for m in _ELECTORAL.finditer(text)
    ]
