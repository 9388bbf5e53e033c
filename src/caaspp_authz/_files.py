"""Files replaced whole: a reader of the target sees the old file or the whole new one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["replace_atomically"]


def replace_atomically(path: str | os.PathLike[str], fill: Callable[[str], None]) -> None:
    """Replace ``path`` with what ``fill`` writes, never leaving it half-written.

    ``fill`` writes the new file at the temporary path it is given, in the target's folder; the
    file is then flushed to disk, given the old file's mode (or a new file's, as ``open`` would
    make it) and renamed over the target. A failure before the rename leaves the old file as it
    was and no temporary file behind.
    """
    target = Path(path)
    folder = target.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        fill(temporary)
        with open(temporary, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dirfd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a folder that cannot be opened (Windows)
        return
    try:
        os.fsync(dirfd)
    except OSError:  # pragma: no cover - file systems that do not sync folders
        pass
    finally:
        os.close(dirfd)
