"""A district's SQL row filter over student results (SQLite), right and wrong, for the oracle.

``load`` puts a directory (the JSON directory format) into SQLite tables; ``visible_students``
is the row filter V1 asks for: PII over the school where the result was earned, or PII_GROUP
over it and the student in a group assigned to the user (with G10's forms and G11's active
account); ``visible_students_pii_only`` forgets the group path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from caaspp_authz import ROLES, role

SCHEMA = """
CREATE TABLE organizations (cds TEXT PRIMARY KEY, lea TEXT NOT NULL);
CREATE TABLE accounts (email TEXT PRIMARY KEY, active INTEGER NOT NULL);
CREATE TABLE forms (email TEXT, program TEXT, form TEXT);
CREATE TABLE assignments (email TEXT, role TEXT, org TEXT);
CREATE TABLE role_permissions (role TEXT, permission TEXT);
CREATE TABLE role_programs (role TEXT, program TEXT);
CREATE TABLE role_forms (role TEXT, form TEXT);
CREATE TABLE students (ssid TEXT PRIMARY KEY, school TEXT NOT NULL);
CREATE TABLE group_students (group_id INTEGER, ssid TEXT);
CREATE TABLE group_users (group_id INTEGER, email TEXT);
CREATE VIEW in_force AS
  SELECT a.* FROM assignments a
  WHERE NOT EXISTS (
    SELECT 1 FROM role_programs rp JOIN role_forms rf ON rf.role = rp.role
    WHERE rp.role = a.role AND NOT EXISTS (
      SELECT 1 FROM forms f
      WHERE f.email = a.email AND f.program = rp.program AND f.form = rf.form));
"""


def _lea(org: Mapping[str, Any]) -> str:
    code: str = org["cds"]
    if org.get("level") == "lea" or (code.endswith("0000000") and org.get("level") != "school"):
        return code
    return str(org.get("lea") or code[:7] + "0000000")


def load(directory: Mapping[str, Any]) -> sqlite3.Connection:
    """A fresh in-memory database holding the directory."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    db.executemany(
        "INSERT INTO organizations VALUES (?, ?)",
        [(o["cds"], _lea(o)) for o in directory["organizations"]],
    )
    for a in directory["accounts"]:
        email = a["email"].lower()
        db.execute("INSERT INTO accounts VALUES (?, ?)", (email, a.get("active", True)))
        for program, forms in a.get("forms", {}).items():
            db.executemany(
                "INSERT INTO forms VALUES (?, ?, ?)", [(email, program, f) for f in forms]
            )
        db.executemany(
            "INSERT INTO assignments VALUES (?, ?, ?)",
            [(email, role(r["role"]).name, r["org"]) for r in a.get("roles", [])],
        )
    for r in ROLES:
        db.executemany(
            "INSERT INTO role_permissions VALUES (?, ?)",
            [(r.name, p.value) for p in r.permissions],
        )
        db.executemany(
            "INSERT INTO role_programs VALUES (?, ?)", [(r.name, p.value) for p in r.programs]
        )
        db.executemany(
            "INSERT INTO role_forms VALUES (?, ?)", [(r.name, f.value) for f in r.forms]
        )
    db.executemany(
        "INSERT INTO students VALUES (?, ?)",
        [(s["ssid"], s["school"]) for s in directory["students"]],
    )
    for i, g in enumerate(directory.get("groups", [])):
        db.executemany("INSERT INTO group_students VALUES (?, ?)", [(i, s) for s in g["students"]])
        db.executemany(
            "INSERT INTO group_users VALUES (?, ?)", [(i, u.lower()) for u in g["users"]]
        )
    return db


HOLDS = """
  EXISTS (SELECT 1 FROM in_force a JOIN role_permissions rp ON rp.role = a.role
          WHERE a.email = :p AND rp.permission = '{permission}' AND a.org IN (s.school, o.lea))
"""

PII_ONLY = f"""
SELECT s.ssid FROM students s JOIN organizations o ON o.cds = s.school
WHERE EXISTS (SELECT 1 FROM accounts WHERE email = :p AND active)
  AND {HOLDS.format(permission="PII")}
"""

BOTH_PATHS = f"""
SELECT s.ssid FROM students s JOIN organizations o ON o.cds = s.school
WHERE EXISTS (SELECT 1 FROM accounts WHERE email = :p AND active)
  AND ({HOLDS.format(permission="PII")}
       OR ({HOLDS.format(permission="PII_GROUP")}
           AND EXISTS (SELECT 1 FROM group_users gu
                       JOIN group_students gs ON gs.group_id = gu.group_id
                       WHERE gu.email = :p AND gs.ssid = s.ssid)))
"""


def visible_students(directory: Mapping[str, Any], principal: str, action: str) -> list[str]:
    """The SSIDs whose results ``principal`` may view: both paths of V1."""
    return [row[0] for row in load(directory).execute(BOTH_PATHS, {"p": principal.lower()})]


def visible_students_pii_only(
    directory: Mapping[str, Any], principal: str, action: str
) -> list[str]:
    """The deliberately wrong filter: PII only, the group path of V1 forgotten."""
    return [row[0] for row in load(directory).execute(PII_ONLY, {"p": principal.lower()})]
