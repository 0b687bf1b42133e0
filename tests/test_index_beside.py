"""A full build of a mid-sized archive writes its index in a process of its own while its pages
are made (`build._IndexBeside`): the index must be the one written before the pages and serve
the runs after it; when that process fails the build writes the index itself, and when the build
is killed or publishes again the process goes with it."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import feeds.index
import feeds.items
from feeds.cache import LOCK_WAIT
from feeds.config import Config
from feeds.libc import from_libc
from feeds.model import Article
from feeds.synthetic import write_corpus
from tests.helpers import BASE_URL, CORPUS, build_into, write_record
from tests.test_delta import _count_full_runs, _index
from tests.test_render_failure import _items_break_on_cursed, _write_cursed, visible

pipeline = importlib.import_module("feeds.build")  # the module (`feeds.build` is the function)
EVERY_SIZE = range(0, 10**9)


def _beside(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    if on:  # else the build does not fork, and writes the index itself
        assert threading.active_count() == 1, "a thread left running by an earlier test"
    monkeypatch.setattr(pipeline, "INDEX_BESIDE", EVERY_SIZE if on else range(0))


def _written_beside(
    monkeypatch: pytest.MonkeyPatch, beside: Callable[[], None] = lambda: None
) -> list[int]:
    """The pids of the processes the index was written in, as they are; `beside` runs first
    in a process forked for it."""
    pids: list[int] = []
    real = feeds.index.Index.write
    here = os.getpid()

    def write(self: feeds.index.Index, *args: Any) -> None:
        pids.append(os.getpid())  # in the process beside: seen here only if it is this one
        if os.getpid() != here:
            beside()
        real(self, *args)

    monkeypatch.setattr(feeds.index.Index, "write", write)
    return pids


def _hangs(writer: Path) -> Callable[[], None]:
    """For `_written_beside`: the process beside writes its pid to `writer`, then hangs (it holds
    the database's write lock, `BEGIN IMMEDIATE`, from before)."""

    def hang() -> None:
        writer.write_text(str(os.getpid()))
        time.sleep(60)

    return hang


def _wait_for(writer: Path) -> None:
    deadline = time.monotonic() + 20
    while not writer.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_an_index_written_beside_the_pages_is_the_one_written_before_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 300, seed=3)
    found = {}
    for on in (False, True):
        _beside(monkeypatch, on)
        # Longer than a write waits for the lock: the build must not write the cache meanwhile
        # (it would go without it, and say so).
        pids = _written_beside(monkeypatch, beside=lambda: time.sleep(LOCK_WAIT + 0.5))
        output, cache = tmp_path / f"out-{on}", tmp_path / f"cache-{on}"
        report = build_into(seeds, output, cache=cache, limit=10)
        assert report.accepted == 300 and not report.notices
        assert pids == ([] if on else [os.getpid()]), "written beside, or here"
        found[on] = (_index(cache), visible(output))
    assert found[True][0]["members"], "an index was kept"
    assert found[True] == found[False]


def test_the_index_is_written_while_the_planned_files_are_fingerprinted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer is forked before the build fingerprints every planned file and looks whether
    its file is as the last run left it (`build._kept_or_claimed`, 1.9 s on one core at 100,000
    records): those seconds go beside the index, not before it. Forked after them, the writer
    would not have started while they run, and the wait below would end without it."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 150, seed=9)
    _beside(monkeypatch, True)
    writer = tmp_path / "writer-pid"
    pids = _written_beside(monkeypatch, beside=lambda: writer.write_text(str(os.getpid())))
    fingerprint = pipeline._kept_or_claimed
    started: list[bool] = []

    def once_the_writer_writes(*args: Any) -> Any:
        _wait_for(writer)
        started.append(writer.exists())
        return fingerprint(*args)

    monkeypatch.setattr(pipeline, "_kept_or_claimed", once_the_writer_writes)
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache", limit=10)
    assert report.accepted == 150 and not report.notices
    assert started == [True], "the writer had begun when the planned files were fingerprinted"
    assert pids == [], "written beside"
    cold = tmp_path / "cold"
    monkeypatch.undo()
    build_into(seeds, cold, cache=tmp_path / "cold-cache", limit=10)
    assert visible(tmp_path / "out") == visible(cold)
    assert _index(tmp_path / "cache") == _index(tmp_path / "cold-cache") != {}


def test_the_runs_after_an_index_written_beside_go_the_delta_way_and_equal_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    first = write_corpus(seeds, 200, seed=4)
    _beside(monkeypatch, True)
    config = Config(seeds=seeds, output=tmp_path / "out", cache=tmp_path / "cache", limit=10,
                    base_url=BASE_URL)  # fmt: skip
    pipeline.build(config)
    full = _count_full_runs(monkeypatch)
    write_corpus(seeds, 5, seed=4, start=10_000)  # new records
    first[0].unlink()  # and one gone
    report = pipeline.build(config)
    assert full == [0], "the index written beside served the run"
    assert report.parsed == 5
    cold = build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache", limit=10)
    assert cold.accepted == report.accepted
    assert visible(tmp_path / "out") == visible(tmp_path / "cold")
    assert _index(tmp_path / "cache") == _index(tmp_path / "cold-cache")


@pytest.mark.parametrize("fault", ["killed", "database fails", "no fork"])
def test_an_index_the_process_beside_did_not_write_is_written_by_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """The out-of-memory killer picks the writer first; its database may fail where the
    build's does not; a process may not be forked at all. The build then writes the index
    itself, after its pages, as it did before there was a process beside."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    _beside(monkeypatch, True)

    def fails() -> None:
        if fault == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        raise sqlite3.OperationalError("disk I/O error")

    pids = _written_beside(monkeypatch, beside=fails)
    if fault == "no fork":
        monkeypatch.setattr(os, "fork", _no_fork)
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert report.accepted > 0 and not report.notices
    assert pids == [os.getpid()], "written here after all (beside, in that process's memory)"
    build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache")
    assert _index(tmp_path / "cache") == _index(tmp_path / "cold-cache") != {}
    monkeypatch.undo()
    full = _count_full_runs(monkeypatch)
    write_record(seeds, "new.md", NEW_RECORD)
    build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert full == [0], "the index served the next run"
    build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache")
    assert visible(tmp_path / "out") == visible(tmp_path / "cold")


def _no_fork() -> int:
    raise OSError(11, "Resource temporarily unavailable")


NEW_RECORD = """\
title: A new record
webUrl: https://example.com/new-record
publishedDateTime: 2024-03-01T09:00:00Z
topics: [AI]
"""


def test_an_item_that_cannot_be_made_stops_the_index_written_beside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build publishes again without the article: the index of the first try, still being
    written beside, would describe an article the build left out. It is stopped, not waited
    for."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 80, seed=6)
    _write_cursed(seeds)
    _items_break_on_cursed(monkeypatch)
    _beside(monkeypatch, True)
    writer = tmp_path / "writer-pid"
    _written_beside(monkeypatch, beside=_hangs(writer))
    breaks = feeds.items.item_html

    def once_the_writer_writes(article: Article) -> str:
        _wait_for(writer)
        return breaks(article)

    monkeypatch.setattr(feeds.items, "item_html", once_the_writer_writes)
    started = time.monotonic()
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache", limit=10)
    assert time.monotonic() - started < 30, "the build waited for the index it no longer wanted"
    assert (report.rejected, report.accepted) == (1, 80) and not report.notices
    assert _index(tmp_path / "cache") == {}, "a build that left an article out keeps no index"
    assert writer.exists() and not _alive(int(writer.read_text())), "the writer was stopped"


@pytest.mark.skipif(from_libc("prctl") is None, reason="Linux's prctl ends a process with another")
def test_a_build_killed_while_its_index_is_written_takes_the_writer_along(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed by cron's timeout while the index is written beside: the writer must not live on
    holding the cache's lock (the next run would go without its cache), and the next run gives
    a cold build's output and index."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 120, seed=8)
    cache, writer = tmp_path / "cache", tmp_path / "writer-pid"
    pid = os.fork()
    if pid == 0:  # the build, killed by SIGKILL once its index writer is writing
        try:
            _beside(monkeypatch, True)
            _written_beside(monkeypatch, beside=_hangs(writer))
            real = pipeline._render

            def killed_meanwhile(*args: Any, **kwargs: Any) -> None:
                _wait_for(writer)
                os.kill(os.getpid(), signal.SIGKILL)
                real(*args, **kwargs)

            monkeypatch.setattr(pipeline, "_render", killed_meanwhile)
            build_into(seeds, tmp_path / "out", cache=cache, limit=10)
        finally:
            os._exit(1)
    assert os.waitpid(pid, 0)[1] == signal.SIGKILL
    index_writer = int(writer.read_text())
    deadline = time.monotonic() + 10
    while _alive(index_writer) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(index_writer), "the index writer outlived its build"
    monkeypatch.undo()
    report = build_into(seeds, tmp_path / "out", cache=cache, limit=10)
    assert not report.notices, "the cache was free to use"
    build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache", limit=10)
    assert visible(tmp_path / "out") == visible(tmp_path / "cold")
    assert _index(cache) == _index(tmp_path / "cold-cache")


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie has ended: the test's own children are reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_with_other_threads_running_the_index_is_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that runs builds beside threads of its own: no fork (a thread may hold a lock the
    child would wait for), and the index is written first, in the build's process."""
    _beside(monkeypatch, True)
    pids = _written_beside(monkeypatch)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        report = build_into(CORPUS, tmp_path / "out", cache=tmp_path / "cache")
    finally:
        stop.set()
        other.join()
    assert report.accepted > 0 and pids == [os.getpid()]
    assert _index(tmp_path / "cache")["members"], "an index was kept"
