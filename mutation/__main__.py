"""``python -m mutation [MODULE ...]``: mutation testing of the decision, catalog, directory,
account and upload modules. See docs/explanation/mutation-testing.md.

Exits 0 when every mutant of the modules run was killed or is listed, with the reason, in
:file:`mutation/equivalent.toml`; 1 when a mutant survived unexplained, a listed equivalent was
killed, or a listed equivalent no longer exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

from mutation import runner
from mutation.mutants import Mutant, module_path, mutants_of

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
TARGETS = HERE / "targets.toml"
EQUIVALENT = HERE / "equivalent.toml"
RESULTS = ROOT / ".mutation" / "results.json"
PACKAGE = "caaspp_authz"


def equivalents(path: Path = EQUIVALENT) -> dict[str, dict[str, str]]:
    """module → mutant key → why the mutant is equivalent, from :file:`equivalent.toml`."""
    found: dict[str, dict[str, str]] = {}
    for entry in tomllib.loads(path.read_text("utf-8")).get("equivalent", []):
        module, why = entry["module"], entry["why"].strip()
        keys = [entry["mutant"]] if "mutant" in entry else list(entry["mutants"])
        for key in keys:
            if not why:
                raise SystemExit(f"{path.name}: `{key}` of {module} gives no reason")
            if key in found.setdefault(module, {}):
                raise SystemExit(f"{path.name}: `{key}` of {module} is listed twice")
            found[module][key] = why
    return found


def _full_name(name: str) -> str:
    return name if name.startswith(f"{PACKAGE}.") else f"{PACKAGE}.{name}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__)
    parser.add_argument(
        "modules",
        nargs="*",
        metavar="MODULE",
        help="modules to mutate (`decision` or `caaspp_authz.decision`); default: every module "
        "of mutation/targets.toml, in its order",
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument(
        "--nice", type=int, default=10, help="niceness added to the run (default 10)"
    )
    parser.add_argument("--count", action="store_true", help="count the mutants and stop")
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: tally the recorded outcomes (a mutant never run counts as not run)",
    )
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="run again only the mutants that survived the last recorded run",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="run only the mutants with no recorded outcome (after an interrupted run)",
    )
    parser.add_argument("--match", default="", help="run only mutants whose key contains this")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help=f"where every mutant's last outcome is kept (default {RESULTS.relative_to(ROOT)})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    targets = runner.load_targets(TARGETS)
    names = [_full_name(n) for n in args.modules] or list(targets)
    unknown = [n for n in names if n not in targets]
    if unknown:
        raise SystemExit(f"no tests are selected for {', '.join(unknown)} in {TARGETS.name}")
    explained = equivalents()
    stored = _load(args.results)
    all_mutants = {}
    for name in names:
        source = module_path(name, ROOT).read_text("utf-8")
        all_mutants[name] = mutants_of(name, source)
        print(f"{name}: {len(all_mutants[name])} mutants", flush=True)
    if args.count:
        print(f"total: {sum(len(m) for m in all_mutants.values())} mutants")
        return 0
    if args.report:
        return _report_recorded(names, all_mutants, targets, explained, stored)
    os.nice(args.nice)
    problems = 0
    rows = []
    with runner.workdir() as scratch:
        for name in names:
            row, bad = _run_module(
                name,
                all_mutants[name],
                targets[name],
                explained.get(name, {}),
                stored,
                args,
                Path(scratch),
            )
            problems += bad
            rows.append(row)
    _report(rows)
    return 1 if problems else 0


def _run_module(
    name: str,
    mutants: list[Mutant],
    tests: list[str],
    explained: dict[str, str],
    stored: dict[str, dict[str, object]],
    args: argparse.Namespace,
    scratch: Path,
) -> tuple[list[object], int]:
    path = module_path(name, ROOT)
    digest = _digest(path.read_text("utf-8"), tests)
    record = stored.get(name, {})
    outcomes = record.get("outcomes") if record.get("digest") == digest else None
    last: dict[str, str] = dict(outcomes) if isinstance(outcomes, dict) else {}
    chosen = [m for m in mutants if args.match in m.key]
    if args.survivors:
        chosen = [m for m in chosen if last.get(m.key) == "survived"]
    if args.resume:
        chosen = [m for m in chosen if m.key not in last]
    with runner.preloaded(name, PACKAGE) as warm:
        return _run_chosen(
            name,
            path,
            mutants,
            chosen,
            tests,
            explained,
            stored,
            args,
            scratch,
            digest,
            last,
            warm,
        )


def _run_chosen(
    name: str,
    path: Path,
    mutants: list[Mutant],
    chosen: list[Mutant],
    tests: list[str],
    explained: dict[str, str],
    stored: dict[str, dict[str, object]],
    args: argparse.Namespace,
    scratch: Path,
    digest: str,
    last: dict[str, str],
    warm: bool,
) -> tuple[list[object], int]:
    base = runner.baseline(name, path, tests, scratch)
    timeout = runner.timeouts(base)
    print(
        f"{name}: running {len(chosen)} of {len(mutants)} mutants; the tests take "
        f"{' + '.join(f'{b:.1f}' for b in base)} s unmutated "
        f"(timeouts {', '.join(f'{t:.0f}' for t in timeout)} s)"
        + ("; the package is imported once, before" if warm else ""),
        flush=True,
    )
    started = time.monotonic()
    done = Counter[str]()

    def progress(outcome: runner.Outcome) -> None:
        last[outcome.mutant.key] = outcome.status
        done[outcome.status] += 1
        if outcome.status == "survived" and outcome.mutant.key not in explained:
            print(f"  survived {_where(outcome.mutant)}", flush=True)
        if done.total() % 100 == 0:
            _save(args.results, stored, name, digest, last)
            print(f"  … {done.total()} run, {dict(done)}", flush=True)

    try:
        runner.run(
            name,
            path,
            tests,
            chosen,
            jobs=args.jobs,
            timeout=timeout,
            workdir=scratch,
            progress=progress,
        )
    finally:
        # An interrupted run keeps what it measured: `--resume` goes on from there.
        _save(args.results, stored, name, digest, last)
    print(f"{name}: done in {time.monotonic() - started:.0f} s", flush=True)
    return _tally(name, mutants, last, explained)


def _report_recorded(
    names: list[str],
    all_mutants: dict[str, list[Mutant]],
    targets: dict[str, list[str]],
    explained: dict[str, dict[str, str]],
    stored: dict[str, dict[str, object]],
) -> int:
    problems = 0
    rows = []
    for name in names:
        digest = _digest(module_path(name, ROOT).read_text("utf-8"), targets[name])
        record = stored.get(name, {})
        outcomes = record.get("outcomes") if record.get("digest") == digest else None
        last: dict[str, str] = dict(outcomes) if isinstance(outcomes, dict) else {}
        row, bad = _tally(name, all_mutants[name], last, explained.get(name, {}))
        problems += bad
        rows.append(row)
    _report(rows)
    return 1 if problems else 0


def _digest(source: str, tests: list[str]) -> str:
    text = source + "\n".join(tests)
    return hashlib.sha256(text.encode()).hexdigest()


def _where(mutant: Mutant) -> str:
    return f"{mutant.module}:{mutant.line}: {mutant.key}"


def _tally(
    name: str, mutants: list[Mutant], last: dict[str, str], explained: dict[str, str]
) -> tuple[list[object], int]:
    counts = Counter[str]()
    problems = 0
    keys = {m.key for m in mutants}
    for mutant in mutants:
        status = last.get(mutant.key, "not run")
        if status == "survived" and mutant.key in explained:
            status = "equivalent"
        elif status in ("killed", "timeout") and mutant.key in explained:
            print(f"  listed as equivalent but killed: {_where(mutant)}")
            problems += 1
        elif status == "survived":
            print(f"  survived, unexplained: {_where(mutant)}")
            problems += 1
        counts[status] += 1
    for key in sorted(set(explained) - keys):
        print(f"  listed as equivalent but no such mutant: {name}: {key}")
        problems += 1
    row: list[object] = [
        name.removeprefix(f"{PACKAGE}."),
        len(mutants),
        counts["killed"],
        counts["timeout"],
        counts["equivalent"],
        counts["survived"],
        counts["not run"],
    ]
    return row, problems


def _report(rows: list[list[object]]) -> None:
    head = ["module", "mutants", "killed", "timeout", "equivalent", "survived", "not run"]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")


def _load(path: Path) -> dict[str, dict[str, object]]:
    try:
        data: dict[str, dict[str, object]] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    return data


def _save(
    path: Path,
    stored: dict[str, dict[str, object]],
    name: str,
    digest: str,
    outcomes: dict[str, str],
) -> None:
    stored[name] = {"digest": digest, "outcomes": dict(sorted(outcomes.items()))}
    path.parent.mkdir(exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)


if __name__ == "__main__":
    sys.exit(main())
