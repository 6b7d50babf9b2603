"""One entry point for a batch of contributions: every check, the policy, the redaction, the statement.

The handler calls `check_batch` with what it read from the bus and the database and stores what it gets
back. The name model runs once over the whole batch (`nlp.pipe`); everything else is plain Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel

from shared.events import RedactedSpan
from shared.frameworks import Framework
from shared.vocabulary import Outcome

from . import personal_data
from .abuse import find_abuse
from .charter import Charter, load_charter
from .flags import Flag
from .flooding import find_floods
from .off_topic import find_off_topic, framework_vocabulary
from .policy import TerritoryPolicy, decide
from .spam import find_electoral_propaganda, find_spam
from .statement import StatementOfReasons, build_statement
from .text import fold
from .unintelligible import find_unintelligible


class ModerationInput(BaseModel):
    contribution_id: str
    territory: str
    body: str
    title: str | None = None
    language: str = "fr"
    framework: Framework | None = None  # the consultation's axes, for the off-topic check


class ModerationResult(BaseModel):
    contribution_id: str
    territory: str
    outcome: Outcome
    suggested_outcome: Outcome
    grounds: list[str]
    flags: list[Flag]
    redacted_title: str | None
    redacted_body: str  # the text as published, when it is
    redactions: list[RedactedSpan]
    flood_signature: int | None  # simhash kept for the flooding window (None for short texts)
    statement: StatementOfReasons  # in French; `statement_for(result, "en")` gives it in English

    @property
    def published_text(self) -> str | None:
        if self.outcome in (Outcome.PUBLISHED, Outcome.PUBLISHED_REDACTED):
            return self.redacted_body
        return None


def _content_checks(
    text: str,
    folded_text: str,
    language: str,
    framework: Framework | None,
    vocabulary_of: Callable[[Framework], frozenset[str]] = framework_vocabulary,
    read_sentences: bool = True,
) -> list[Flag]:
    return (
        find_abuse(text, language, folded_text, read_sentences)
        + find_spam(text)
        + find_electoral_propaganda(text)
        + find_unintelligible(text)
        + find_off_topic(text, framework, folded_text=folded_text, vocabulary_of=vocabulary_of)
    )


def check_batch(
    items: Sequence[ModerationInput],
    policy_by_territory: Mapping[str, TerritoryPolicy],
    recent_signatures: Mapping[str, Sequence[int]],
    *,
    charter: Charter | None = None,
    detect_names: bool = True,
    person_entities: Sequence[Sequence[tuple[int, int]]] | None = None,
    read_sentences: bool = True,
) -> tuple[list[ModerationResult], dict[str, list[int]]]:
    """Moderate a batch. `recent_signatures` holds each territory's recent flooding signatures (the
    caller's window); the second value returned holds the signatures of this batch, by territory, to add
    to it. `detect_names=False` skips the name model (for callers that cannot afford it);
    `person_entities` gives its PER spans computed elsewhere (titles then bodies, as
    `personal_data.person_entity_spans(titles + bodies)` returns them), e.g. by worker processes.
    `read_sentences=False` leaves the sentence model out (its training weighs the rules' outcomes alone)."""
    charter = charter or load_charter()
    titles = [item.title or "" for item in items]
    bodies = [item.body for item in items]
    if person_entities is not None or detect_names:
        entities = list(person_entities) if person_entities is not None \
            else personal_data.person_entity_spans(titles + bodies)
        title_entities, body_entities = entities[: len(items)], entities[len(items):]
    else:
        title_entities = body_entities = [[] for _ in items]
    # Folded once here for the checks that read folded text (flooding, abuse, off-topic).
    folded_bodies = [fold(body) for body in bodies]
    floods = find_floods(
        [(item.territory, item.body) for item in items], dict(recent_signatures), folded_texts=folded_bodies
    )
    # Each framework's off-topic vocabulary, once per batch (`framework_vocabulary` serialises the framework
    # to find it in its cache). By object: the items of a batch usually share one, alive until we return.
    vocabularies: dict[int, frozenset[str]] = {}

    def vocabulary_of(framework: Framework) -> frozenset[str]:
        if id(framework) not in vocabularies:
            vocabularies[id(framework)] = framework_vocabulary(framework)
        return vocabularies[id(framework)]

    results = []
    for index, item in enumerate(items):
        title, body = titles[index], bodies[index]
        title_data = personal_data.find_personal_data(title, title_entities[index], item.language)
        body_data = personal_data.find_personal_data(body, body_entities[index], item.language)
        known = {**personal_data.known_data(title, title_data), **personal_data.known_data(body, body_data)}
        if known:
            title_data = personal_data.mask_repeats(title, title_data, known)
            body_data = personal_data.mask_repeats(body, body_data, known)
        title_checks = _content_checks(title, fold(title), item.language, None, read_sentences=read_sentences)
        title_flags = [f.in_field("title") for f in title_data + title_checks]
        body_flags = body_data \
            + _content_checks(body, folded_bodies[index], item.language, item.framework, vocabulary_of,
                              read_sentences) \
            + floods.flags[index]
        flags = title_flags + body_flags
        policy = policy_by_territory.get(item.territory) or TerritoryPolicy()
        decision = decide(flags, policy, charter)
        redactions = [
            RedactedSpan(field=field, start=f.start, end=f.end, kind=f.kind, placeholder=personal_data.PLACEHOLDERS[f.kind])
            for field, data in (("title", title_data), ("body", body_data))
            for f in data
        ]
        results.append(ModerationResult(
            contribution_id=item.contribution_id,
            territory=item.territory,
            outcome=decision.outcome,
            suggested_outcome=decision.suggested_outcome,
            grounds=decision.grounds,
            flags=flags,
            redacted_title=personal_data.redact(title, title_data) if item.title is not None else None,
            redacted_body=personal_data.redact(body, body_data),
            redactions=redactions,
            flood_signature=floods.signatures[index],
            statement=build_statement(item.contribution_id, decision, flags, policy.mode, "fr", charter),
        ))
    return results, floods.by_territory


def statement_for(
    result: ModerationResult,
    language: str,
    policy: TerritoryPolicy | None = None,
    charter: Charter | None = None,
) -> StatementOfReasons:
    """The statement of reasons of a result in another language (`en` or `fr`)."""
    policy = policy or TerritoryPolicy()
    decision = decide(result.flags, policy, charter)
    decision = decision.model_copy(update={"outcome": result.outcome, "grounds": result.grounds})
    return build_statement(result.contribution_id, decision, result.flags, policy.mode, language, charter)
