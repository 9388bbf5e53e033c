"""One family of errors for malformed input.

Every error the library raises for bad input derives from :class:`CaasppAuthzError` and also
from the matching builtin (``ValueError`` or ``LookupError``), so callers may catch either.
Where many things are wrong at once (a directory, an upload file), the error carries every
:class:`Problem`, not only the first.
"""

from __future__ import annotations

import enum
import reprlib
from collections.abc import Iterable

import attrs

__all__ = [
    "CaasppAuthzError",
    "DirectoryError",
    "InvalidCDSCode",
    "InvalidEmail",
    "Problem",
    "RequestError",
    "Severity",
    "UnknownRole",
    "shown",
]

SHOWN = 80
"""How many characters of a value an error or a denial echoes (:func:`shown`)."""
_VALUE_LIMIT = 200
_MESSAGE_LIMIT = 2000


def shown(value: object, limit: int = SHOWN) -> str:
    """``value`` as text for a message, at most ``limit`` characters and its true length.

    Every value a message echoes goes through this, so a 50 MB field is never echoed back:
    ``shown("x" * 10**6)`` is the first 80 characters, an ellipsis and ``(1000000 characters)``.
    Text is shown as it is; anything else as its ``repr``, shortened at any depth (a list
    nested 100,000 deep is shown, not a ``RecursionError``).
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and value.bit_length() > 200:  # repr fails past 4,300 digits
        return f"<a number of about {int(value.bit_length() * 0.30103) + 1} digits>"
    else:
        short = reprlib.Repr()
        short.maxlevel, short.maxstring, short.maxother = 3, limit, limit
        text = short.repr(value)  # bounded in depth and length, whatever the nesting
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def kinds(names: Iterable[str]) -> str:
    """Names of kinds of thing for a message, each with its article, joined by "or":
    ``kinds(["Organization", "ProgramScope"])`` is ``"an Organization or a ProgramScope"``."""
    return " or ".join(f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}" for name in names)


def _bounded_value(value: str | None) -> str | None:
    return None if value is None else shown(value, _VALUE_LIMIT)


def _bounded_message(message: str) -> str:
    return shown(message, _MESSAGE_LIMIT)


class Severity(enum.Enum):
    """How bad a :class:`Problem` is: an error refuses the input, a warning does not."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Problem:
    """One thing wrong with a piece of input, located as precisely as the input allows.

    ``where`` names the record in words (``account `a@b.org```, ``organization 3``) for JSON
    directories; ``row`` is the spreadsheet row (the header is row 1) for upload files.
    ``where``, ``column``, ``value`` and ``fix`` keep at most 200 characters and ``message``
    2,000 (then an ellipsis and the true length, :func:`shown`), so no problem echoes a huge
    field back.
    """

    rule: str
    message: str = attrs.field(converter=_bounded_message)
    severity: Severity = Severity.ERROR
    where: str | None = attrs.field(default=None, converter=_bounded_value)
    row: int | None = None
    column: str | None = attrs.field(default=None, converter=_bounded_value)
    value: str | None = attrs.field(default=None, converter=_bounded_value)
    fix: str | None = attrs.field(default=None, converter=_bounded_value)

    @property
    def is_error(self) -> bool:
        """Whether this problem refuses the input."""
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        place = []
        if self.row is not None:
            place.append(f"row {self.row}")
        if self.where is not None:
            place.append(self.where)
        if self.column is not None:
            place.append(f"column {self.column}")
        head = ", ".join(place)
        text = f"{head}: {self.message}" if head else self.message
        text = f"[{self.rule}] {text}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class CaasppAuthzError(Exception):
    """Base of every error that ``caaspp_authz`` raises for malformed input."""


class InvalidCDSCode(CaasppAuthzError, ValueError):
    """A text that is not a 14-digit CDS code (O2, O5); the message names the likely cause."""

    def __init__(self, value: str, message: str) -> None:
        super().__init__(message)
        self.value = value
        self.rule = "O5"


class InvalidEmail(CaasppAuthzError, ValueError):
    """A text that is not a usable e-mail address (E1, E6)."""

    def __init__(self, value: str, message: str, *, rule: str = "E1") -> None:
        super().__init__(message)
        self.value = value
        self.rule = rule


class UnknownRole(CaasppAuthzError, LookupError):
    """A role name that is none of the catalog's spellings (R3, R4)."""

    def __init__(self, value: str, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.value = value
        self.suggestion = suggestion
        self.rule = "R4"

    def __str__(self) -> str:
        return str(self.args[0])


class RequestError(CaasppAuthzError, ValueError):
    """A request that is not of the request format (wrong shape, an action that does not exist)."""


class DirectoryError(CaasppAuthzError, ValueError):
    """A directory that breaks the rulebook; it carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [p for p in self.problems if p.is_error]
        head = f"the directory is refused: {len(errors)} problem(s)"
        super().__init__("\n".join([head, *(f"  {p}" for p in errors)]))
