"""The error tree every layer raises; the web layer turns it into problem+json in one place."""

from __future__ import annotations

from collections import namedtuple


class PokyError(Exception):
    """Base of every error Poky raises on purpose. ``status`` is the HTTP status it maps to."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FieldError(namedtuple("FieldError", "location message")):
    """One bad field: ``location`` is a JSON-pointer-like path into the request, e.g. /params/seconds.

    A namedtuple, not a dataclass: the container's runner imports this module at every start,
    and dataclasses (with inspect) would add tens of milliseconds to each job.
    """

    __slots__ = ()
    location: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message}


class ValidationError(PokyError):
    status = 422
    title = "Invalid request"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class BadRequest(ValidationError):
    """The request could not be read at all (malformed JSON, missing form field)."""

    status = 400
    title = "Bad request"


class NotFound(PokyError):
    status = 404
    title = "Not found"


class Conflict(PokyError):
    status = 409
    title = "Conflict"


class Forbidden(PokyError):
    status = 403
    title = "Forbidden"


class ConfigError(PokyError):
    """A setting is missing or wrong; raised at start-up, naming the variable."""

    title = "Configuration error"


class StaleWrite(Conflict):
    """A guarded write lost the race: the record changed since it was read."""


class InvalidTransition(Conflict):
    """The state machine refuses the move (e.g. a terminal job cannot start again)."""


class LaunchError(PokyError):
    """Starting a container failed. ``retryable`` says whether trying again may help."""

    status = 502
    title = "Launch failed"

    def __init__(
        self, message: str, *, reason: str = "LaunchFailed", hint: str = "", retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.hint = hint
        self.retryable = retryable
