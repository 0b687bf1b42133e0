"""Writing a file whole: new bytes go to a temporary file beside it, which is renamed over it, so
a reader (or a run killed at any moment) sees the old file or the new one, never a part.

The one way `feeds` writes a file, for the output folder (`publish.py`) and the cache
(`itemstore.py`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from feeds.libc import from_libc

if TYPE_CHECKING:
    import subprocess

T = TypeVar("T")

# Up to this many files (a run after a few changes), each is flushed with its own `fsync`, many
# in flight at once: the file system commits them together (1,000 files: 0.07 s here, against
# 0.25 s one after the other). Beyond (a cold build), one `syncfs` flushes the file system that
# holds them, and only that one: cheaper than 100,000 `fsync`s, but it waits for whatever else
# was written there meanwhile (on a busy machine, seconds), which a run after a change must not.
FSYNC_EACH_MAX = 5_000
_IN_FLIGHT = 16


def why(error: OSError) -> str:
    """What went wrong, in words: `mkdir` says "File exists" when a file, or a link that loops
    or leads nowhere, stands where a folder should be."""
    if isinstance(error, FileExistsError):
        return "a file or a link to no folder stands where the folder should be"
    return error.strerror or str(error)


def resolved(path: Path) -> Path:
    """`path` absolute, its links followed; when they loop (Python 3.11's `resolve` raises
    RuntimeError, later ones OSError), absolute as written: the step that uses the folder
    reports it as any folder it cannot use (exit 2 for the seeds, 3 for the output; a cache
    goes without)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))


def stage(temporary: str, chunks: Iterable[bytes], *, mode: int) -> None:
    """A new file `temporary` holding `chunks`, ready to be renamed over the file it stands
    beside. The name must be one nothing else uses (it is created exclusively): cheaper than a
    random one, which costs a look-up for every file of a big build."""
    _write(temporary, chunks, mode, os.O_EXCL)


def replace(
    target: Path,
    chunks: Iterable[bytes],
    *,
    mode: int,
    temporary: Path | None = None,
    durable: bool = False,
) -> None:
    """Replace `target` by `chunks`, through a temporary file beside it (`temporary`, a fixed
    name, when given). `durable`: return only once the bytes and the rename are on disk."""
    if temporary is None:
        import tempfile  # not for a run with nothing to do

        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.fchmod(fd, mode)
        os.close(fd)
        temporary = Path(name)
    _write(temporary, chunks, mode)
    try:
        if durable:
            _sync(temporary, os.O_RDONLY)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable:
        _sync(target.parent, os.O_RDONLY | os.O_DIRECTORY)


def _write(path: Path | str, chunks: Iterable[bytes], mode: int, exclusive: int = 0) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | exclusive, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.writelines(chunks)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise


def _sync(path: Path | str, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush_file(path: Path | str) -> None:
    """Wait until the bytes of file `path` are on disk."""
    _sync(path, os.O_RDONLY)


def sync_folder(path: Path | str) -> None:
    """Wait until the names made or removed in folder `path` are on disk."""
    _sync(path, os.O_RDONLY | os.O_DIRECTORY)


def _sync_any(path: Path | str) -> None:
    _sync(path, os.O_RDONLY | (os.O_DIRECTORY if os.path.isdir(path) else 0))


def flush(paths: Collection[Path | str]) -> None:
    """Wait until the bytes of `paths` (files, or folders after renames in them) are on disk."""
    if not paths:
        return
    if len(paths) <= FSYNC_EACH_MAX:
        at_once(_sync_any, paths)
        return
    fd = os.open(next(iter(paths)), os.O_RDONLY)
    try:
        if _syncfs is None or _syncfs(fd) != 0:
            os.sync()  # no syncfs here: flush everything rather than nothing
    finally:
        os.close(fd)


def at_once(work: Callable[[T], object], items: Collection[T]) -> None:
    """`work(item)` for each of `items` (a few thousand at most: each is a task held until the
    end), `_IN_FLIGHT` at once: calls that wait on the disk (`fsync`, a rename) overlap. The
    first error raises here, once every call has returned."""
    if len(items) <= _IN_FLIGHT:
        for item in items:
            work(item)
        return
    from concurrent.futures import ThreadPoolExecutor  # not for a run with nothing to do

    with ThreadPoolExecutor(_IN_FLIGHT) as threads:  # gone when it returns: forks are safe
        for _ in threads.map(work, items):  # an error raises here
            pass


# The head start of a big run's last flush (`Writeback`): a process of its own, `sync
# --file-system` of coreutils (syncfs(2) on Linux), given the folder.
WRITEBACK_COMMAND = ("sync", "--file-system")


class Writeback:
    """A head start for `flush` on a big run: after every `FSYNC_EACH_MAX` files written, the
    file system holding `folder` starts writing them to disk in the background, while the run
    goes on making more. The final `flush` then finds little left to write: 1.5 s to 0.4 s at
    the end of a cold build of 100,000 records here. Only a head start: `flush` is still what
    makes the bytes durable, and an error here is its to say.

    A process, not a thread: a thread alive in this one would keep `parallel.ordered_map` from
    forking its workers (forking a threaded process can deadlock), and a small process costs
    the run nothing it shares."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._written = 0
        self._running: subprocess.Popen[bytes] | None = None
        self._unavailable = False  # no such command here: no head start

    def wrote(self) -> None:
        """One more file written."""
        self._written += 1
        if self._written % FSYNC_EACH_MAX or self._unavailable:
            return
        if self._running is not None and self._running.poll() is None:
            return  # one at a time: it already flushes what was written before it began
        import subprocess  # not for a run with nothing to do

        try:
            self._running = subprocess.Popen(
                [*WRITEBACK_COMMAND, self.folder],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._unavailable = True

    def wait(self) -> None:
        if self._running is not None:
            self._running.wait()
            self._running = None


_syncfs = from_libc("syncfs")  # Linux's syncfs(2)
