"""Target ``users``: bytes as a TOMS user file, validated and, when valid, applied to
``examples/directory.json`` by its LEA CAASPP coordinator.

Oracle: validation never raises and every problem is bounded; ``apply`` applies every file with
no error and refuses one with an error with the same errors (checked on one in four such
files); after an ``apply`` every added assignment is held by an active account, no overridden
one is, each account created is new and each reactivated one was inactive, and the uploader
may remove every role it granted to someone else (``decide(..., remove_role, ...)``, as
``tests/property/test_uploads_decide.py`` states it). The library's CSV reader reads clean
text as ``csv.reader`` does.
"""

from __future__ import annotations

from caaspp_authz import Action, Grant, decide
from caaspp_authz.catalog import role
from caaspp_authz.uploads import apply_users, validate_users
from fuzz._common import example_directory
from fuzz._uploads import check_csv, check_upload

UPLOADER = "caaspp.coordinator@example.org"


def check(data: bytes) -> None:
    """Run the oracle on one input; ``AssertionError`` when it fails."""
    check_csv(data)
    before = example_directory()
    result = check_upload(
        data,
        before,
        lambda s, d: validate_users(s, d, uploader=UPLOADER),
        lambda s, d: apply_users(s, d, uploader=UPLOADER),
    )
    if result is None:
        return
    after, changes = result.directory, result.changes
    uploader = after.user(UPLOADER)
    for change in changes.assignments_added:
        account = after.account(change.email)
        assert account is not None and account.active, change
        held = {(a.role.name, a.org) for a in account.assignments}
        assert (change.role, change.org) in held, (change, held)
        if change.email != UPLOADER:
            grant = Grant(change.email, role(change.role), change.org)
            assert decide(uploader, Action.REMOVE_ROLE, grant).allowed, change
    for change in changes.assignments_overridden:
        account = after.account(change.email)
        assert account is not None
        assert change.previous not in {
            a.role.name for a in account.assignments if a.org == change.org
        }, change
    for email in changes.accounts_created:
        assert before.account(email) is None and after.account(email) is not None, email
    for email in changes.accounts_reactivated:
        old = before.account(email)
        assert old is not None and not old.active, email
