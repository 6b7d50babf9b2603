"""The flagged spans of a text as a list of pieces, so that a template can wrap flagged pieces in
`<mark>` while Jinja2 escapes every piece of text: the contribution never reaches the page unescaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any


@dataclass(frozen=True)
class Piece:
    text: str
    grounds: tuple[str, ...] = ()  # the grounds flagged on this piece; empty = not flagged
    kinds: tuple[str, ...] = field(default=())  # personal-data kinds, where the flag is one

    @property
    def flagged(self) -> bool:
        return bool(self.grounds)


def pieces(text: str, flags: Iterable[Mapping[str, Any]], text_field: str = "body") -> list[Piece]:
    """Cut `text` at every flag boundary of `text_field`; overlapping flags give a piece all their grounds.
    Offsets out of range (a flag from another version of the text) are clipped, never trusted."""
    spans = []
    for flag in flags:
        if flag.get("field", "body") != text_field:
            continue
        start, end = max(0, int(flag["start"])), min(len(text), int(flag["end"]))
        if start < end:
            spans.append((start, end, str(flag["ground"]), flag.get("kind")))
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    out = []
    for start, end in pairwise(cuts):
        covering = [span for span in spans if span[0] <= start and end <= span[1]]
        out.append(Piece(
            text=text[start:end],
            grounds=tuple(dict.fromkeys(ground for _, _, ground, _ in covering)),
            kinds=tuple(dict.fromkeys(kind for _, _, _, kind in covering if kind)),
        ))
    return out
