"""Target ``directory``: bytes as a directory file, through ``load_directory``.

Oracle: the file is refused with a ``DirectoryError`` (every problem a clear message of bounded
length, at least one of them an error) or it loads; a loaded directory dumps, loads from that
dump and dumps again to the same value, and on a few requests drawn from the input ``can``
agrees with ``decide``.
"""

from __future__ import annotations

import json
import random

from caaspp_authz import CaasppAuthzError, dump_directory, load_directory
from fuzz._common import as_file, check_error, check_request, random_requests

REQUESTS = 4
"""How many requests are decided on a directory that loads."""


def check(data: bytes) -> None:
    """Run the oracle on one input; ``AssertionError`` when it fails."""
    path = as_file(data, "directory.json")
    try:
        d = load_directory(path)
    except CaasppAuthzError as exc:
        check_error(exc)
        return
    for warning in d.warnings:
        assert not warning.is_error, warning
    first = dump_directory(d)
    again_path = as_file(json.dumps(first, ensure_ascii=False).encode(), "again.json")
    again = load_directory(again_path)
    assert dump_directory(again) == first, "dump -> load -> dump changed the directory"
    rng = random.Random(data)
    for mapping in random_requests(d, rng, REQUESTS):
        check_request(d, mapping)
