"""Target ``groups``: bytes as a CERS student-group file, validated and, when valid, applied
to ``examples/directory.json`` by a site CAASPP coordinator.

Oracle: validation never raises and every problem is bounded; ``apply`` applies every file with
no error and refuses one with an error with the same errors (checked on one in four such
files); after an ``apply`` every group created or replaced is in the new directory and
was not (created) or was (replaced) in the old one, every member added is in its group, and the
uploader may assign each group to each user it added to it (``decide(..., assign_group,
...)``, V3, as ``tests/property/test_uploads_decide.py`` states it). The library's CSV reader
reads clean text as ``csv.reader`` does.
"""

from __future__ import annotations

from caaspp_authz import Action, Email, GroupAssignment, decide
from caaspp_authz.uploads import apply_groups, validate_groups
from fuzz._common import example_directory
from fuzz._uploads import check_csv, check_upload

UPLOADER = "site.coordinator@example.org"


def check(data: bytes) -> None:
    """Run the oracle on one input; ``AssertionError`` when it fails."""
    check_csv(data)
    before = example_directory()
    result = check_upload(
        data,
        before,
        lambda s, d: validate_groups(s, d, uploader=UPLOADER),
        lambda s, d: apply_groups(s, d, uploader=UPLOADER),
    )
    if result is None:
        return
    after, changes = result.directory, result.changes
    for key in changes.groups_created:
        assert before.group(key) is None and after.group(key) is not None, key
    for key in changes.groups_replaced:
        assert before.group(key) is not None and after.group(key) is not None, key
    uploader = after.user(UPLOADER)
    for m in changes.members_added:
        group = after.group(m.group)
        assert group is not None, m
        if m.kind == "student":
            assert m.member in group.students, m
        else:
            assert m.member in group.users, m
            assignment = GroupAssignment(m.group, Email(m.member))
            assert decide(uploader, Action.ASSIGN_GROUP, assignment).allowed, m
