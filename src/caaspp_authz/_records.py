"""The record source the upload validators read (U3), behind one small private interface.

:func:`header_and_records` and :func:`looks_like_formula` are all the validators use; the
reading itself is :mod:`caaspp_authz._csvread`'s.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from typing import BinaryIO

import attrs

from caaspp_authz.errors import Problem

__all__ = ["Record", "header_and_records", "looks_like_formula"]

_FORMULA_STARTS = frozenset("=+-@\t\r")


@attrs.frozen
class Record:
    """One record: its spreadsheet row, its fields, and problems of its text (U3)."""

    row: int
    fields: tuple[str, ...]
    problems: tuple[Problem, ...] = ()


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula."""
    return text[:1] in _FORMULA_STARTS


def _records(source: BinaryIO | str | os.PathLike[str]) -> Iterator[Record]:
    owned = isinstance(source, str | os.PathLike)
    stream = open(source, "rb") if isinstance(source, str | os.PathLike) else source  # noqa: SIM115
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        for i, fields in enumerate(csv.reader(text), start=1):
            if any(f.strip() for f in fields):
                yield Record(i, tuple(fields))
    finally:
        text.detach()
        if owned:
            stream.close()


def header_and_records(
    source: BinaryIO | str | os.PathLike[str],
) -> tuple[Record | None, Iterator[Record]]:
    """The header record (``None`` for an empty file) and the records after it."""
    records = _records(source)
    return next(records, None), records
