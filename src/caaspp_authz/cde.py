"""Organizations from the California School Directory export (the CDE public schools file).

The California Department of Education publishes every district, county office of education and
school as one tab-separated file, ``pubschls.txt``. :func:`read_cde` turns it into organizations
of the directory format (O1-O3) and lists every row it left out or could not read;
:func:`cde_directory` wraps them into a complete directory with no accounts.

How rows become organizations:

- A row whose CDS code ends in ``0000000`` is an LEA (a district or a county office of
  education), named by its ``District`` column (O1, O2).
- Any other row is a school, named by its ``School`` column, under the LEA with its first seven
  digits (O1, O3). The LEA's row must be in the file too; a school without one is an error.
- A direct-funded charter (``Charter`` is ``Y`` and ``FundingType`` is ``Directly funded``) is an
  LEA of its own, ``"level": "lea"``; a locally funded charter is a school under its district (O3).
- Rows of county ``00`` (the State) are skipped: the State is implicit (O3).
- ``Closed`` and ``Merged`` rows are left out with a warning unless ``include_closed``;
  ``Active`` and ``Pending`` rows are kept (a pending school has its code before it opens).

Columns are found by header name (any order, any case); only ``CDSCode``, ``StatusType``,
``District``, ``School``, ``Charter`` and ``FundingType`` are read. The file may be UTF-8 (with
or without a byte-order mark) or Windows-1252, with LF or CRLF line ends.

Hostile or mistaken files are read in bounded memory: the file is read a line at a time, a line
longer than :data:`MAX_LINE` characters and a field of those columns longer than
:data:`MAX_FIELD` are errors naming the row and the column (the row is left out), a NUL
character in a field is an error, and a UTF-16 file or an Excel workbook is named as such with
the fix. A name beginning with ``=``, ``+``, ``-`` or ``@`` gets a warning: a spreadsheet would
run it as a formula.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO, TextIO

import attrs

from caaspp_authz.errors import DirectoryError, InvalidCDSCode, Problem, Severity, shown
from caaspp_authz.orgs import parse_cds

__all__ = ["MAX_FIELD", "MAX_LINE", "CdeResult", "cde_directory", "read_cde"]

MAX_LINE = 1 << 20
"""The longest line read, in characters (bytes for a binary file): 1 MiB; a real row is ~1 KB."""
MAX_FIELD = 1000
"""The longest field of a column this module reads, in characters."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet run a cell as a formula."""

_CDS = "CDSCode"
_STATUS = "StatusType"
_DISTRICT = "District"
_SCHOOL = "School"
_CHARTER = "Charter"
_FUNDING = "FundingType"
_REQUIRED = (_CDS, _STATUS, _DISTRICT, _SCHOOL, _CHARTER, _FUNDING)

_LEA_SUFFIX = "0000000"
_STATE_COUNTY = "00"
_KEPT_STATUSES = frozenset({"active", "pending"})
_CLOSED_STATUSES = frozenset({"closed", "merged"})
_DIRECT_FUNDED = "directly funded"
_KNOWN_FUNDING = frozenset({"directly funded", "locally funded", "not in cs funding model"})
# The export writes "No Data" (and some copies "NULL") where a field has no value.
_EMPTY_MARKERS = frozenset({"", "no data", "null"})


def _organizations(items: Iterable[Mapping[str, str]]) -> tuple[dict[str, str], ...]:
    return tuple(dict(item) for item in items)


def _problems(items: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(items)


@attrs.frozen
class CdeResult:
    """What :func:`read_cde` made of a file: organizations and every problem found.

    ``organizations`` are mappings of the directory format (``cds``, ``name``, and ``lea`` or
    ``"level": "lea"``), sorted by CDS code so that each LEA comes before its schools.
    ``problems`` lists the rows left out (errors) and the rows worth a look (warnings), in file
    order.
    """

    organizations: tuple[dict[str, str], ...] = attrs.field(converter=_organizations)
    problems: tuple[Problem, ...] = attrs.field(converter=_problems)

    @property
    def has_errors(self) -> bool:
        """Whether any problem is an error, so the organizations are not the whole file."""
        return any(p.is_error for p in self.problems)


def read_cde(
    source: str | os.PathLike[str] | TextIO | BinaryIO,
    *,
    include_closed: bool = False,
) -> CdeResult:
    """Read a CDE public schools file into organizations of the directory format (O1-O3, O5).

    ``source`` is a path, or an open text or binary file. Every row that cannot become an
    organization is reported in :attr:`CdeResult.problems` and left out; nothing is raised for
    the file's content.
    """
    reader = _Reader(include_closed=include_closed)
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as file:
                return reader.read(_lines(file))
        return reader.read(_lines(source))
    except _Unreadable as exc:
        return CdeResult((), [exc.problem])


def cde_directory(result: CdeResult) -> dict[str, object]:
    """A complete directory mapping (``format: 1``) of the organizations, with no accounts.

    Raises :class:`~caaspp_authz.errors.DirectoryError` carrying every problem when the result
    has errors: a directory is refused whole, never built from part of a file.
    """
    if result.has_errors:
        raise DirectoryError(result.problems)
    return {
        "format": 1,
        "rule_set": "one-role-per-email",
        "organizations": [dict(org) for org in result.organizations],
        "accounts": [],
        "students": [],
        "groups": [],
        "custom_groups": [],
    }


class _Unreadable(Exception):
    """The file as a whole cannot be read (its encoding, or not text at all)."""

    def __init__(self, message: str, fix: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.problem = Problem(rule="O2", message=message, fix=fix, row=row)


_SAVE_AS_TEXT = "export the file again as tab-separated UTF-8 text"


def _sniff(first: bytes) -> None:
    """Name a file that is not text at all, or UTF-16, before reading it as rows."""
    if first.startswith(b"PK\x03\x04"):
        raise _Unreadable("the file is an Excel workbook, not text", _SAVE_AS_TEXT)
    if first.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Unreadable("the file is an old Excel workbook (.xls), not text", _SAVE_AS_TEXT)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first:
        raise _Unreadable("the file is UTF-16 text, not UTF-8", f"{_SAVE_AS_TEXT} (UTF-8)")


class _Decoder:
    """UTF-8 first (a byte-order mark is dropped), then Windows-1252, the export's older form.

    Decided a line at a time in one pass: a file is UTF-8 until a line is not; then, if every
    line before was ASCII (the same in both), it is Windows-1252 from there on.
    """

    def __init__(self) -> None:
        self.encoding = "utf-8"
        self.non_ascii = False

    def decode(self, raw: bytes, row: int) -> str:
        if self.encoding == "utf-8":
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if self.non_ascii:
                    raise _Unreadable(
                        f"the file mixes UTF-8 with other bytes: {exc.reason}",
                        _SAVE_AS_TEXT,
                        row=row,
                    ) from None
                self.encoding = "cp1252"
            else:
                self.non_ascii = self.non_ascii or not raw.isascii()
                return text
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise _Unreadable(
                f"the file is neither UTF-8 nor Windows-1252 text: {exc.reason}",
                "save the export again as UTF-8 text",
                row=row,
            ) from None


_Line = tuple[int, str | None, int]
"""A line: its number, its text without the line end (``None`` when too long), and for a
line too long the index of the field it was in at the cut."""


def _chunks(source: TextIO | BinaryIO) -> Iterator[bytes]:
    """The file's lines as bytes (text is encoded as UTF-8), each at most ``MAX_LINE`` long."""
    while True:
        chunk = source.readline(MAX_LINE)
        if not chunk:
            return
        yield chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk


def _lines(source: TextIO | BinaryIO) -> Iterator[_Line]:
    """Every line of the file, read with at most :data:`MAX_LINE` characters in memory."""
    decoder = _Decoder()
    chunks = _chunks(source)
    for number, chunk in enumerate(chunks, start=1):
        if number == 1:
            _sniff(chunk)
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
        if len(chunk) >= MAX_LINE and not chunk.endswith(b"\n"):
            field = chunk.count(b"\t")
            for rest in chunks:  # skip the rest of the line
                if rest.endswith(b"\n"):
                    break
            yield number, None, field
            continue
        text = decoder.decode(chunk, number)
        yield number, text.removesuffix("\n").removesuffix("\r"), 0


def _value(row: list[str], index: int) -> str:
    """The row's field at ``index``, stripped; a short row's missing fields are empty."""
    text = row[index].strip() if index < len(row) else ""
    return "" if text.casefold() in _EMPTY_MARKERS else text


@attrs.frozen
class _Row:
    """The fields of one data row that decide what organization it becomes."""

    line: int
    cds: str
    status: str
    district: str
    school: str
    charter: str
    funding: str


@attrs.define
class _Reader:
    include_closed: bool
    problems: list[Problem] = attrs.Factory(list)

    def read(self, lines: Iterator[_Line]) -> CdeResult:
        rows = self._rows(lines)
        if rows is None:
            return CdeResult((), self.problems)
        leas: dict[str, dict[str, str]] = {}
        schools: list[tuple[_Row, dict[str, str]]] = []
        closed_leas: set[str] = set()
        seen: set[str] = set()
        for row in rows:
            org = self._organization(row, seen, closed_leas)
            if org is None:
                continue
            if "lea" in org:
                schools.append((row, org))
            else:
                leas[org["cds"]] = org
        kept = list(leas.values())
        for row, org in schools:
            if org["lea"] in leas:
                kept.append(org)
            else:
                self._missing_lea(row, org, closed=org["lea"] in closed_leas)
        kept.sort(key=lambda org: org["cds"])
        # Problems in file order: the missing-LEA ones are found only after every row is read.
        return CdeResult(kept, sorted(self.problems, key=lambda p: p.row or 0))

    def _rows(self, lines: Iterator[_Line]) -> list[_Row] | None:
        """The data rows, or ``None`` when the header lacks a column this module reads."""
        first = next(lines, None)
        if first is None or first[1] is None:
            message = (
                "the file is empty: no header row"
                if first is None
                else (f"the header row is longer than {MAX_LINE} characters")
            )
            self.problems.append(Problem(rule="O2", message=message))
            return None
        header = first[1].split("\t")
        columns = self._columns(header)
        if columns is None:
            return None
        rows = []
        # Every record is one line: row n is line n, the header is row 1.
        for line, text, cut in lines:
            if text is None:
                self._too_long(line, header, cut)
                continue
            fields = text.split("\t")
            if not any(field.strip() for field in fields):
                continue
            values = [_value(fields, columns[name]) for name in _REQUIRED]
            if self._bad_fields(line, values):
                continue
            rows.append(_Row(line, *values))
        return rows

    def _too_long(self, line: int, header: list[str], cut: int) -> None:
        column = header[cut].strip() if cut < len(header) else None
        where = f"in column `{shown(column)}` " if column else ""
        self.problems.append(
            Problem(
                rule="O2",
                message=f"the row is longer than {MAX_LINE} characters {where}and is left out",
                row=line,
                column=column,
            )
        )

    def _bad_fields(self, line: int, values: list[str]) -> bool:
        """Whether a field read is too long or holds a NUL character (each noted as an error)."""
        bad = False
        for name, value in zip(_REQUIRED, values, strict=True):
            if len(value) > MAX_FIELD:
                message = f"`{name}` is {len(value)} characters long, more than {MAX_FIELD}"
            elif "\x00" in value:
                message = f"`{name}` holds a NUL character"
            else:
                continue
            bad = True
            self.problems.append(
                Problem(
                    rule="O2",
                    message=f"{message}; the row is left out",
                    row=line,
                    column=name,
                    value=shown(value),
                )
            )
        return bad

    def _columns(self, header: list[str]) -> Mapping[str, int] | None:
        found: dict[str, int] = {}
        twice = False
        wanted = {name.casefold(): name for name in _REQUIRED}
        for index, title in enumerate(header):
            name = wanted.get(title.strip().casefold()[:40])
            if name is None:
                continue
            if name in found:
                twice = True
                self.problems.append(
                    Problem(
                        rule="O2",
                        message=f"the header names column `{name}` twice",
                        row=1,
                        column=name,
                    )
                )
                continue
            found[name] = index
        missing = [name for name in _REQUIRED if name not in found]
        for name in missing:
            self.problems.append(
                Problem(
                    rule="O2",
                    message=(
                        f"the header has no column `{name}`: is this the CDE public schools file?"
                    ),
                    row=1,
                    column=name,
                )
            )
        if missing or twice:
            return None
        return found

    def _organization(
        self, row: _Row, seen: set[str], closed_leas: set[str]
    ) -> dict[str, str] | None:
        """The organization a row becomes, or ``None`` when it is left out (and why is noted)."""
        try:
            cds = parse_cds(row.cds)
        except InvalidCDSCode as exc:
            self.problems.append(
                Problem(rule=exc.rule, message=str(exc), row=row.line, column=_CDS, value=row.cds)
            )
            return None
        if cds.startswith(_STATE_COUNTY):
            return None  # the State is implicit (O3)
        is_lea_row = cds.endswith(_LEA_SUFFIX)
        kind = "LEA" if is_lea_row else "school"
        if not self._status_kept(row, cds, kind):
            if is_lea_row:
                closed_leas.add(cds)
            return None
        if cds in seen:
            self.problems.append(
                Problem(
                    rule="O3",
                    message=f"{kind} `{cds}` is listed twice; the later row is left out",
                    row=row.line,
                    column=_CDS,
                    value=row.cds,
                )
            )
            return None
        seen.add(cds)
        name_column = _DISTRICT if is_lea_row else _SCHOOL
        name = row.district if is_lea_row else row.school
        if not name:
            self.problems.append(
                Problem(
                    rule="O2",
                    message=f"{kind} `{cds}` has no name in column `{name_column}`",
                    row=row.line,
                    column=name_column,
                )
            )
            return None
        if name.startswith(FORMULA_STARTS):
            self.problems.append(
                Problem(
                    rule="O2",
                    message=(
                        f"{kind} `{cds}` has a name beginning with `{name[0]}`, which a "
                        "spreadsheet would run as a formula"
                    ),
                    severity=Severity.WARNING,
                    row=row.line,
                    column=name_column,
                    value=shown(name),
                    fix="check the name in the export",
                )
            )
        if is_lea_row:
            return {"cds": cds, "name": name}
        if self._direct_funded(row, cds):
            return {"cds": cds, "name": name, "level": "lea"}
        return {"cds": cds, "name": name, "lea": cds[:7] + _LEA_SUFFIX}

    def _status_kept(self, row: _Row, cds: str, kind: str) -> bool:
        status = row.status.casefold()
        if status in _KEPT_STATUSES:
            return True
        if status in _CLOSED_STATUSES:
            if self.include_closed:
                return True
            self.problems.append(
                Problem(
                    rule="O1",
                    message=f"{kind} `{cds}` is `{row.status}` and is left out",
                    severity=Severity.WARNING,
                    row=row.line,
                    column=_STATUS,
                    value=row.status,
                    fix="read the file with closed rows included to keep it",
                )
            )
            return False
        self.problems.append(
            Problem(
                rule="O1",
                message=(
                    f"{kind} `{cds}` has status `{row.status}`, none of Active, Pending, Closed "
                    "or Merged; it is left out"
                ),
                row=row.line,
                column=_STATUS,
                value=row.status,
            )
        )
        return False

    def _direct_funded(self, row: _Row, cds: str) -> bool:
        """Whether a school row is a direct-funded charter, an LEA of its own (O3)."""
        if row.charter.casefold() != "y":
            return False
        funding = row.funding.casefold()
        if funding == _DIRECT_FUNDED:
            return True
        if funding not in _KNOWN_FUNDING:
            shown = f"`{row.funding}`" if row.funding else "empty"
            self.problems.append(
                Problem(
                    rule="O3",
                    message=(
                        f"charter school `{cds}` has funding type {shown}, neither directly nor "
                        "locally funded; it is placed under its district as a locally funded "
                        "charter"
                    ),
                    severity=Severity.WARNING,
                    row=row.line,
                    column=_FUNDING,
                    value=row.funding or None,
                )
            )
        return False

    def _missing_lea(self, row: _Row, org: Mapping[str, str], *, closed: bool) -> None:
        cds, lea = org["cds"], org["lea"]
        why = (
            f"its LEA `{lea}` is closed or merged and left out"
            if closed
            else f"the file has no row for its LEA `{lea}`"
        )
        self.problems.append(
            Problem(
                rule="O3",
                message=f"school `{cds}` ({org['name']}) is left out: {why}",
                row=row.line,
                column=_CDS,
                value=cds,
                fix="include the district's row, or read the file with closed rows included"
                if closed
                else "include the district's row",
            )
        )
