"""Atomic file writes and output-path checks.

A write goes to a temp file in the same directory (``.<name>.<random>.tmp``), is flushed and fsynced,
then renamed over the target and the directory fsynced: readers see the old file or the new one, never
half of one. A write killed midway leaves only its temp file behind (`clean_temp_files` removes it). A
written file has the mode a plain ``open(path, "w")`` would give it (0666 less the umask), not mkstemp's 0600.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

TEMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temp file next to `path`; on a clean exit flush, fsync and rename it over `path`.

    On an exception the temp file is removed and `path` is left as it was. The rename is atomic on
    POSIX (same directory, same file system), so readers see the old file or the new one, never half.
    """
    path = Path(path)
    make_dirs(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600; a written file gets the mode open() would give it
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def current_umask() -> int:
    """The process's umask, read without changing it where Linux's /proc tells it (``os.umask`` can only
    be read by setting it, which another thread could observe)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_open`)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def _file_in_the_way(paths: Iterable[Path]) -> Path | None:
    """The first of `paths` that exists and is not a directory."""
    return next((p for p in paths if p.exists() and not p.is_dir()), None)


def make_dirs(directory: str | Path) -> None:
    """``mkdir -p directory``; a file in the way is a one-line ``NotADirectoryError`` that names it
    (``mkdir`` says only "File exists" or "Not a directory", without saying which part of the path)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = _file_in_the_way((directory, *directory.parents)) or directory
        raise NotADirectoryError(
            f"cannot create directory {str(directory)!r}: {str(blocker)!r} is a file, not a directory; choose another path"
        ) from None


def check_output_path(path: str | Path, option: str) -> None:
    """Refuse, before any work, an output file that could not be written: a file where a parent directory
    would go, a directory at the file's own path (found otherwise only when the result is saved), or a
    parent directory that does not exist (an output file goes into an existing directory, as with ``cp``;
    only run directories are created)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{option} {str(path)!r} is a directory; give a file name inside it")
    blocker = _file_in_the_way(path.parents)
    if blocker is not None:
        raise NotADirectoryError(f"{option} {str(path)!r}: {str(blocker)!r} is a file, not a directory; choose another path")
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(
            f"{option} {str(path)!r}: directory {str(parent)!r} does not exist; create it first (mkdir -p {parent}) or choose another path"
        )


def create_unique_dir(base: str | Path) -> Path:
    """Create and return the new, empty directory `base`, or ``base-2``, ``base-3`` … if taken.

    ``mkdir`` without ``exist_ok`` is the atomic claim, so two processes started in the same second
    (seed groups, sweeps) never share a run directory.
    """
    base = Path(base)
    make_dirs(base.parent)
    for attempt in range(1, 1000):
        path = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a run directory next to {base}")


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform/file system allows opening a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # `atomic_open`'s names: .<target>.<mkstemp's 8 characters>.tmp


def clean_temp_files(directory: str | Path) -> list[Path]:
    """Remove the temp files that killed `atomic_open` writes left in `directory`; returns them.

    Call it only where no other process is writing into `directory` (e.g. when a run resumes)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for entry in directory.iterdir():
        if _TEMP_RE.match(entry.name) and entry.is_file():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed
