"""Small helpers for the upload tests: build a CSV file's bytes from rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from caaspp_authz import Directory, load_directory
from caaspp_authz.uploads import GROUP_HEADER, USER_HEADER
from tests.conftest import EXAMPLES

COORDINATOR = "caaspp.coordinator@example.org"
SITE = "site.coordinator@example.org"
LEA = "19647330000000"
ELEMENTARY = "19647331111111"
MIDDLE = "19647332222222"
HIGH = "19647333333333"


def csv_bytes(rows: Iterable[Sequence[str]], *, header: Sequence[str] = USER_HEADER) -> bytes:
    """A CSV file (UTF-8, CRLF) with ``header`` then ``rows``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def users(*rows: Sequence[str]) -> bytes:
    """A TOMS user upload with these rows."""
    return csv_bytes(rows)


def groups(*rows: Sequence[str]) -> bytes:
    """A CERS group upload with these rows."""
    return csv_bytes(rows, header=GROUP_HEADER)


def user_row(
    email: str = "new.person@example.org",
    role: str = "CAASPP Test Administrator",
    cds: str = MIDDLE,
    *,
    first: str = "New",
    last: str = "Person",
    phone: str = "213-555-0199",
) -> tuple[str, str, str, str, str, str]:
    """One user-upload row, valid for the example coordinator by default."""
    return (first, last, cds, email, phone, role)


def example_mapping() -> dict[str, Any]:
    """The example directory as a fresh mapping, to change before loading."""
    data: dict[str, Any] = json.loads((EXAMPLES / "directory.json").read_text(encoding="utf-8"))
    return data


def multi_role() -> Directory:
    """The example directory under the multi-role rule set (E7)."""
    data = example_mapping()
    data["rule_set"] = "multi-role"
    return load_directory(data)
