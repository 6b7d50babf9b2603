"""What a use case refuses, said in the domain's words; `shared.http` answers each as an RFC 9457 problem
(one mapping), the moderation UI as a page, a command line as a message."""

from typing import Any


class DomainError(Exception):
    """A refusal: `title` says what, `detail` why; `kind` names the refusal when a caller may act on it
    (e.g. "validation"); `extra` carries what the caller may show (e.g. the allowed values)."""

    kind: str | None = None

    def __init__(self, title: str, detail: str | None = None, *, kind: str | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.title = title
        self.detail = detail
        self.kind = kind or self.kind
        self.extra = extra


class NotFound(DomainError):
    """What the request names does not exist."""


class Conflict(DomainError):
    """The request contradicts the current state (already exists, already closed, not decided yet...)."""


class Gone(DomainError):
    """What the request names existed and was removed for good (an erased contribution)."""


class NotAllowed(DomainError):
    """The caller may not ask this (it is someone else's, or not for its kind of caller)."""


class Unavailable(DomainError):
    """Something the use case needs is away for now (a mail server...): asking again later may work."""


class Invalid(DomainError):
    """The request is well formed but asks for what cannot be (an unknown framework, an axis outside it...)."""


class InvalidContent(Invalid):
    """Content refused item by item (`errors` says which and why)."""

    kind = "validation"
