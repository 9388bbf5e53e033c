"""The command line as a process: on a real terminal, in a pipe, interrupted, killed mid-write."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.uploadfiles import COORDINATOR

DIRECTORY = str(EXAMPLES / "directory.json")
CLI = [sys.executable, "-m", "caaspp_authz"]


def _big_user_file(path: Path) -> Path:
    """A valid user file of more than 8 MiB (the progress bar's threshold): padded blank lines."""
    head = (EXAMPLES / "users_upload.csv").read_bytes().splitlines(keepends=True)[:2]
    path.write_bytes(b"".join(head) + b"\r\n" * (4_300_000))
    assert path.stat().st_size > 8 << 20
    return path


def _on_terminal(argv: list[str]) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; its status, stdout and terminal text."""
    master, slave = pty.openpty()
    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed
                return
            if not data:
                return
            shown.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        done = subprocess.run(
            [*CLI, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
            check=False,
        )
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return done.returncode, done.stdout.decode("utf-8"), b"".join(shown).decode("utf-8")


def test_large_file_on_a_terminal_shows_progress(tmp_path: Path) -> None:
    """U2: `validate` and `apply` of a file over 8 MiB on a terminal draw the bar and finish."""
    big = str(_big_user_file(tmp_path / "big.csv"))
    status, out, terminal = _on_terminal(
        ["validate", "users", big, "--directory", DIRECTORY, "--as", COORDINATOR]
    )
    assert "Traceback" not in terminal
    assert status == 0, terminal
    assert out.startswith("big.csv: valid: 1 row(s)")
    assert "100%" in terminal
    new = tmp_path / "new.json"
    status, out, terminal = _on_terminal(
        ["apply", "users", big, "--directory", DIRECTORY, "--as", COORDINATOR, "--out", str(new)]
    )
    assert (status, "Traceback" in terminal) == (0, False), terminal
    assert json.loads(new.read_text("utf-8"))["format"] == 1


def test_reader_that_goes_away_ends_quietly(tmp_path: Path) -> None:
    """`decide ... | head -1`: no BrokenPipeError traceback, status 141 (128 + SIGPIPE)."""
    lines = (EXAMPLES / "requests.jsonl").read_text("utf-8").splitlines()
    batch = tmp_path / "many.jsonl"
    batch.write_text("\n".join(lines * 3000) + "\n", encoding="utf-8")
    with subprocess.Popen(
        [*CLI, "decide", "--directory", DIRECTORY, "--requests", str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = child.stdout.readline()
        child.stdout.close()  # as `head -1` does once it has its line
        err = child.stderr.read()
        assert child.wait(timeout=60) == 141
    assert json.loads(first)["allowed"] in (True, False)
    assert err == b""


def test_interrupt_ends_quietly_with_130() -> None:
    """Ctrl-C (SIGINT) while `decide --requests -` waits for input: no traceback, status 130."""
    first = (EXAMPLES / "requests.jsonl").read_text("utf-8").splitlines()[0]
    with subprocess.Popen(
        [*CLI, "decide", "--directory", DIRECTORY, "--requests", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A shell starts background jobs with SIGINT ignored, and a child inherits that: give
        # the command the default disposition a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(first.encode() + b"\n")
        child.stdin.flush()
        assert "allowed" in json.loads(child.stdout.readline())  # answered: waiting on stdin
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 130
    assert b"Traceback" not in err


_WRITER = """
import sys
from caaspp_authz._cli_uploads import write_atomically
print("ready", flush=True)
write_atomically(sys.argv[1], "x" * 40_000_000 + "\\n")
"""


def test_killed_during_a_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    """The `--out` writer, killed at any moment, leaves the old file or the whole new one."""
    target = tmp_path / "directory.json"
    old = '{"format": 1}\n'
    for delay in (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08):
        target.write_text(old, encoding="utf-8")
        with subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE
        ) as child:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"  # imported: the write starts now
            time.sleep(delay)
            child.kill()
            child.wait(timeout=60)
        text = target.read_text("utf-8")
        assert text == old or text == "x" * 40_000_000 + "\n", f"killed after {delay}s"
