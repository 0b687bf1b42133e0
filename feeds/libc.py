"""C library functions that Python's `os` does not offer (`syncfs`, `prctl`, `malloc_trim`)."""

from __future__ import annotations

import ctypes
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
