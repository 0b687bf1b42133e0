"""One build at a time per output folder (docs/design.md, "Runs").

The lock is an `flock` on the output folder itself: the kernel releases it when the process ends,
however it ends, so a lock left by a killed run never blocks the next one. Forked workers close
their copy of it at once: a worker is killed with its build (`libc.die_with`), but where
the kernel cannot do that, a worker that outlives a killed build by a moment (it finishes the
batch at hand) must not hold the lock for the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feeds.errors import LockHeld, OutputError
from feeds.files import why

_HELD: set[int] = set()  # this process's lock descriptors


def _close_in_child() -> None:
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)  # the parent's descriptor keeps the lock
    _HELD.clear()


os.register_at_fork(after_in_child=_close_in_child)


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    try:
        _make_durably(output)
        fd = os.open(output, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise OutputError(f"cannot use {output} as the output folder: {why(e)}") from e
    _HELD.add(fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"another feeds build is writing to {output}; this one stops (try again later)"
            ) from None
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)  # closing the last descriptor releases the lock


def _make_durably(output: Path) -> None:
    """The output folder, made with its parents when missing, and flushed into the folder that
    holds each one made: a first build's files are flushed into their folders, and a power cut
    must not take the folders themselves away."""
    if output.is_dir():
        return
    from feeds import files  # not for the runs that find it: they need nothing else of it

    missing = [folder for folder in (output, *output.parents) if not folder.exists()]
    output.mkdir(parents=True, exist_ok=True)
    for folder in reversed(missing):  # the outermost first
        files.sync_folder(folder.parent)
