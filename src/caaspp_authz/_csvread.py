"""Read an upload file (CSV) as a stream of records, safely, whatever the bytes are (U3).

The TOMS user upload and the CERS student-group upload are CSV files that people export from
spreadsheets, so they arrive with a BOM or not, CRLF, LF or CR-only line endings, quoted fields,
Windows-1252 text, stray NUL bytes, and now and then an unclosed quote that swallows the rest of
the file. This module turns such bytes into :class:`Record` values and reports what is wrong as
:class:`~caaspp_authz.errors.Problem` values (rule U3) on the record where it is; it never raises
on bad content, and it never holds more than a bounded amount of the file in memory.

What a caller sees
------------------
- A record is numbered the way a spreadsheet numbers rows: the first record of the file (the
  header) is row 1, the next is row 2. A quoted field that spans several lines is still one
  record, so it takes one row number, the number of the row where the record starts, as a
  spreadsheet that opens the file shows it.
- A blank record (an empty line, a line of white space, or a line of empty fields such as
  ``,,,,,`` that a spreadsheet writes for an empty row) is skipped but counted: it is a row in
  the spreadsheet, so the rows after it keep the numbers the user sees. The header is the first
  record that is not blank. A blank record with more fields than the header is skipped too, but
  not in silence: it comes as a record with no field and a warning (U3).
- Fields are returned exactly as the file has them (no stripping). A field longer than
  :data:`MAX_FIELD_CHARS` keeps its first :data:`MAX_FIELD_CHARS` characters and the record
  carries a problem that gives the field's true length; a record with more than
  :data:`MAX_FIELDS` fields keeps the first :data:`MAX_FIELDS`.
- A BOM (U+FEFF) at the very start of the file is dropped, however many there are.
- Bytes that are not UTF-8 are decoded as U+FFFD, and the record carries a problem for each field
  that has them, saying the file is not UTF-8 (and, when the bytes read as Windows-1252, that it
  looks like Windows-1252 and how the field reads so). A NUL character is kept in the field and
  the field gets a problem. Both are looked for in the characters kept, so in a field cut to
  :data:`MAX_FIELD_CHARS` only its first characters are looked at (the length is an error
  anyway). A quote left open at the end of the file is reported on the record where it opened.
- A problem names its column by the header's name for that column when the header has a usable
  one, and otherwise by the spreadsheet letter (``A``, ``B``, ... ``AA``).
- A field that a spreadsheet would run as a formula (``=HYPERLINK(...)``) is data here and is not
  altered; :func:`looks_like_formula` lets a validator warn about it.

How it streams
--------------
Bytes are read in chunks of :data:`_CHUNK_BYTES` and decoded with a UTF-8 decoder that carries an
incomplete character over to the next chunk; a chunk that fails strict decoding is decoded again
with ``surrogateescape`` so that the offending bytes can be found, and reported, in the record
that holds them. Each chunk is split into lines at ``\\r``, ``\\n`` and ``\\r\\n`` (the C
implementation of universal newlines), and the lines are handed, a whole chunk at a time, to
:func:`csv.reader`, so the common case runs at C speed with a few comparisons per record in
Python. A validator may read the same records from ``_parts``, where the records of one line
with no problem come as lists of fields in batches of at most :data:`_BATCH_RECORDS`, with no
:class:`Record` built for them.

The fast path gives up on the record in progress when a line is longer than
:data:`MAX_FIELD_CHARS`, when the chunks that hold the record in progress pass
:data:`_RECORD_WEIGHT` (a quoted field running on over many lines), when the first bytes that are
not UTF-8 or a NUL turn up, and at the end of the file. Every chunk that still holds a line of the
record in progress is kept, so the record's text can be put back in front of the rest of the input;
a small tokenizer of its own then reads that one record, keeping at most :data:`MAX_FIELD_CHARS`
characters of each field and counting the rest, and the fast path starts again after it. The
tokenizer follows the rules of :func:`csv.reader` with the default (``excel``) dialect, so both
paths read the same text the same way. At the end of the file the last record always goes through
the tokenizer, which is how a quote left open is noticed. Once text that is not UTF-8 or a NUL has
been read, every later record is checked for it in Python, which is slower; such a file is refused
anyway.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import BinaryIO

import attrs

from caaspp_authz.errors import Problem, Severity

__all__ = [
    "MAX_FIELDS",
    "MAX_FIELD_CHARS",
    "Record",
    "header_and_records",
    "iter_records",
    "looks_like_formula",
]

MAX_FIELD_CHARS = 4096
"""How many characters of one field are kept; the rest are counted and dropped."""

MAX_FIELDS = 256
"""How many fields of one record are kept; the rest are counted and dropped."""

_CHUNK_BYTES = 1 << 15
"""How many bytes are read from the stream at a time."""

_RECORD_WEIGHT = 1 << 16
"""How much of the chunks that hold one record the fast path keeps before handing over.

A chunk weighs its characters plus :data:`_LINE_WEIGHT` per line, since short lines cost more in
their list than in their text.
"""

_LINE_WEIGHT = 48

_SHOWN_CHARS = 80
"""How many characters of a value a problem shows."""

_UTF8_FIX = "save the file as CSV UTF-8 (in Excel: Save As, then CSV UTF-8 (Comma delimited))"
_FORMULA_STARTS = frozenset("=+-@\t\r")
_DIRT = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_QUOTE = re.compile('"')
_FIELD_END = re.compile("[,\r\n]")
_SPELLED = str.maketrans({"\x00": "\\x00", "\r": "\\r", "\n": "\\n"})


@attrs.frozen
class Record:
    """One record of an upload file: its spreadsheet row, its fields, and what is wrong with it.

    ``row`` counts records from the header (row 1), blank records included; a record that spans
    several lines has the row where it starts. ``problems`` are rule U3 problems of the record's
    text (encoding, NUL characters, length, quotes); the meaning of the fields is the validators'.
    """

    row: int
    fields: tuple[str, ...]
    problems: tuple[Problem, ...] = ()


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula (it starts with ``=+-@``, tab or CR).

    Such a value is data to this library; a validator may warn that opening an export of it in a
    spreadsheet could run it (CSV or formula injection).
    """
    return text[:1] in _FORMULA_STARTS


def iter_records(source: BinaryIO | str | os.PathLike[str]) -> Iterator[Record]:
    """Yield the records of a CSV upload that are not blank, the header first (U3).

    ``source`` is a binary stream, read from where it stands and left open, or a path, opened
    when the first record is asked for and closed when the iterator is exhausted or closed. An
    empty file yields nothing; a file with only a header yields one record.
    """
    return _records(source)


def header_and_records(
    source: BinaryIO | str | os.PathLike[str],
) -> tuple[Record | None, Iterator[Record]]:
    """Return the header record (``None`` for a file with no records) and the records after it.

    The header is read at once; the other records are read as the returned iterator is consumed.
    """
    records = iter_records(source)
    return next(records, None), records


# -- decoding ---------------------------------------------------------------------------------


class _Text:
    """Decoded text of a binary stream, a chunk at a time, with text put back read first."""

    __slots__ = ("_back", "_chunk", "_start", "_stream", "_tail", "dirty")

    def __init__(self, stream: BinaryIO, chunk_bytes: int = _CHUNK_BYTES) -> None:
        self._stream = stream
        self._chunk = chunk_bytes
        self._tail = b""
        self._back: list[str] = []
        self._start = True
        self.dirty = False
        """Whether any text read so far has bytes that are not UTF-8 or a NUL character."""

    def read(self) -> str:
        """The next piece of text; ``""`` at the end of the input."""
        if self._back:
            return self._back.pop()
        while True:
            data = self._stream.read(self._chunk)
            if isinstance(data, str):
                raise TypeError("an upload file must be read in binary mode ('rb'), not as text")
            final = not data
            buf = self._tail + data if self._tail else data
            try:
                text, used = codecs.utf_8_decode(buf, "strict", final)
            except UnicodeDecodeError:
                text, used = codecs.utf_8_decode(buf, "surrogateescape", final)
                self.dirty = True
            self._tail = buf[used:]
            if not self.dirty and "\x00" in text:
                self.dirty = True
            if self._start and text:
                text = text.lstrip("\ufeff")
                self._start = not text
            if text or final:
                return text

    def unread(self, text: str) -> None:
        """Put ``text`` back so that the next :meth:`read` returns it."""
        if text:
            self._back.append(text)


# -- the fast path ----------------------------------------------------------------------------


class _Interrupt(Exception):
    """The fast path hands the record in progress to the tokenizer."""


class _Pipe:
    """What the fast path needs to put the record in progress back: its start and its lines."""

    __slots__ = ("chunks", "pending", "start")

    def __init__(self) -> None:
        self.start = 0
        """The number of lines that records before the one in progress took."""
        self.chunks: list[tuple[int, list[str], int]] = []
        """Chunks handed to the reader: number of the first line, lines, weight."""
        self.pending = ""
        """Text read but not handed to the reader."""

    def rewind(self, text: _Text) -> None:
        """Put back every line from the start of the record in progress, then the pending text."""
        parts: list[str] = []
        for first, lines, _ in self.chunks:
            skip = self.start - first
            parts.extend(lines[skip:] if skip > 0 else lines)
        parts.append(self.pending)
        self.chunks = []
        text.unread("".join(parts))


def _split_lines(text: str) -> list[str]:
    return io.StringIO(text, newline="").readlines()


def _feed(text: _Text, pipe: _Pipe, *, checked: bool) -> Iterator[list[str]]:
    """Yield lists of whole lines for :func:`csv.reader`; raise :class:`_Interrupt` to hand over.

    Unless ``checked``, the first text that is not clean (not UTF-8, or a NUL) hands over, so that
    the caller goes on in checked mode.
    """
    carry = ""
    first = 0
    chunks = pipe.chunks
    while True:
        piece = text.read()
        if not piece or (text.dirty and not checked):
            pipe.pending = carry + piece
            raise _Interrupt
        piece = carry + piece if carry else piece
        lines = _split_lines(piece)
        carry = "" if lines[-1][-1] == "\n" else lines.pop()
        if not lines:
            if len(carry) > MAX_FIELD_CHARS:
                pipe.pending = carry
                raise _Interrupt
            continue
        while chunks and chunks[0][0] + len(chunks[0][1]) <= pipe.start:
            del chunks[0]
        if sum(weight for _, _, weight in chunks) > _RECORD_WEIGHT:
            pipe.pending = "".join(lines) + carry
            raise _Interrupt
        if max(map(len, lines)) > MAX_FIELD_CHARS or len(carry) > MAX_FIELD_CHARS:
            long = next(
                (i for i, line in enumerate(lines) if len(line) > MAX_FIELD_CHARS), len(lines)
            )
            pipe.pending = "".join(lines[long:]) + carry
            if long:
                chunks.append((first, lines[:long], 0))
                yield lines[:long]
            raise _Interrupt
        chunks.append((first, lines, len(piece) - len(carry) + _LINE_WEIGHT * len(lines)))
        first += len(lines)
        yield lines


def _records(source: BinaryIO | str | os.PathLike[str]) -> Iterator[Record]:
    """Every record that is not blank, numbered as spreadsheet rows."""
    for part in _parts(source):
        if isinstance(part, Record):
            yield part
        else:
            first, batch = part
            for row, fields in enumerate(batch, first):
                yield _record(row, tuple(fields), ())


_Batch = tuple[int, list[list[str]]]
"""Records with no problem on consecutive rows: the row of the first, and each one's fields."""

_BATCH_RECORDS = 128
"""How many records a batch holds at most (each of one line of at most
:data:`MAX_FIELD_CHARS` characters, so a batch holds at most 512 Ki characters)."""


def _parts(source: BinaryIO | str | os.PathLike[str]) -> Iterator[Record | _Batch]:
    """The records of :func:`_records`, in order, those of the fast path in batches.

    A batch holds records that are one line each, have no problem and no more than
    :data:`MAX_FIELDS` fields, on consecutive rows; a blank record ends a batch, as does any
    record yielded as a :class:`Record` (the header, a record of several lines, a record with a
    problem, a record read by the tokenizer, every record once the text is not clean). The
    header is always a :class:`Record`. Expanding each batch ``(first, batch)`` to
    ``Record(first + i, tuple(batch[i]))`` gives exactly the records of the record path.
    """
    with _opened(source) as stream:
        text = _Text(stream)
        row = 0
        header: tuple[str, ...] | None = None
        while True:
            pipe = _Pipe()
            checked = text.dirty
            careful = checked or header is None
            reader = csv.reader(itertools.chain.from_iterable(_feed(text, pipe, checked=checked)))
            batch: list[list[str]] = []
            append = batch.append
            first = row + 1
            try:
                while True:
                    before = row
                    for fields in itertools.islice(reader, _BATCH_RECORDS):
                        row += 1
                        end = reader.line_num
                        if (
                            careful
                            or end - pipe.start != 1
                            or len(fields) > MAX_FIELDS
                            or not fields
                            or not fields[0]
                            or fields[0].isspace()
                        ):
                            # the header, a record of several lines or too many fields, and a
                            # record whose first field is empty or blank (a blank record, or
                            # one that _finish tells from it) are read one by one
                            if batch:
                                yield first, batch
                                batch = []
                                append = batch.append
                            first = row + 1
                            record = _finish(row, fields, header, dirty=text.dirty)
                            if record is not None:
                                if header is None:
                                    header = record.fields
                                    careful = checked
                                yield record
                        else:
                            append(fields)
                        pipe.start = end
                    if batch:
                        yield first, batch
                        batch = []
                        append = batch.append
                    first = row + 1
                    if row == before:  # the reader ended (the feed raises before it can)
                        break
            except (_Interrupt, csv.Error):
                pass
            if batch:
                yield first, batch
            pipe.rewind(text)
            raw = _read_one(text)
            if raw is None:
                return
            row += 1
            record = _finish(
                row,
                raw.fields,
                header,
                dirty=text.dirty,
                lengths=raw.lengths,
                count=raw.count,
                open_quote=raw.open_quote,
                blank=raw.blank,
            )
            if record is not None:
                if header is None:
                    header = record.fields
                yield record


def _opened(source: BinaryIO | str | os.PathLike[str]) -> AbstractContextManager[BinaryIO]:
    """A path opened for reading in binary, or a stream left as it is (and open) on exit."""
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb")
    return nullcontext(source)


_new_object = object.__new__
_set_row = Record.__dict__["row"].__set__
_set_fields = Record.__dict__["fields"].__set__
_set_problems = Record.__dict__["problems"].__set__


def _record(row: int, fields: tuple[str, ...], problems: tuple[Problem, ...]) -> Record:
    """Build a :class:`Record` on the hot path, setting its slots without the attrs ``__init__``.

    ``Record`` has no converters or validators, so this is the same value, built a third faster.
    """
    record: Record = _new_object(Record)
    _set_row(record, row)
    _set_fields(record, fields)
    _set_problems(record, problems)
    return record


# -- the tokenizer ----------------------------------------------------------------------------


class _Field:
    """One field being read: the characters kept and how many there were."""

    __slots__ = ("kept", "parts", "total")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.total = 0

    def add(self, piece: str) -> None:
        self.total += len(piece)
        room = MAX_FIELD_CHARS - self.kept
        if room > 0 and piece:
            piece = piece[:room]
            self.parts.append(piece)
            self.kept += len(piece)


class _Raw:
    """One record read by the tokenizer, with its fields capped."""

    __slots__ = ("blank", "count", "fields", "lengths", "open_quote")

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.lengths: dict[int, int] = {}
        self.count = 0
        self.open_quote: int | None = None
        self.blank = True

    def add(self, field: _Field) -> None:
        if field.total:
            self.blank = False
        if self.count < MAX_FIELDS:
            if field.total > field.kept:
                self.lengths[self.count] = field.total
            self.fields.append("".join(field.parts))
        self.count += 1


class _Scanner:
    """A cursor over the text of a :class:`_Text` that reads on as needed."""

    __slots__ = ("pos", "source", "text")

    def __init__(self, source: _Text) -> None:
        self.source = source
        self.text = ""
        self.pos = 0

    def _fill(self) -> bool:
        while self.pos >= len(self.text):
            self.text = self.source.read()
            self.pos = 0
            if not self.text:
                return False
        return True

    def peek(self) -> str:
        """The next character, not consumed; ``""`` at the end of the input."""
        return self.text[self.pos] if self._fill() else ""

    def take_until(self, stop: re.Pattern[str], field: _Field) -> str:
        """Add characters up to the next match of ``stop`` to ``field``; return the stop char."""
        while self._fill():
            match = stop.search(self.text, self.pos)
            end = match.start() if match else len(self.text)
            field.add(self.text[self.pos : end])
            self.pos = end
            if match:
                return self.text[end]
        return ""

    def end_line(self) -> None:
        """Consume one line ending: ``\\n``, ``\\r`` or ``\\r\\n``."""
        char = self.text[self.pos]
        self.pos += 1
        if char == "\r" and self.peek() == "\n":
            self.pos += 1

    def close(self) -> None:
        """Put back what was read and not consumed."""
        self.source.unread(self.text[self.pos :])


def _read_one(source: _Text) -> _Raw | None:
    """Read one record the way :func:`csv.reader` does; ``None`` at the end of the input."""
    scan = _Scanner(source)
    char = scan.peek()
    if not char:
        return None
    raw = _Raw()
    if char in "\r\n":
        scan.end_line()
        scan.close()
        return raw
    while True:
        field = _Field()
        if scan.peek() == '"':
            scan.pos += 1
            while True:
                if not scan.take_until(_QUOTE, field):
                    raw.open_quote = raw.count
                    raw.add(field)
                    scan.close()
                    return raw
                scan.pos += 1
                char = scan.peek()
                if char != '"':
                    break
                field.add('"')
                scan.pos += 1
            if char and char not in ",\r\n":
                char = scan.take_until(_FIELD_END, field)
        else:
            char = scan.take_until(_FIELD_END, field)
        raw.add(field)
        if char == ",":
            scan.pos += 1
            continue
        if char:
            scan.end_line()
        scan.close()
        return raw


# -- problems ---------------------------------------------------------------------------------


def _finish(
    row: int,
    fields: list[str],
    header: tuple[str, ...] | None,
    *,
    dirty: bool,
    lengths: dict[int, int] | None = None,
    count: int | None = None,
    open_quote: int | None = None,
    blank: bool | None = None,
) -> Record | None:
    """Cap a record's fields and find its problems; ``None`` for a blank record.

    A record is blank when every field is empty or only white space (U3): an empty line, a line
    of spaces, a line of commas. A blank record wider than the header is not skipped in
    silence: it comes as a record with no field and a warning that it was skipped.
    """
    if blank is None:
        blank = not any(fields)
    if not blank and open_quote is None and not any(f.strip() for f in fields):
        blank = True
    if blank:
        width = len(fields) if count is None else count
        if header is not None and width > max(len(header), 1):
            skipped = Problem(
                rule="U3",
                message=f"the row has only empty fields, {width} of them, more than the "
                f"{len(header)} columns of the header: it is skipped",
                severity=Severity.WARNING,
                row=row,
                fix="delete the row, or fill it in",
            )
            return _record(row, (), (skipped,))
        return None
    if lengths is None:
        lengths = {}
        count = len(fields)
        if count > MAX_FIELDS:
            del fields[MAX_FIELDS:]
        for index, value in enumerate(fields):
            if len(value) > MAX_FIELD_CHARS:
                lengths[index] = len(value)
                fields[index] = value[:MAX_FIELD_CHARS]
    problems: list[Problem] = []
    for index, value in enumerate(fields):
        if dirty and _DIRT.search(value):
            fields[index] = _clean(value, row, _column(index, header), problems)
        if index in lengths:
            problems.append(_too_long(row, _column(index, header), fields[index], lengths[index]))
        if index == open_quote:
            problems.append(_open_quote(row, _column(index, header), fields[index]))
    if count is not None and count > MAX_FIELDS:
        problems.append(
            Problem(
                rule="U3",
                message=f"the record has {count:,} fields; only the first {MAX_FIELDS} are read",
                row=row,
                fix="a record of an upload file has one field per column of the header",
            )
        )
    return _record(row, tuple(fields), tuple(problems))


def _clean(value: str, row: int, column: str, problems: list[Problem]) -> str:
    """Report the bytes that are not UTF-8 and the NUL characters in ``value``; decode it."""
    if "\x00" in value:
        problems.append(
            Problem(
                rule="U3",
                message=f"the field `{_shown(value)}` has a NUL character, "
                "which a CSV text file never has",
                row=row,
                column=column,
                value=_shown(value),
                fix="export the file again as CSV UTF-8; a file full of NUL characters is "
                "often UTF-16 (Excel's Unicode Text), which is not accepted",
            )
        )
    if not _SURROGATE.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    decoded = data.decode("utf-8", "replace")
    message = f"the file is not UTF-8: `{_shown(decoded)}` has bytes that are not UTF-8"
    try:
        guess = data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        message += f"; the file looks like Windows-1252, where this reads `{_shown(guess)}`"
    problems.append(
        Problem(
            rule="U3",
            message=message,
            row=row,
            column=column,
            value=_shown(decoded),
            fix=_UTF8_FIX,
        )
    )
    return decoded


def _too_long(row: int, column: str, value: str, length: int) -> Problem:
    return Problem(
        rule="U3",
        message=f"a field of {length:,} characters is too long; only the first "
        f"{MAX_FIELD_CHARS:,} are read: `{_shown(value)}`",
        row=row,
        column=column,
        value=_shown(value),
        fix='a field this long usually means a `"` is never closed; check the quotes in this row',
    )


def _open_quote(row: int, column: str, value: str) -> Problem:
    return Problem(
        rule="U3",
        message=f'the file ends inside a quoted field that starts in this row: `"{_shown(value)}`',
        row=row,
        column=column,
        value=_shown(value),
        fix='close the quote with `"`, or remove it; a field with a comma, a quote or a line '
        'break is written in quotes, with each `"` inside doubled',
    )


def _shown(value: str) -> str:
    """``value`` as a problem shows it: NUL and line breaks spelled out, at most 80 characters."""
    value = value.translate(_SPELLED)
    return value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 1] + "\u2026"


def _column(index: int, header: tuple[str, ...] | None) -> str:
    """The header's name for the column at ``index`` if it has a usable one, else its letter."""
    if header is not None and index < len(header):
        name = header[index].strip()
        if name and len(name) <= _SHOWN_CHARS and name.isprintable():
            return name
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
