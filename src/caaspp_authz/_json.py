"""Strict JSON reading for the directory and request formats.

The standard reader takes the last of two equal keys silently, reads a 5,000-digit number until
the interpreter's conversion limit raises a bare ``ValueError``, accepts ``NaN``, and ends a
value nested 100,000 deep in ``RecursionError``. :func:`loads` refuses each of these with a
:class:`JsonProblem` that says which, echoing at most a bounded part of any value.
"""

from __future__ import annotations

import json
from typing import Any

from caaspp_authz.errors import shown

__all__ = ["MAX_DIGITS", "JsonProblem", "loads"]

MAX_DIGITS = 64
"""The longest number read, in characters: no field of the formats takes a longer one."""


class JsonProblem(ValueError):
    """JSON text the formats refuse; the message, to follow the text's name, says why.

    For example ``has key `active` twice in one object`` or ``is nested too deeply to read``;
    values are bounded (:func:`~caaspp_authz.errors.shown`).
    """


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonProblem(f"has key `{shown(key)}` twice in one object")
            seen.add(key)
    return found


def _number(text: str) -> int | float:
    if len(text) > MAX_DIGITS:
        raise JsonProblem(
            f"has a number of {len(text)} characters, longer than any field takes "
            f"({MAX_DIGITS} at most)"
        )
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _constant(text: str) -> Any:
    raise JsonProblem(f"has `{text}`, which is not a JSON value")


def loads(text: str | bytes) -> Any:
    """Parse JSON text, refusing duplicate keys, over-long numbers, ``NaN`` and deep nesting."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_number,
            parse_float=_number,
            parse_constant=_constant,
        )
    except JsonProblem:
        raise
    except json.JSONDecodeError as exc:
        raise JsonProblem(
            f"is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise JsonProblem("is nested too deeply to read") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonProblem(f"is not JSON: {shown(str(exc))}") from None
