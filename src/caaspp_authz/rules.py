"""The rulebook's rule IDs as data: every rule of the rulebook and its short title.

Decisions and problems name rules by these IDs (``Decision.rules``, ``Problem.rule``); the rule
index of the documentation is generated from this table. The order is the rulebook's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["RULES"]

RULES: Mapping[str, str] = MappingProxyType(
    {
        # 1. Organizations
        "O1": "Three levels: the State, LEAs and schools; each school in one LEA",
        "O2": "Organizations are identified by 14-digit CDS codes; `…0000000` is an LEA",
        "O3": "The State is implicit; a school's LEA is data; the hierarchy is validated",
        "O4": "A role at an LEA covers its schools; a role at a school covers that school",
        "O5": "A CDS code mangled by a spreadsheet is rejected naming the likely cause",
        # 2. Programs and roles
        "R1": "Two programs, CAASPP and ELPAC; each role belongs to one or both",
        "R2": "The role catalog: name, level, program",
        "R3": "Spellings and legacy names of roles",
        "R4": "Upload role names match a spelling exactly; near misses suggest the closest",
        "R5": "Test examiner roles need a licensed or credentialed employee",
        "R6": "The superintendent is a principal that designates LEA coordinators",
        "R7": "At most one primary LEA coordinator per LEA and program, held in any state",
        # 3. CERS permissions
        "P1": "The six CERS and Tools for Teachers permissions",
        "P2": "Role to permissions (Tables B.1, B.2)",
        "P3": "Where the sources disagree, Tables B.1 and B.2 win",
        "P4": "A user's permissions are the union over its assignments, each scoped by O4",
        # 4. CERS and Tools for Teachers
        "V1": "View a student's results: PII over the school, or PII_GROUP and an assigned group",
        "V2": "Administrators, examiners and Educator—Roster see nothing until a group is assigned",
        "V3": "Assigned student groups: GROUP_ADMIN manages and assigns to users it opens to",
        "V4": "Custom groups: the owner's own, from its assigned groups; the owner deletes",
        "V5": "Custom aggregate reports need CUSTOM_AGGREGATE_REPORTER over every organization",
        "V6": "Instructional-resource links need INSTRUCTIONAL_RESOURCE_ADMIN there",
        "V7": "Tools for Teachers needs DL_END_USER, anywhere",
        "V8": "IA Administrator Only sees interim results in CERS (supersedes the older note)",
        # 5. Test administration
        "T1": "Who administers summative, alternate, interim, practice and ELPAC tests, at test sites",
        "T2": "Who assigns and verifies student test settings, per program",
        "T3": "Interim hand scoring; completion status per program, interim-only for IA",
        # 6. Grants
        "G1": "The superintendent designates LEA coordinators, with no forms; the primary adds secondaries",
        "G2": "Accounts and roles are created only within the actor's own LEA, at or below it",
        "G3": "The grant matrix",
        "G4": "Educator—District is granted only by an LEA coordinator",
        "G5": "A site coordinator may not grant the role it holds at a different site",
        "G6": "Governing an assignment is the power to grant it; removing a role needs it",
        "G7": "Password resets: covering one role of an active account, every role of an inactive one",
        "G8": "Account-wide actions need covering every role the account holds",
        "G9": "Upload files: LEA coordinators for their LEA, site coordinators for their school",
        "G10": "Security forms per program; without them a role grants nothing; denials name them",
        "G11": "An inactive account may do nothing; reactivating it needs covering its roles",
        # 7. One e-mail, one account
        "E1": "The e-mail address is the account, compared case-insensitively",
        "E2": "One account may hold the same role at several organizations",
        "E3": "One account never holds two different roles",
        "E4": "Never two roles for one person at one site: the highest, derived from the tables",
        "E5": "An upload that leaves one e-mail with two different roles does not validate",
        "E6": "The part of an e-mail after its last dot is at most 10 characters",
        "E7": "Rule sets: `one-role-per-email` (E2–E5) or `multi-role`",
        "E8": "The e-mail rules span both programs: one TOMS login for CAASPP and ELPAC",
        # 8. Upload files
        "U1": "The TOMS user upload: six columns in order",
        "U2": "A file is validated whole before it is applied; every problem is reported",
        "U3": "Plain-text pitfalls: commas, BOM, CRLF, quoting, mangled CDS codes",
        "U4": "A later upload overrides a role previously assigned within that organization",
        "U5": "The CERS student group upload",
        "U6": "An upload row granting a credentialed role is the uploader's attestation",
        "U7": "An upload row's names and phone replace an account's only when the uploader covers it",
        "U8": "The CERS group file as the reporting platform checks it",
    }
)
"""Every rule ID of the rulebook and its short title, in the rulebook's order."""
