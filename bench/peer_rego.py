"""V1 translated to Rego, evaluated by regorus (the Rust Rego engine) through its Python binding.

The binding is the ``regorus`` module of the ``gordon-to-regorus`` distribution, through both of
its evaluators: the ``Engine`` (the interpreter) and a program compiled for its ``Rvm`` (the
virtual machine). The directory is loaded once as data; each request is the input
``{"principal": EMAIL, "student": SSID}``. ``data.users[e].pii`` and ``.pii_group`` hold the organizations where the user holds that
permission through an assignment in force (G10 applied by the directory); a student carries its
school and LEA, so "an LEA covers its schools" (O4) is a lookup of either.
"""

from __future__ import annotations

import json
from typing import Any

import regorus

from caaspp_authz import Directory

POLICY = """
package caaspp

import rego.v1

default allow := false

covers(held, s) if held[s.school]

covers(held, s) if held[s.lea]

# V1: PII covering the school where the result was earned.
allow if {
	s := data.students[input.student]
	covers(data.users[input.principal].pii, s)
}

# V1, V2: PII_GROUP covering the school, and the student in a group assigned to the user.
allow if {
	s := data.students[input.student]
	u := data.users[input.principal]
	covers(u.pii_group, s)
	some g in u.groups
	data.groups[g][input.student]
}
"""


class Rego:
    """The V1 policy as a Rego module and a data document, built from a directory."""

    def __init__(self, directory: Directory) -> None:
        groups: dict[str, dict[str, bool]] = {}
        for g in directory.groups.values():
            groups[f"{g.key.school}/{g.key.school_year}/{g.key.name}"] = dict.fromkeys(
                sorted(g.students), True
            )
        users: dict[str, Any] = {}
        for user in directory.users():
            if not user.active:  # G11: an inactive account is left out, so it is denied
                continue
            users[user.email] = {
                "pii": dict.fromkeys(sorted(user.scope("PII")), True),
                "pii_group": dict.fromkeys(sorted(user.scope("PII_GROUP")), True),
                "groups": sorted(f"{k.school}/{k.school_year}/{k.name}" for k in user.groups),
            }
        students = {
            s.ssid: {"school": s.school, "lea": directory.tree.organizations[s.school].lea_code}
            for s in directory.students.values()
        }
        self.document = json.dumps({"users": users, "students": students, "groups": groups})
        self.engine: Any = None
        self.rvm: Any = None

    def load(self) -> None:
        """Compile the policy and load the data document once."""
        engine = regorus.Engine()
        engine.add_policy("caaspp.rego", POLICY)
        engine.add_data_json(self.document)
        self.engine = engine

    def can(self, email: str, ssid: str) -> bool:
        """One request: set the input, evaluate ``data.caaspp.allow``."""
        engine = self.engine
        engine.set_input({"principal": email, "student": ssid})
        return engine.eval_rule("data.caaspp.allow") is True

    def load_rvm(self) -> None:
        """Compile the policy to a regorus VM program and load the data document once."""
        program = regorus.Program.compile_from_modules(
            self.document, [("caaspp.rego", POLICY)], ["data.caaspp.allow"]
        )
        rvm = regorus.Rvm()
        rvm.load_program(program)
        rvm.set_data_json(self.document)  # the program does not carry the data at run time
        self.rvm = rvm

    def can_rvm(self, email: str, ssid: str) -> bool:
        """One request on the compiled program: set the input as JSON, execute."""
        rvm = self.rvm
        rvm.set_input_json(json.dumps({"principal": email, "student": ssid}))
        return bool(rvm.execute() == "true")
