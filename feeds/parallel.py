"""Use every core for the two heavy stages, parsing records and rendering pages.

Work is shared with forked worker processes: they inherit the job (functions, closures, the
collection) from the parent's memory, so only indexes go to them and results come back. Below a
few hundred items, or when other threads run (forking a threaded process can deadlock), the work
is done in this process: the result is the same either way, in the same order. A worker does
its work in a thread of its own (`_off_the_parents_heap`), whose allocations come from memory of
its own, not from the holes of the C heap it shares with its parent.

A worker that dies without an answer (the kernel's out-of-memory killer, a signal, a crash in a C
library) must not leave the build waiting for ever, holding the output lock while every later
run exits 4: `concurrent.futures` notices a dead worker, and the run stops with `WorkerDied`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from feeds.errors import WorkerDied
from feeds.libc import die_with, from_libc

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
        if fresh:
            yield from _each_in_a_new_worker(len(items), workers)
        else:
            size, count = max(1, min(64, len(items) // (workers * 8))), len(items)
            with _pool(workers) as pool:
                # Submitted by hand, not with `pool.map`: its clean-up cancels futures behind
                # the executor's back, which on Python 3.11 kills the executor's own thread
                # (CPython gh-107219) and leaves workers and threads behind.
                chunks = deque(
                    pool.submit(_run_chunk, start, min(start + size, count))
                    for start in range(0, count, size)
                )
                while chunks:
                    yield from chunks.popleft().result()
    except BrokenProcessPool as e:
        raise WorkerDied(
            "a worker process ended without an answer (out of memory, or killed); the run "
            "stopped and the output stays as it was"
        ) from e
    finally:
        _job = None


def _each_in_a_new_worker(count: int, workers: int) -> Iterator[Any]:
    """Each index in a worker of its own, `workers` at a time, results in order."""
    running: deque[tuple[ProcessPoolExecutor, Future[Any]]] = deque()
    with contextlib.ExitStack() as pools:
        for index in range(count):
            pool = pools.enter_context(_pool(1))
            running.append((pool, pool.submit(_run_apart, index)))
            if len(running) == workers:
                yield _result(*running.popleft())
        while running:
            yield _result(*running.popleft())


def _result(pool: ProcessPoolExecutor, future: Future[Any]) -> Any:
    try:
        return future.result()
    finally:
        pool.shutdown()


@contextlib.contextmanager
def _pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """Forked workers; when the work stops early (an error here or in a worker), the ones still
    busy are stopped too: their results would be thrown away, and they hold cores."""
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=die_with,  # a worker ends with its build
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())  # it has no kill
        for process in processes:
            with contextlib.suppress(OSError, AttributeError):
                process.kill()
        # Waited for: its threads must be gone before the next `ordered_map` looks whether
        # other threads run (they would make it work in this process, on one core).
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()


def give_back_memory() -> None:
    """Hand the memory the C heap holds free back to the system (glibc's `malloc_trim`): before
    workers are forked, what this process freed (reading, indexing, planning) would otherwise
    stay in its resident memory for the rest of the build (13 MB at 300,000 records)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


_malloc_trim = from_libc("malloc_trim")


def _run_chunk(start: int, end: int) -> list[Any]:
    return _off_the_parents_heap(lambda: [_run(index) for index in range(start, end)])


def _run_apart(index: int) -> Any:
    return _off_the_parents_heap(partial(_run, index))


def _off_the_parents_heap(work: Callable[[], R]) -> R:
    """In a worker: `work()`, in a thread of its own. A forked worker's C heap is its parent's,
    holes and all: what the worker allocates (a month's items, 1.4 KB each) fills the holes the
    parent's freeing left, on pages it shares with the parent, and each page written is copied
    whole. A new thread allocates from an arena of its own (glibc's), in pages of its own: a
    worker making a month's files in a cold build of 1,000,000 records ended with 67 MB of its
    own memory instead of 84 (its C heap's share 24 MB instead of 41)."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as e:  # raised again below, in the worker's own thread
            outcome.append((False, e))

    thread = threading.Thread(target=run, name="feeds-work")
    thread.start()
    thread.join()
    done, value = outcome[0]
    if not done:
        raise value
    result: R = value
    return result


def _run(index: int) -> Any:
    assert _job is not None, "runs only in a worker forked while a job was set"
    func, items = _job
    return func(items[index])
