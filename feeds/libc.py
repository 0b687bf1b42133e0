"""C library functions that Python's `os` does not offer (`syncfs`, `prctl`, `malloc_trim`)."""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable


def from_libc(name: str) -> Callable[..., int] | None:
    """A C library function, from the symbols the interpreter has loaded already: None on a
    system without it (`syncfs` and `prctl` are Linux's, `malloc_trim` glibc's). No look-up of
    a library file (`ctypes.util.find_library` runs a compiler or `ldconfig` to find one, and
    its import alone costs a run with nothing to do more than the look-up here)."""
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    return function


def die_with(parent: int) -> None:
    """In a process forked from the build's (`parent`): be killed when it dies (Linux's
    `PR_SET_PDEATHSIG`); end at once if it died before that was said. A build killed by cron's
    timeout or the out-of-memory killer must not leave its workers making files for minutes, a
    core each, nor its index writer holding the cache's lock while the next run waits."""
    prctl = from_libc("prctl")
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # nobody waits for this process any more
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
