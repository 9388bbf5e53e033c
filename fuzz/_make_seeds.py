"""Write the seed inputs of every target into ``fuzz/seeds/`` from the shipped examples.

``python -m fuzz._make_seeds`` rewrites them; they are small (a few KB at most) so that each
fits the fuzzer's default ``--max-len`` and deep paths (``apply``, a decision) are reached.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from fuzz import cli
from fuzz._common import EXAMPLES, SEEDS, example_directory, random_requests


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _write(target: str, name: str, data: bytes) -> None:
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def _directories() -> None:
    full = json.loads((EXAMPLES / "directory.json").read_text(encoding="utf-8"))
    keep = {
        "superintendent@example.org",
        "caaspp.coordinator@example.org",
        "site.coordinator@example.org",
        "teacher@example.org",
        "examiner@example.org",
        "roster@example.org",
        "former.teacher@example.org",
        "valley.teacher@sample.org",
    }
    small = dict(full, accounts=[a for a in full["accounts"] if a["email"] in keep])
    _write("directory", "example_small.json", _compact(small))
    _write("directory", "multi_role.json", _compact(dict(small, rule_set="multi-role")))
    for name in ("directory_legacy.json", "directory_problems.json"):
        data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        _write("directory", name, _compact(data))
    _write("directory", "empty.json", b'{"format":1,"organizations":[]}')


def _requests() -> None:
    lines = (EXAMPLES / "requests.jsonl").read_bytes().splitlines(keepends=True)
    for i in range(0, len(lines), 4):
        _write("request", f"requests_{i // 4}.jsonl", b"".join(lines[i : i + 4]))
    _write("request", "request.json", (EXAMPLES / "request.json").read_bytes())
    d = example_directory()
    rng = random.Random(12)
    for i in range(8):
        mixed = [_compact(m) for m in random_requests(d, rng, 3)]
        _write("request", f"mixed_{i}.jsonl", b"\n".join(mixed) + b"\n")


def _uploads() -> None:
    users = (EXAMPLES / "users_upload.csv").read_bytes()
    _write("users", "users_upload.csv", users)
    _write("users", "users_upload_errors.csv", (EXAMPLES / "users_upload_errors.csv").read_bytes())
    _write("users", "crlf_bom.csv", b"\xef\xbb\xbf" + users.replace(b"\n", b"\r\n"))
    header, first, *_ = users.splitlines()
    _write("users", "one_row.csv", header + b"\n" + first + b"\n")
    _write(
        "users", "quoted.csv", header + b'\n"Vera","Nolan, Jr.",' + first.split(b",", 2)[2] + b"\n"
    )
    groups = (EXAMPLES / "groups_upload.csv").read_bytes()
    _write("groups", "groups_upload.csv", groups)
    header, *rows = groups.splitlines()
    _write("groups", "one_group.csv", b"\n".join([header, *rows[:2]]) + b"\n")
    _write("groups", "crlf.csv", groups.replace(b"\n", b"\r\n"))


def _cde() -> None:
    lines = (EXAMPLES / "cde_pubschls_sample.txt").read_bytes().splitlines(keepends=True)
    header = lines[0]
    _write("cde", "county_office.txt", b"".join(lines[:3]))
    _write("cde", "district.txt", header + b"".join(lines[3:6]))
    for i, line in enumerate(lines[6:], start=6):
        if len(header) + len(line) < 3000 and i % 3 == 0:
            _write("cde", f"row_{i}.txt", header + lines[3] + line)


def _spell(path: Sequence[str], words: Sequence[str]) -> bytes:
    """The bytes that :func:`fuzz.cli.argv_of` reads as ``path`` then ``words``."""
    cmds = cli.commands()
    index = next(i for i, (p, _) in enumerate(cmds) if p == tuple(path))
    vocabulary = [*cmds[index][1], *cli.VALUES]
    out = bytearray([index])
    for word in words:
        if word in vocabulary:
            out.append(vocabulary.index(word))
        else:
            raw = word.encode()
            out.append(cli.RAW + len(raw) - 1)
            out.extend(raw)
    return bytes(out)


CLI_SEEDS = {
    "decide_requests": "decide | --directory {directory.json} --requests {requests.jsonl} "
    "--format json",
    "decide_request": "decide | --directory {directory.json} --request {request.json} --explain",
    "decide_flags": "decide | --directory {directory.json} --principal teacher@example.org "
    "--action view_student_results --resource {resource} --exit-code",
    "check": "check-directory | {directory_problems.json} --format json",
    "validate_users": "validate users | {users_upload_errors.csv} --directory {directory.json} "
    "--as caaspp.coordinator@example.org",
    "apply_users": "apply users | {users_upload.csv} --directory {directory.json} "
    "--as caaspp.coordinator@example.org --out out.json --details",
    "apply_groups": "apply groups | {groups_upload.csv} --directory {directory.json} "
    "--as site.coordinator@example.org --out out.json --format json",
    "from_cde": "directory from-cde | {cde_pubschls_sample.txt} --out out.json",
    "convert": "directory convert | {directory_legacy.json} --out out.sqlite",
    "visible": "visible | --directory {directory.json} --principal teacher@example.org "
    "--action view_student_results",
    "who_can": "who-can | --directory {directory.json} --action view_student_results "
    "--resource {resource}",
    "grantable": "grantable | --directory {directory.json} "
    "--principal caaspp.coordinator@example.org",
    "schema": "schema | request",
    "test": "test | {district_tests.toml}",
    "usage": "| --version",
}
"""Each seed of the ``cli`` target: its subcommands, then its words."""


def cli_argv(name: str) -> list[str]:
    """The argument list of the ``cli`` seed ``name``."""
    values = {name: str(cli.inputs() / name) for name in cli.originals()}
    values["resource"] = '{"student": "1000000001"}'
    path, words = CLI_SEEDS[name].split("|")
    return [*path.split(), *(values[w[1:-1]] if w.startswith("{") else w for w in words.split())]


def _cli() -> None:
    for name, spec in CLI_SEEDS.items():
        argv = cli_argv(name)
        path = spec.split("|")[0].split()
        data = _spell(path, argv[len(path) :])
        assert cli.argv_of(data) == argv, (name, cli.argv_of(data))
        _write("cli", name, data)


def main() -> None:
    """Write every seed."""
    _directories()
    _requests()
    _uploads()
    _cde()
    _cli()


if __name__ == "__main__":
    main()
