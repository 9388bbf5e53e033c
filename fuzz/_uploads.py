"""What the ``users`` and ``groups`` targets share: validation, ``apply``, and the CSV reader
against :func:`csv.reader`."""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable

from caaspp_authz import Directory
from caaspp_authz._csvread import MAX_FIELD_CHARS, MAX_FIELDS, iter_records
from caaspp_authz.uploads import UploadError, UploadResult, Validation
from fuzz._common import check_problem

APPLY_REFUSED_ONE_IN = 4
"""``apply`` is run on one in this many files with an error (chosen by the file's CRC, so a
replay runs the same), to check it refuses them: validating a file twice would halve the rate
of executions for the check that finds least."""

Validate = Callable[[io.BytesIO, Directory], Validation]
Apply = Callable[[io.BytesIO, Directory], UploadResult]


class Trickle(io.BytesIO):
    """A stream that hands out at most ``step`` bytes a read, as a pipe may."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, size: int | None = -1, /) -> bytes:
        """At most ``step`` bytes."""
        if size is None or size < 0 or size > self.step:
            size = self.step
        return super().read(size)


def _ends_in_quotes(text: str) -> bool:
    """Whether ``text`` ends inside a quoted field, as :func:`csv.reader` reads it."""
    state = "start"
    for c in text:
        if state == "quoted":
            state = "quote" if c == '"' else "quoted"
        elif state == "quote":
            state = "quoted" if c == '"' else "start" if c in ",\r\n" else "plain"
        elif c in ",\r\n":
            state = "start"
        elif state == "start" and c == '"':
            state = "quoted"
        else:
            state = "plain"
    return state == "quoted"


def csv_reader_records(text: str) -> list[tuple[str, ...]] | None:
    """What the library's reader must give for clean ``text``: :func:`csv.reader`'s records
    without the blank ones, a blank one wider than the header as ``()`` (``_csvread``'s
    promise); ``None`` when the text is not clean (a NUL, a BOM, a field or record over the
    reader's bounds), where the reader reports problems instead."""
    if "\x00" in text or text.startswith("\ufeff"):
        return None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if any(len(r) > MAX_FIELDS or any(len(f) > MAX_FIELD_CHARS for f in r) for r in rows):
        return None
    out: list[tuple[str, ...]] = []
    header: list[str] | None = None
    open_last = _ends_in_quotes(text)
    for i, row in enumerate(rows):
        if any(field.strip() for field in row) or (open_last and i == len(rows) - 1 and any(row)):
            header = header or row
            out.append(tuple(row))
        elif header is not None and len(row) > max(len(header), 1):
            out.append(())
    return out


def check_csv(data: bytes) -> None:
    """On clean UTF-8 text the library's CSV reader reads what ``csv.reader`` reads, whole or
    a few bytes a read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    expected = csv_reader_records(text)
    if expected is None:
        return
    step = 1 + (len(data) * 7) % 29
    for stream in (io.BytesIO(data), Trickle(data, step)):
        got = [r.fields for r in iter_records(stream)]
        assert got == expected, (got, expected)


def check_upload(
    data: bytes, d: Directory, validate: Validate, apply: Apply
) -> UploadResult | None:
    """Validation reports bounded problems and never raises; ``apply`` applies the files with
    no error and refuses those with one (one in :data:`APPLY_REFUSED_ONE_IN`), with the same
    errors. Returns what
    ``apply`` gave for a valid file."""
    v = validate(io.BytesIO(data), d)
    for p in v.problems:
        check_problem(p)
        assert p.row is None or p.row >= 1, p
    if not v.valid and zlib.crc32(data) % APPLY_REFUSED_ONE_IN:
        return None
    try:
        result = apply(io.BytesIO(data), d)
    except UploadError as exc:
        assert not v.valid, exc
        assert [p for p in exc.problems if p.is_error] == [p for p in v.problems if p.is_error]
        return None
    assert v.valid, v.problems
    return result
