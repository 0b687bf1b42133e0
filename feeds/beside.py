"""Work that runs in a forked process beside the build, on the other core.

A run with nothing to do is two walks over the archive: the scan of the seeds, and the check that
every output file still has the size and mtime the last run left it with (at 300,000 records,
0.7 s and 0.27 s). They share nothing, so the check runs in a process of its own meanwhile (in
a thread, both would take turns at the interpreter and end later than one after the other).
A full build writes its index in one the same way while its pages are made
(`build._IndexBeside`). Standard library only (and `libc.py`, for a process that must end with
the build): a run with nothing to do imports no more than it needs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def beside(
    check: Callable[[], bool | None], *, dies_with_build: bool = False
) -> Iterator[Callable[[], bool | None]]:
    """Run `check` in a process forked now, while this one goes on; the function given waits
    for its answer. None is no answer (the check could not tell, the fork was not possible, the
    process died): the caller then asks `check` itself, or goes without.

    The process leaves without running anything of the build's: no `finally`, no exit handler.
    Stopped by SIGINT or SIGTERM it just ends; the build does not wait for an answer it no
    longer wants. With `dies_with_build`, it is killed when the build's process dies (a long
    check: the index, `build._IndexBeside`)."""
    if not forkable():
        yield lambda: None
        return
    read, write = os.pipe()
    parent = os.getpid()
    stopping = {signal.SIGINT, signal.SIGTERM}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stopping)  # until the child's are its own
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:
        try:
            if dies_with_build:
                from feeds.libc import die_with

                die_with(parent)
            for stop in stopping:
                signal.signal(stop, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(read)
            os.write(write, _ANSWERS[check()])
        finally:
            os._exit(0)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write)
    answered: list[bool | None] = []

    def answer() -> bool | None:
        if not answered:
            answered.append(_ANSWERS_READ.get(os.read(read, 1)) if pid > 0 else None)
        return answered[0]

    try:
        yield answer
    finally:
        os.close(read)
        if pid > 0:
            if not answered:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def forkable() -> bool:
    """Whether a process can be forked here: not while other threads run (one may hold a lock
    the child would wait for, for ever)."""
    return hasattr(os, "fork") and threading.active_count() == 1


_ANSWERS = {True: b"1", False: b"0", None: b"?"}
_ANSWERS_READ = {b"1": True, b"0": False}
