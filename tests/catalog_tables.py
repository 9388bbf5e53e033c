"""The ROLES and GRANTS tables of ``docs/reference/catalog.md``, rendered from the catalog.

``python -m tests.catalog_tables --write`` rewrites the part of the page between each pair of
markers; ``tests/test_docs.py`` fails when the page shows other tables than the catalog holds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

from caaspp_authz.catalog import GRANTS, ROLES, Where

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference" / "catalog.md"
REGENERATE = "python -m tests.catalog_tables --write"
ROLES_BEGIN, ROLES_END = "<!-- ROLES table: generated -->", "<!-- end of ROLES table -->"
GRANTS_BEGIN, GRANTS_END = "<!-- GRANTS table: generated -->", "<!-- end of GRANTS table -->"

_WHERE = {
    Where.HOLDER: "`HOLDER`: its own organization",
    Where.SCHOOLS: "`SCHOOLS`: any school in its LEA",
    Where.HOLDER_OR_SCHOOLS: "`HOLDER_OR_SCHOOLS`: its LEA or any school in it",
}


def _values(items: Iterable[Enum]) -> str:
    names = sorted(str(i.value) for i in items)
    return ", ".join(f"`{n}`" for n in names) if names else "—"


def _texts(items: Iterable[str]) -> str:
    shown = [f"`{i}`" for i in items]
    return ", ".join(shown) if shown else "—"


def roles_table() -> str:
    """The ROLES table as Markdown, one row a role, in catalog order."""
    rows = [
        "| Role | Level | Programs | Permissions | Capabilities | Forms | Other spellings "
        "| Legacy names | Credential | Primary | Coordinator | Custom-group source limit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ROLES:
        rows.append(
            f"| `{r.name}` | `{r.level.value}` | {_values(r.programs)} | {_values(r.permissions)} "
            f"| {_values(r.capabilities)} | {_values(r.forms)} "
            f"| {_texts(s for s in r.spellings if s != r.name)} | {_texts(r.legacy_names)} "
            f"| {'yes' if r.needs_credential else '—'} | {'yes' if r.has_primary else '—'} "
            f"| {'yes' if r.coordinator else '—'} "
            f"| {r.custom_group_source_limit if r.custom_group_source_limit else '—'} |"
        )
    return "\n".join(rows)


def grants_table() -> str:
    """The GRANTS table as Markdown, one row a grant rule, in catalog order."""
    rows = [
        "| Grantor | Grantee | Where | Rule | Primary holder only | May grant primary |",
        "|---|---|---|---|---|---|",
    ]
    for g in GRANTS:
        rows.append(
            f"| `{g.grantor}` | `{g.grantee}` | {_WHERE[g.where]} | {g.rule} "
            f"| {'yes' if g.grantor_primary_only else '—'} "
            f"| {'yes' if g.may_grant_primary else '—'} |"
        )
    return "\n".join(rows)


def _between(page: str, begin: str, end: str, body: str) -> str:
    start, stop = page.index(begin) + len(begin), page.index(end)
    return f"{page[:start]}\n\n{body}\n\n{page[stop:]}"


def render(page: str) -> str:
    """The page with both tables rewritten from the catalog; raises if a marker is missing."""
    page = _between(page, ROLES_BEGIN, ROLES_END, roles_table())
    return _between(page, GRANTS_BEGIN, GRANTS_END, grants_table())


def main(argv: list[str] | None = None) -> int:
    """Rewrite the tables of docs/reference/catalog.md with ``--write``; else print the page."""
    args = sys.argv[1:] if argv is None else argv
    page = render(PAGE.read_text(encoding="utf-8"))
    if args == ["--write"]:
        PAGE.write_text(page, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
    elif not args:
        sys.stdout.write(page)
    else:
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
