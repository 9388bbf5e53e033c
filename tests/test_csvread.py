"""Tests of the streaming CSV reader that upload validation sits on (rule U3)."""

from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caaspp_authz import _csvread
from caaspp_authz._csvread import (
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    Record,
    header_and_records,
    iter_records,
    looks_like_formula,
)
from caaspp_authz.errors import Severity

HEADER = b"First Name,Last Name,CDS Code,E-mail Address,Telephone Number,Role in Organization"
ROW = b"Ana,Lopez,19647330000000,ana@example.org,916-555-0100,Test Examiner"


class _Trickle(io.BytesIO):
    """A stream that hands out at most ``step`` bytes a read, the way a pipe or socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0 or size > self.step:
            size = self.step
        return super().read(size)


def _read(data: bytes, step: int | None = None) -> list[Record]:
    stream = io.BytesIO(data) if step is None else _Trickle(data, step)
    return list(iter_records(stream))


def _fields(data: bytes, step: int | None = None) -> list[tuple[str, ...]]:
    return [record.fields for record in _read(data, step)]


def _rows(data: bytes) -> list[int]:
    return [record.row for record in _read(data)]


def _csv_rows(text: str) -> list[tuple[str, ...]]:
    """What :func:`csv.reader` reads from ``text``, without the records of empty fields."""
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline="")) if any(row)]


def _ends_in_quotes(text: str) -> bool:
    """Whether ``text`` ends inside a quoted field, as :func:`csv.reader` (not strict) reads it.

    (The strict reader cannot tell: it stops at the first stray quote, such as ``""a``.)
    """
    state = "start"  # start of a field, in a plain field, in quotes, or a quote in quotes
    for c in text:
        if state == "quoted":
            state = "quote" if c == '"' else "quoted"
        elif state == "quote":  # `""` is a quote; a delimiter or line end closes the field
            state = "quoted" if c == '"' else "start" if c in ",\r\n" else "plain"
        elif c in ",\r\n":
            state = "start"
        elif state == "start" and c == '"':
            state = "quoted"
        else:
            state = "plain"
    return state == "quoted"


def _csv_reader(text: str) -> list[tuple[str, ...]]:
    """What the reader should give for ``text``: :func:`csv.reader`'s records without the blank
    ones (every field empty or white space), but a blank one wider than the header as ``()``."""
    out: list[tuple[str, ...]] = []
    header: list[str] | None = None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    open_last = _ends_in_quotes(text)  # a quote left open: that record is reported, not blank
    for i, row in enumerate(rows):
        if any(field.strip() for field in row) or (open_last and i == len(rows) - 1 and any(row)):
            header = header or row
            out.append(tuple(row))
        elif header is not None and len(row) > max(len(header), 1):
            out.append(())
    return out


# -- plain-text pitfalls that are normal (U3) -------------------------------------------------


def test_bom_is_not_part_of_the_first_header_name() -> None:
    """U3: a UTF-8 BOM at the start of the file is dropped, not read into the first header name."""
    records = _read(b"\xef\xbb\xbf" + HEADER + b"\r\n" + ROW + b"\r\n")
    assert records[0].fields[0] == "First Name"
    assert all(not record.problems for record in records)


def test_bom_split_across_reads_is_still_dropped() -> None:
    """U3: a BOM that arrives one byte per read is recognized all the same."""
    assert _fields(b"\xef\xbb\xbfa,b\n", step=1) == [("a", "b")]


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"], ids=["CRLF", "LF", "CR"])
def test_line_endings_are_all_accepted(ending: bytes) -> None:
    """U3: CRLF, LF and CR-only line endings read the same records."""
    data = ending.join([HEADER, ROW, b"x,y", b""])
    assert _fields(data) == [
        tuple(HEADER.decode().split(",")),
        tuple(ROW.decode().split(",")),
        ("x", "y"),
    ]


def test_crlf_split_between_reads_is_one_line_ending() -> None:
    """U3: a CR at the end of one read and an LF at the start of the next end one line."""
    data = b"a,b\r\nc,d\r\n"
    for step in range(1, len(data) + 1):
        assert _fields(data, step=step) == [("a", "b"), ("c", "d")]


def test_quoted_fields_with_commas_quotes_and_line_breaks() -> None:
    """U3: quoted fields keep their commas, doubled quotes and line breaks."""
    data = b'a,b,c\r\n"Lopez, Ana","say ""hi""","line one\r\nline two"\r\n'
    assert _fields(data)[1] == ("Lopez, Ana", 'say "hi"', "line one\r\nline two")


def test_no_final_line_ending() -> None:
    """U3: the last record is read when the file does not end with a line break."""
    assert _fields(b"a,b\n1,2") == [("a", "b"), ("1", "2")]


def test_utf8_split_between_reads_is_decoded() -> None:
    """U3: a character whose UTF-8 bytes arrive in separate reads is decoded without a problem."""
    records = _read("name\nJosé Núñez 学校\n".encode(), step=1)
    assert records[1].fields == ("José Núñez 学校",)
    assert not records[1].problems


def test_unicode_line_separators_are_data() -> None:
    """U3: only CR and LF end a line; U+2028, form feed and the like are field text."""
    assert _fields("a,b\nx\u2028y,p\x0cq\n".encode()) == [("a", "b"), ("x\u2028y", "p\x0cq")]


# -- rows as a spreadsheet numbers them -------------------------------------------------------


def test_rows_count_the_header_as_row_one() -> None:
    """U3: the header is row 1 and the first data record row 2, as a spreadsheet shows them."""
    assert _rows(HEADER + b"\n" + ROW + b"\n" + ROW + b"\n") == [1, 2, 3]


def test_a_multi_line_record_is_one_row() -> None:
    """U3: a record whose quoted field spans lines takes one row, the one where it starts."""
    data = b'h1,h2\n"a\nb\nc",x\nnext,y\n'
    assert [(r.row, r.fields) for r in _read(data)] == [
        (1, ("h1", "h2")),
        (2, ("a\nb\nc", "x")),
        (3, ("next", "y")),
    ]


def test_blank_records_are_skipped_but_counted() -> None:
    """U3: empty lines and lines of empty fields are not returned but keep their row numbers."""
    data = b"h1,h2\n\n1,2\n,\n\r\n3,4\n"
    assert [(r.row, r.fields) for r in _read(data)] == [
        (1, ("h1", "h2")),
        (3, ("1", "2")),
        (6, ("3", "4")),
    ]


def test_blank_lines_before_the_header() -> None:
    """U3: the header is the first record that is not blank, at the row where it stands."""
    records = _read(b"\n,,\nh1,h2\n1,2\n")
    assert [(r.row, r.fields) for r in records] == [(3, ("h1", "h2")), (4, ("1", "2"))]


def test_whitespace_is_blank() -> None:
    """U3: a line of spaces or tabs is skipped like an empty line, on either path."""
    assert _fields(b"h\n  \n\t\n \t \n1\n") == [("h",), ("1",)]
    assert _fields(b"h\n  \n1\n", step=1) == [("h",), ("1",)]
    assert _rows(b"h\n  \n1\n") == [1, 3]


def test_a_blank_row_wider_than_the_header_is_said() -> None:
    """U3: a line of only commas, wider than the header, is skipped with a warning saying so."""
    (_header, skipped, row) = _read(b"a,b\n,,,,\n1,2\n")
    assert (skipped.row, skipped.fields) == (2, ())
    (problem,) = skipped.problems
    assert problem.rule == "U3"
    assert problem.severity is Severity.WARNING
    assert "5 of them" in problem.message
    assert (row.row, row.fields) == (3, ("1", "2"))


# -- empty files and the header ---------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\r\n", b",,,\n"])
def test_empty_file_yields_nothing(data: bytes) -> None:
    """U3: a file with no records (or only blank ones) yields nothing and has no header."""
    assert _read(data) == []
    header, rest = header_and_records(io.BytesIO(data))
    assert header is None
    assert list(rest) == []


def test_header_only_file() -> None:
    """U3: a file with only a header yields just the header record."""
    records = _read(HEADER + b"\r\n")
    assert [(r.row, len(r.fields), r.problems) for r in records] == [(1, 6, ())]


def test_header_and_records() -> None:
    """U3: the header comes apart from the records after it, which keep their row numbers."""
    header, rest = header_and_records(io.BytesIO(HEADER + b"\n" + ROW + b"\n"))
    assert header is not None
    assert header.row == 1
    assert header.fields[0] == "First Name"
    assert [r.row for r in rest] == [2]


def test_path_source(tmp_path: Path) -> None:
    """U3: a path is opened, read and closed; a str path works as well as a Path."""
    path = tmp_path / "users.csv"
    path.write_bytes(HEADER + b"\n" + ROW + b"\n")
    assert [r.row for r in iter_records(path)] == [1, 2]
    assert [r.row for r in iter_records(str(path))] == [1, 2]


def test_stream_is_read_from_where_it_stands_and_left_open() -> None:
    """U3: a stream is read from its current position and not closed."""
    stream = io.BytesIO(b"junk\nh\n1\n")
    stream.readline()
    assert [r.fields for r in iter_records(stream)] == [("h",), ("1",)]
    assert not stream.closed


# -- hostile input ----------------------------------------------------------------------------


def _peak_while_reading(data: bytes) -> tuple[int, list[Record]]:
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        records = list(iter_records(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, records


def test_a_10_mb_field_is_capped_in_flat_memory() -> None:
    """U3: a 10 MB field keeps its first characters, memory stays small, the length is reported."""
    size = 10 * 1024 * 1024
    peak, records = _peak_while_reading(b"a,b\n1," + b"x" * size + b"\n2,3\n")
    assert peak < 2 * 1024 * 1024
    assert [r.row for r in records] == [1, 2, 3]
    big = records[1]
    assert big.fields == ("1", "x" * MAX_FIELD_CHARS)
    (problem,) = big.problems
    assert (problem.rule, problem.row, problem.column) == ("U3", 2, "b")
    assert problem.severity is Severity.ERROR
    assert f"{size:,}" in problem.message
    assert problem.value is not None
    assert len(problem.value) <= 80
    assert records[2].fields == ("2", "3")
    assert not records[2].problems


@pytest.mark.parametrize(
    "lines",
    [(ROW + b"\n") * 60_000, b"\n" * 2_000_000, b"a,b\r" * 500_000],
    ids=["rows", "empty lines", "short CR lines"],
)
def test_an_unclosed_quote_swallowing_the_file_is_capped_in_flat_memory(lines: bytes) -> None:
    """U3: a quote never closed makes one long field, read in flat memory and reported."""
    peak, records = _peak_while_reading(HEADER + b'\n"' + lines)
    assert peak < 2 * 1024 * 1024
    assert [r.row for r in records] == [1, 2]
    messages = [p.message for p in records[1].problems]
    assert len(messages) == 2
    assert f"{len(lines):,} characters" in messages[0]
    assert "ends inside a quoted field" in messages[1]
    assert all(p.column == "First Name" for p in records[1].problems)


def test_a_quote_left_open_at_the_end_is_reported() -> None:
    """U3: a quoted field still open at the end of the file is read and reported on its row."""
    records = _read(b'a,b\n1,"unfinished\n')
    assert records[1].fields == ("1", "unfinished\n")
    (problem,) = records[1].problems
    assert (problem.rule, problem.row, problem.column) == ("U3", 2, "b")
    assert problem.fix is not None


def test_too_many_fields_are_capped() -> None:
    """U3: a record with more fields than the cap keeps the first ones and says how many it had."""
    records = _read(b"h\n" + b"x," * 1000 + b"x\n")
    assert len(records[1].fields) == MAX_FIELDS
    (problem,) = records[1].problems
    assert "1,001 fields" in problem.message
    assert problem.row == 2


def test_nul_bytes_are_reported_not_fatal() -> None:
    """U3: a NUL byte is an error on its row and column; the field is kept and reading goes on."""
    records = _read(b"a,b\n1,x\x00y\n2,z\n")
    assert records[1].fields == ("1", "x\x00y")
    (problem,) = records[1].problems
    assert (problem.rule, problem.row, problem.column, problem.value) == ("U3", 2, "b", "x\\x00y")
    assert problem.is_error
    assert "NUL" in problem.message
    assert records[2].fields == ("2", "z")
    assert not records[2].problems


def test_windows_1252_text_is_reported_with_a_fix() -> None:
    """U3: Windows-1252 bytes are an error naming Windows-1252 and the fix; the row is decoded."""
    records = _read(b"First Name,Last Name\r\nJos\xe9,Nu\xf1ez\r\nAna,Lopez\r\n")
    assert records[1].fields == ("Jos\ufffd", "Nu\ufffdez")
    first, second = records[1].problems
    assert (first.rule, first.row, first.column) == ("U3", 2, "First Name")
    assert second.column == "Last Name"
    assert first.severity is Severity.ERROR
    assert "not UTF-8" in first.message
    assert "Windows-1252" in first.message
    assert "`José`" in first.message
    assert first.fix is not None
    assert "CSV UTF-8" in first.fix
    assert not records[2].problems


def test_bytes_that_are_not_windows_1252_either() -> None:
    """U3: bytes that are neither UTF-8 nor Windows-1252 are reported without the 1252 hint."""
    (problem,) = _read(b"h\nab\x81c\n")[1].problems
    assert "not UTF-8" in problem.message
    assert "Windows-1252" not in problem.message
    assert problem.value == "ab\ufffdc"


def test_bad_bytes_deep_in_a_file_are_reported_on_their_row() -> None:
    """U3: bytes that are not UTF-8 far into the file are reported on the right row only."""
    data = HEADER + b"\n" + (ROW + b"\n") * 5000 + b"Jos\xe9,x\n" + (ROW + b"\n") * 5000
    records = _read(data)
    assert len(records) == 10_002
    flagged = [(r.row, p.column) for r in records for p in r.problems]
    assert flagged == [(5002, "First Name")]
    assert records[-1].fields == tuple(ROW.decode().split(","))


def test_problem_messages_follow_the_house_style() -> None:
    """U3: problem messages start lowercase, end without a period and quote the value."""
    data = b'h1,h2\nJos\xe9,\x00\n"' + b"x" * 5000 + b'",x,"open'
    problems = [p for r in _read(data) for p in r.problems]
    assert len(problems) == 4
    for problem in problems:
        assert problem.rule == "U3"
        assert problem.message[0].islower()
        assert not problem.message.endswith(".")
        assert "`" in problem.message


def test_columns_past_the_header_are_named_by_letter() -> None:
    """U3: a problem in a column the header does not name is located by its spreadsheet letter."""
    (problem,) = _read(b"a\n1,2,\x00\n")[1].problems
    assert problem.column == "C"
    assert [_csvread._column(i, None) for i in (0, 25, 26, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "ZZ",
        "AAA",
    ]


def test_long_lines_mixed_with_short_ones_read_like_csv_reader() -> None:
    """U3: switching between the fast path and the tokenizer loses and repeats no record."""
    parts = []
    for i in range(300):
        if i % 7 == 0:
            parts.append(f"{i},{'y' * (5000 + i)},z\r\n")
        elif i % 11 == 0:
            parts.append(f'{i},"multi\n{"w" * 3000}\n{"v" * 3000}",z\n')
        elif i % 13 == 0:
            parts.append(f'{i},"quoted, ""fine""",z\r')
        else:
            parts.append(f"{i},plain,z\n")
    text = "".join(parts)
    expected = [tuple(field[:MAX_FIELD_CHARS] for field in row) for row in _csv_reader(text)]
    for step in (None, 1000, 4099):
        records = _read(text.encode(), step)
        assert [r.fields for r in records] == expected
        assert [r.row for r in records] == list(range(1, 301))
        long_rows = {r.row for r in records if r.problems}
        assert long_rows == {i + 1 for i in range(300) if i % 7 == 0 or i % 11 == 0}


def test_rows_of_only_commas_are_blank_however_long() -> None:
    """U3: a row of empty fields is blank, past the field cap and past the line cap alike, and
    said to be skipped when it is wider than the header."""
    data = b"h\n" + b"," * 1000 + b"\n" + b"," * 9000 + b"\n1\n"
    records = _read(data)
    assert [(r.row, r.fields) for r in records] == [(1, ("h",)), (2, ()), (3, ()), (4, ("1",))]
    assert [len(r.problems) for r in records] == [0, 1, 1, 0]
    assert "9,001" in records[2].problems[0].message or "9001" in records[2].problems[0].message


def test_a_low_csv_field_size_limit_changes_nothing() -> None:
    """U3: the reader does not depend on the process-wide csv.field_size_limit."""
    data = b'h1,h2\n1,"' + b"x\n" * 200 + b'"\n2,' + b"y" * 300 + b"\n"
    expected = _fields(data)
    previous = csv.field_size_limit(50)
    try:
        assert _fields(data) == expected
    finally:
        csv.field_size_limit(previous)
    assert expected[1] == ("1", "x\n" * 200)


def test_a_text_stream_is_refused() -> None:
    """A stream opened as text is a programming error and raises TypeError."""
    stream: Any = io.StringIO("a,b\n")
    with pytest.raises(TypeError, match="binary"):
        list(iter_records(stream))


# -- formula-like values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://example.org","x")', True),
        ("+1", True),
        ("-2+3", True),
        ("@SUM(A1)", True),
        ("\t=1", True),
        ("\r=1", True),
        ("Ana", False),
        ("916-555-0100", False),
        (" =1", False),
        ("", False),
    ],
)
def test_looks_like_formula(text: str, expected: bool) -> None:
    """U3: a value a spreadsheet could run as a formula is recognized."""
    assert looks_like_formula(text) is expected


def test_formula_like_values_are_kept_as_data() -> None:
    """U3: a formula-like field is returned unaltered and without a problem."""
    (record,) = _read(b'"=HYPERLINK(""http://x"",""y"")",@a,-1\n')
    assert record.fields == ('=HYPERLINK("http://x","y")', "@a", "-1")
    assert not record.problems


# -- properties -------------------------------------------------------------------------------


def test_fast_record_equals_the_attrs_record() -> None:
    """The hot-path record builder makes the same value as the attrs constructor."""
    made = _csvread._record(2, ("a", "b"), ())
    assert made == Record(2, ("a", "b"))
    assert repr(made) == repr(Record(2, ("a", "b")))
    assert hash(made) == hash(Record(2, ("a", "b")))


_FIELD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(',"\r\n '),
        st.characters(codec="utf-8", exclude_characters="\x00\ufeff"),
    ),
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.lists(_FIELD_TEXT, min_size=1, max_size=5), max_size=8),
    step=st.integers(min_value=1, max_value=64),
)
def test_written_records_read_back(rows: list[list[str]], step: int) -> None:
    """U3: whatever csv.writer writes (commas, quotes, line breaks) reads back field for field."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    records = _read(out.getvalue().encode(), step)
    text = out.getvalue()
    assert [r.fields for r in records] == _csv_reader(text)
    assert all(not r.problems for r in records if r.fields)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet='ab,"\r\n', max_size=40),
    step=st.integers(min_value=1, max_value=16),
)
def test_any_text_reads_like_csv_reader(text: str, step: int) -> None:
    """U3: on any text, stray quotes and bare CRs included, the reader agrees with csv.reader."""
    assert _fields(text.encode(), step) == _csv_reader(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='ab,"\r\n', max_size=40))
def test_tokenizer_reads_like_csv_reader(text: str) -> None:
    """U3: the tokenizer for long records, used alone on any text, agrees with csv.reader."""
    source = _csvread._Text(io.BytesIO(text.encode()))
    rows = []
    while (raw := _csvread._read_one(source)) is not None:
        if any(raw.fields):
            rows.append(tuple(raw.fields))
    assert rows == _csv_rows(text)


# -- the batches the user-upload validator reads -----------------------------------------------


def _tricky_file() -> bytes:
    """A file with every case that leaves the fast path, among more rows than one batch holds."""
    rows = [b"\xef\xbb\xbf" + HEADER]
    for i in range(800):
        rows.append(ROW.replace(b"Ana", b"Ana%d" % i))
        if i == 10:
            rows.append(b'"Lopez, Ana",Lopez,19647330000000,"a@b.org","916 ""x""",Test Examiner')
        if i == 20:
            rows.append(b'"two\r\nlines",Lopez,19647330000000,a@b.org,916-555-0100,Test Examiner')
        if i == 30:
            rows.extend([b"", b",,,,,"])
        if i == 40:
            rows.append(b"x" * (MAX_FIELD_CHARS + 10) + b",b")
        if i == 50:
            rows.append(b",".join([b"f"] * (MAX_FIELDS + 3)))
        if i == 750:
            rows.append(b"caf\xe9,Lopez,19647330000000,a@b.org,916-555-0100,Test Examiner")
        if i == 760:
            rows.append(b"nul\x00,Lopez,19647330000000,a@b.org,916-555-0100,Test Examiner")
    rows.append(b'"never closed,x')
    return b"\r\n".join(rows[:100]) + b"\n" + b"\r".join(rows[100:])


@pytest.mark.parametrize("step", [None, 1, 7, 4096])
def test_batches_expand_to_the_records(step: int | None) -> None:
    """U3: the batches of clean one-line records expand to exactly the records of the record
    path (quotes, BOM, CRLF, CR, blank rows, long and many fields, bad bytes, an open quote)."""
    data = _tricky_file()
    stream = io.BytesIO(data) if step is None else _Trickle(data, step)
    parts = list(_csvread._parts(stream))
    assert isinstance(parts[0], Record)  # the header is never in a batch
    expanded: list[Record] = []
    for part in parts:
        if isinstance(part, Record):
            expanded.append(part)
            continue
        first, batch = part
        assert 0 < len(batch) <= _csvread._BATCH_RECORDS
        expanded.extend(Record(first + i, tuple(fields)) for i, fields in enumerate(batch))
    records = _read(data, step)
    assert expanded == records
    assert len(records) == 1 + 800 + 7  # blank rows skipped; each other row one record
    assert sum(1 for r in records if r.problems) == 5
    batched = sum(len(p[1]) for p in parts if not isinstance(p, Record))
    assert batched >= 300  # the rows of the chunks before the first bad byte are batched
