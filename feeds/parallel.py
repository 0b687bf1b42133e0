"""Use every core for the two heavy stages, parsing records and rendering pages.

Work is shared with forked worker processes: they inherit the job (functions, closures, the
collection) from the parent's memory, so only indexes go to them and results come back. Below a
few hundred items, or when other threads run (forking a threaded process can deadlock), the work
is done in this process: the result is the same either way, in the same order.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None  # what forked workers inherit


def ordered_map(
    func: Callable[[T], R], items: Sequence[T], *, min_items: int = 200, fresh: bool = False
) -> Iterator[R]:
    """`map(func, items)`, in order, across processes when it is worth it. With `fresh`, each
    item gets a newly forked worker: a worker copies every page of the parent's memory it
    touches (reference counts are writes), so one that lives through many big items ends up
    with a copy of most of it."""
    workers = min(os.cpu_count() or 1, 8)
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if workers < 2 or len(items) < min_items or threading.active_count() > 1 or not forkable:
        yield from map(func, items)
        return
    global _job
    _job = (func, items)
    try:
        chunk = 1 if fresh else max(1, min(64, len(items) // (workers * 8)))
        tasks = 1 if fresh else None
        with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=tasks) as pool:
            yield from pool.imap(_run, range(len(items)), chunksize=chunk)
    finally:
        _job = None


def _run(index: int) -> Any:
    assert _job is not None, "runs only in a worker forked while a job was set"
    func, items = _job
    return func(items[index])
