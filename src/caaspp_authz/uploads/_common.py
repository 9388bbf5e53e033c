"""Pieces both upload files share: opening a source, the header, a row's width, problems."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from caaspp_authz._csvread import Record, _Batch, _parts, header_and_records, looks_like_formula
from caaspp_authz.accounts import Account
from caaspp_authz.directory import Directory
from caaspp_authz.errors import DirectoryError, InvalidCDSCode, Problem, Severity
from caaspp_authz.resources import Group
from caaspp_authz.uploads.report import UploadError

Source = str | os.PathLike[str] | BinaryIO | bytes
"""An upload file: a path, an open binary stream, or the file's bytes."""

_SHOWN = 80


def csv_safe(value: str) -> str:
    """A value for a CSV file the library writes, safe to open in a spreadsheet (U3).

    A value that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could run as
    a formula (CSV injection); it is written after a ``'``, which a spreadsheet shows as text.
    """
    return "'" + value if looks_like_formula(value) else value


def kept_text(value: str) -> str:
    """A name or phone as the directory keeps it: without surrounding spaces (U1), unless
    removing them would leave a value that starts like a formula (U3): `\t=1` stays `\t=1`."""
    stripped = value.strip()
    if stripped != value and looks_like_formula(stripped):
        return value
    return stripped


def _open(source: Source) -> tuple[Record | None, Iterator[Record]]:
    if isinstance(source, bytes | bytearray):
        return header_and_records(io.BytesIO(bytes(source)))
    return header_and_records(source)


def _open_parts(source: Source) -> tuple[Record | None, Iterator[Record | _Batch]]:
    """The header and the records after it, the fast path's in batches (see ``_parts``)."""
    parts = _parts(io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray) else source)
    header = next(parts, None)
    assert header is None or isinstance(header, Record)  # the header is never in a batch
    return header, parts


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "…"


def _problem(
    rule: str,
    message: str,
    *,
    row: int,
    column: str | None = None,
    value: str | None = None,
    fix: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Problem:
    return Problem(
        rule,
        message,
        severity=severity,
        row=row,
        column=column,
        value=None if value is None else _shown(value),
        fix=fix,
    )


def _header_problems(header: Record | None, expected: tuple[str, ...], rule: str) -> list[Problem]:
    """U1, U5: the header names every column, in order; names match case-insensitively."""
    listed = ",".join(expected)
    if header is None:
        return [
            _problem(
                rule, "the file is empty: it has no header", row=1, fix=f"start with `{listed}`"
            )
        ]
    problems = list(header.problems)
    got = header.fields
    for i, name in enumerate(expected):
        if i >= len(got):
            problems.append(
                _problem(
                    rule,
                    f"column `{name}` is missing from the header",
                    row=header.row,
                    column=name,
                    fix=f"the header is `{listed}`",
                )
            )
        elif got[i].strip().casefold() != name.casefold():
            problems.append(
                _problem(
                    rule,
                    f"column {i + 1} of the header is `{_shown(got[i])}`, not `{name}`",
                    row=header.row,
                    column=name,
                    value=got[i],
                    fix=f"the header is `{listed}`",
                )
            )
    for extra in got[len(expected) :]:
        problems.append(
            _problem(
                rule,
                f"the header has a column `{_shown(extra)}` after the {len(expected)} it takes",
                row=header.row,
                value=extra,
                fix=f"the header is `{listed}`",
            )
        )
    return problems


def _width_problem(record: Record, width: int) -> Problem | None:
    """U3: a record of the wrong width (a comma inside an unquoted field breaks the record)."""
    n = len(record.fields)
    if n == width:
        return None
    if n > width and not any(f.strip() for f in record.fields[width:]):
        # U3: only empty fields past the last column: the row ends with stray commas
        extra = n - width
        hint = f"the row ends with {extra} comma(s) too many: remove the trailing comma(s)"
    elif n > width:
        hint = "a comma inside a field breaks the record: put the field in double quotes"
    else:
        hint = "a field is missing: every row has a field for each column"
    return _problem(
        "U3",
        f"the row has {n} field(s), not {width}",
        row=record.row,
        value=",".join(record.fields),
        fix=hint,
    )


def _cds_fix(exc: InvalidCDSCode) -> str | None:
    text = str(exc.args[0])
    if "did you mean `" in text:
        return "write `" + text.split("did you mean `", 1)[1].split("`", 1)[0] + "`"
    if "scientific notation" in text or "decimal point" in text:
        return "re-enter the 14-digit code as text (format the column as Text before typing)"
    return None


def _formula_warning(row: int, column: str, value: str) -> Problem:
    """U3 (decision): a value a spreadsheet would run as a formula is kept, with a warning."""
    return _problem(
        "U3",
        f"`{_shown(value)}` starts with `{value[:1]}`: a spreadsheet that opens an export of it "
        "could run it as a formula",
        row=row,
        column=column,
        value=value,
        fix="remove the leading character",
        severity=Severity.WARNING,
    )


_Template = tuple[str, str, Severity, str | None, str | None, str | None]
"""A problem without its row: rule, message, severity, column, value, fix."""


def _at(row: int, t: _Template) -> Problem:
    rule, message, severity, column, value, fix = t
    return Problem(rule, message, severity=severity, row=row, column=column, value=value, fix=fix)


def _drain(records: Iterator[Any]) -> None:
    close = getattr(records, "close", None)
    if close is not None:
        close()


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: p.row or 0))


def _changed(
    directory: Directory,
    *,
    accounts: Iterable[Account] = (),
    groups: Iterable[Group] = (),
) -> Directory:
    """The new directory: ``directory`` with the changed accounts or groups, checked against
    the rulebook as ``Directory.build`` checks it (``Directory.with_changes``), not rebuilt."""
    try:
        return directory.with_changes(accounts=accounts, groups=groups)
    except DirectoryError as exc:
        raise UploadError(exc.problems) from None
