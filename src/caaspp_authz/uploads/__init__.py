"""Upload files: the TOMS user upload and the CERS student-group upload, validated and applied.

A file is validated before it is applied, and a file with any error applies nothing (U2).
Validation streams: records are read one at a time and every problem is reported, not only
the first, each with its spreadsheet row (the header is row 1), column, value, rule ID,
severity, message and, where one exists, a fix.

Upload validation is not a second implementation of the policy: each row implies requests
(``add_role``, ``remove_role``, ``reactivate_account``, ``edit_account``; ``create_group``,
``edit_group``, ``assign_group``) that :func:`~caaspp_authz.decision.decide` decides, and only
what is about the file itself is checked here.

- :mod:`caaspp_authz.uploads.report`: the values an upload gives (:class:`Validation`,
  :class:`ChangeReport`, :class:`UploadResult`, :class:`UploadError`).
- :mod:`caaspp_authz.uploads.users`: the TOMS user upload (:func:`validate_users`,
  :func:`iter_user_problems`, :func:`apply_users`, :func:`users_csv`).
- :mod:`caaspp_authz.uploads.groups`: the CERS student-group upload (:func:`validate_groups`,
  :func:`iter_group_problems`, :func:`apply_groups`, :func:`groups_csv`).
"""

from __future__ import annotations

from caaspp_authz.uploads._common import Source
from caaspp_authz.uploads.groups import (
    GROUP_HEADER,
    GroupRow,
    apply_groups,
    groups_csv,
    iter_group_problems,
    validate_groups,
)
from caaspp_authz.uploads.report import (
    AssignmentChange,
    ChangeReport,
    MemberChange,
    UploadError,
    UploadResult,
    Validation,
    problem_json,
)
from caaspp_authz.uploads.users import (
    USER_HEADER,
    UserRow,
    apply_users,
    iter_user_problems,
    users_csv,
    validate_users,
)

__all__ = [
    "GROUP_HEADER",
    "USER_HEADER",
    "AssignmentChange",
    "ChangeReport",
    "GroupRow",
    "MemberChange",
    "Source",
    "UploadError",
    "UploadResult",
    "UserRow",
    "Validation",
    "apply_groups",
    "apply_users",
    "groups_csv",
    "iter_group_problems",
    "iter_user_problems",
    "problem_json",
    "users_csv",
    "validate_groups",
    "validate_users",
]
