"""The Mermaid diagrams of ``docs/explanation/pictures.md``, rendered from the catalog and data.

- The organization hierarchy of the example directory (O1–O4): the State, its LEAs, their
  schools, and a direct-funded charter as an LEA of its own (O3).
- The grant matrix (G1, G3, G4) as a who-may-create-whom graph: one arrow a row of ``GRANTS``.

``python -m tests.diagrams --write`` rewrites the page between the markers;
``tests/test_docs.py`` fails when the page shows other pictures than these.
"""

from __future__ import annotations

import sys
from pathlib import Path

from caaspp_authz import load_directory
from caaspp_authz.catalog import GRANTS, ROLES, SUPERINTENDENT, RoleLevel, Where
from caaspp_authz.orgs import Level

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "explanation" / "pictures.md"
EXAMPLE = ROOT / "examples" / "directory.json"
REGENERATE = "python -m tests.diagrams --write"
MARKERS = {
    "organizations": ("<!-- organization hierarchy: generated -->", "<!-- end of hierarchy -->"),
    "grants": ("<!-- grant matrix: generated -->", "<!-- end of grant matrix -->"),
}

_WHERE = {
    Where.HOLDER: "at its own org",
    Where.SCHOOLS: "at its schools",
    Where.HOLDER_OR_SCHOOLS: "at its LEA or schools",
}


def _label(text: str) -> str:
    """Text inside a Mermaid label: quotes and ampersands as Mermaid's entity codes."""
    return text.replace("&", "#amp;").replace('"', "#quot;")


def organizations() -> str:
    """The example directory's organization tree as a Mermaid flowchart."""
    tree = load_directory(EXAMPLE).tree
    lines = ["```mermaid", "flowchart TD", '    state["State of California (implicit, O3)"]']
    for org in tree:
        node = f'c{org.cds}["{_label(org.name)}<br/>{org.cds}"]'
        if org.level is Level.LEA:
            lines.append(f"    state --> {node}")
            if not org.cds.endswith("0000000"):
                lines.append(f"    class c{org.cds} charter")
        else:
            lines.append(f"    c{org.lea} --> {node}")
    lines += ["    classDef charter stroke-dasharray: 5 5", "```"]
    return "\n".join(lines)


def grants() -> str:
    """The grant matrix as a Mermaid flowchart: an arrow from grantor to grantee per row."""
    names = [SUPERINTENDENT, *(r.name for r in ROLES)]
    ids = {name: f"r{i}" for i, name in enumerate(names)}
    levels = {r.name: r.level for r in ROLES}
    used = {g.grantor for g in GRANTS} | {g.grantee for g in GRANTS}
    lines = ["```mermaid", "flowchart LR"]
    lines.append(f'    {ids[SUPERINTENDENT]}(["{_label(SUPERINTENDENT)}"])')
    for key, title, wanted in (
        ("lea_roles", "LEA roles", {RoleLevel.LEA}),
        ("school_roles", "School roles", {RoleLevel.SCHOOL}),
        ("any_roles", "LEA or school roles", set(RoleLevel) - {RoleLevel.LEA, RoleLevel.SCHOOL}),
    ):
        members = [n for n in names[1:] if n in used and levels[n] in wanted]
        if not members:
            continue
        lines.append(f'    subgraph {key}["{title}"]')
        lines.extend(f'        {ids[n]}["{_label(n)}"]' for n in members)
        lines.append("    end")
    for g in GRANTS:
        notes = [_WHERE[g.where], g.rule]
        if g.may_grant_primary:
            notes.append("primary too")
        if g.grantor_primary_only:
            notes.append("primary holder only")
        lines.append(f'    {ids[g.grantor]} -->|"{_label(", ".join(notes))}"| {ids[g.grantee]}')
    lines.append("```")
    return "\n".join(lines)


def render(page: str) -> str:
    """The page with both diagrams rewritten; raises if a marker is missing."""
    for name, body in (("organizations", organizations()), ("grants", grants())):
        begin, end = MARKERS[name]
        start, stop = page.index(begin) + len(begin), page.index(end)
        page = f"{page[:start]}\n\n{body}\n\n{page[stop:]}"
    return page


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {REGENERATE}")
    PAGE.write_text(render(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
