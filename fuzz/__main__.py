"""``python -m fuzz TARGET|all [--runs N] [--max-len N]``: run the fuzzer (atheris)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

from fuzz import MAX_LEN, TARGETS

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / ".fuzz"
"""Where a run keeps the inputs it found (``corpus/TARGET``) and its failures (``crashes/``)."""


def _instrumented(target: str) -> object:
    """Import the library under atheris' coverage instrumentation, then the target."""
    import atheris

    with atheris.instrument_imports(include=["caaspp_authz"]):
        import caaspp_authz

        for info in pkgutil.walk_packages(caaspp_authz.__path__, "caaspp_authz."):
            if info.name.endswith("__main__"):  # it runs the command line
                continue
            try:
                importlib.import_module(info.name)
            except ImportError:  # an extra that is not installed: that module is not fuzzed
                continue
    from fuzz import load

    return load(target)


def _run(target: str, runs: int, max_len: int, max_time: int) -> int:
    import atheris

    check = _instrumented(target)
    corpus = WORK / "corpus" / target
    crashes = WORK / "crashes" / target
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        str(corpus),
        str(HERE / "seeds" / target),
        f"-runs={runs}",
        f"-max_len={max_len}",
        f"-artifact_prefix={crashes}/",
        "-timeout=20",
        "-print_final_stats=1",
    ]
    if max_time:
        argv.append(f"-max_total_time={max_time}")
    atheris.Setup(argv, check)
    atheris.Fuzz()  # exits the process
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one target in this process, or every target in a process each."""
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("target", choices=(*TARGETS, "all"))
    parser.add_argument("--runs", type=int, default=100_000, help="executions (100,000)")
    parser.add_argument(
        "--max-len",
        type=int,
        default=0,
        metavar="N",
        help="the longest input, in bytes (default: the target's, from 64 to 4,096)",
    )
    parser.add_argument(
        "--max-time",
        type=int,
        default=0,
        metavar="S",
        help="stop a target after S seconds even if its runs are not done (0: no limit)",
    )
    args = parser.parse_args(argv)
    if args.target != "all":
        max_len = args.max_len or MAX_LEN[args.target]
        return _run(args.target, args.runs, max_len, args.max_time)
    failed = []
    for target in TARGETS:
        command = [sys.executable, "-m", "fuzz", target, "--runs", str(args.runs)]
        command += ["--max-len", str(args.max_len), "--max-time", str(args.max_time)]
        status = subprocess.run(command, check=False)
        if status.returncode != 0:
            failed.append(target)
    if failed:
        print(f"failures in: {', '.join(failed)} (inputs in {WORK / 'crashes'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
