"""One build at a time per output folder (docs/design.md, "Runs").

The lock is an `flock` on the output folder itself: the kernel releases it when the process ends,
however it ends, so a lock left by a killed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feeds.errors import LockHeld, OutputError


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    try:
        output.mkdir(parents=True, exist_ok=True)
        fd = os.open(output, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise OutputError(f"cannot use {output} as the output folder: {e.strerror or e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"another feeds build is writing to {output}; this one stops (try again later)"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
