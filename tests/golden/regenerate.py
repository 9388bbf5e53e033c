"""Write the golden decision table: ``python -m tests.golden.regenerate``.

The table itself is :mod:`caaspp_authz.oracle.table` (the same worlds the conformance corpus
is written from): for each rule set, every actor × every action × every relation between the
actor's organization and the resource's × the resource variants that matter. This module
writes its lines to ``decision_table.tsv``, ``rule_set, role, action, relation, variant,
allowed, rules``, sorted and tab-separated, with the SHA-256 beside it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from caaspp_authz.oracle.table import HEADER, rows

__all__ = ["DIGEST", "TABLE", "digest", "main", "render", "rows"]

HERE = Path(__file__).resolve().parent
TABLE = HERE / "decision_table.tsv"
DIGEST = HERE / "decision_table.sha256"


def render() -> str:
    """The table as text: a header line, then the sorted lines."""
    lines = ["\t".join(HEADER), *("\t".join(r) for r in rows())]
    return "\n".join(lines) + "\n"


def digest(text: str) -> str:
    """The SHA-256 of the table's text, as the ``.sha256`` file holds it."""
    return f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}  {TABLE.name}\n"


def main() -> int:
    """Write the table and its digest."""
    text = render()
    TABLE.write_text(text, encoding="utf-8")
    DIGEST.write_text(digest(text), encoding="utf-8")
    print(f"wrote {TABLE} ({text.count(chr(10)) - 1} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
