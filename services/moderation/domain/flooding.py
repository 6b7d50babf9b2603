"""Flooding: near-duplicate contributions from one territory within a window, found by simhash.

Signatures are 64-bit simhashes over word shingles, stored as signed integers (they fit a PostgreSQL
BIGINT). The function is pure: the caller passes the recent signatures of each territory (its window)
and receives the signatures of the new texts to add to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from hashlib import blake2b
from typing import NamedTuple

import numpy as np

from .charter import GroundId
from .flags import Flag
from .text import fold

CHECK = "flooding"
MIN_WORDS = 8  # short texts ("d'accord", "+1") are legitimately repeated by different people
NEAR_DISTANCE = 3  # bits out of 64
_WORDS = re.compile(r"\w+")


def _features(folded_text: str) -> list[str]:
    words = _WORDS.findall(folded_text)
    if len(words) < 3:
        return words
    return list(map(" ".join, zip(words, words[1:], words[2:])))


def word_count(text: str) -> int:
    return len(_WORDS.findall(text))


def simhash(text: str, folded_text: str | None = None) -> int:
    """A 64-bit simhash of `text`, as a signed integer. `folded_text` is `fold(text)` when the caller has
    it already."""
    features = _features(fold(text) if folded_text is None else folded_text)
    if not features:
        return 0
    digests = b"".join([blake2b(f.encode(), digest_size=8).digest() for f in features])
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(features), 64)
    votes = bits.sum(axis=0, dtype=np.int32) * 2 - len(features)
    packed = np.packbits(votes > 0).tobytes()
    return int.from_bytes(packed, "big", signed=True)


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


class Floods(NamedTuple):
    flags: list[list[Flag]]  # of each item
    signatures: list[int | None]  # of each item, None for texts too short to have one
    by_territory: dict[str, list[int]]  # the same signatures, to add to each territory's window


def find_floods(
    items: Sequence[tuple[str, str]],
    recent_signatures: dict[str, Sequence[int]],
    max_distance: int = NEAR_DISTANCE,
    folded_texts: Sequence[str] | None = None,
) -> Floods:
    """Flag each (territory, text) that nearly repeats a recent text of its territory or an earlier one of
    the batch. `folded_texts` are the texts folded (`fold`), when the caller has them already."""
    flags: list[list[Flag]] = [[] for _ in items]
    signatures: list[int | None] = [None for _ in items]
    new_signatures: dict[str, list[int]] = {}
    windows: dict[str, np.ndarray] = {}
    for index, (territory, text) in enumerate(items):
        if word_count(text) < MIN_WORDS:
            continue
        signature = signatures[index] = simhash(text, None if folded_texts is None else folded_texts[index])
        earlier = new_signatures.setdefault(territory, [])
        window = windows.get(territory)
        if window is None:  # a window can hold 5,000 signatures: each is made an array once per batch
            window = windows[territory] = np.asarray(recent_signatures.get(territory, ()), dtype=np.int64)
        candidates = [window] if len(window) else []
        if earlier:
            candidates.append(np.asarray(earlier, dtype=np.int64))
        distance = 65
        for candidate in candidates:
            distance = min(distance, int(np.bitwise_count(candidate ^ np.int64(signature)).min()))
        if distance <= max_distance:
            score = 0.9 if distance == 0 else 0.75
            flags[index].append(Flag(check=CHECK, ground=GroundId.FLOODING, start=0, end=len(text), score=score,
                                     term="near-duplicate", detail=f"hamming={distance}"))
        earlier.append(signature)
    return Floods(flags, signatures, new_signatures)
