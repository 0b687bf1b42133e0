"""The benchmark's memory of a process tree (`benchmarks/run.py`): what it reports as a build's
peak must be pages the build holds, each counted once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import run  # benchmarks/ is not a package: imported from its folder

needs_pss = pytest.mark.skipif(not run.HAS_PSS, reason="the kernel gives no PSS")


@needs_pss
def test_a_child_is_counted_by_its_pss() -> None:
    ballast = (
        "x = bytearray(64 << 20); x[::4096] = b'y' * len(x[::4096]); import time; time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", ballast])
    try:
        for _ in range(100):  # until its 64 MB are written
            pss = run._pss_bytes(child.pid) or 0
            if pss > 64 << 20:
                break
            time.sleep(0.05)
        total = run._tree_memory_bytes(run.os.getpid())
        assert 64 << 20 < total < 256 << 20
    finally:
        child.kill()
        child.wait()


def test_a_tree_read_while_one_of_its_processes_ends_gives_no_sample() -> None:
    """The processes of a tree are read one after the other: a page read in one as shared by
    three and in the next as shared by two, a worker having ended meanwhile, would count more
    than once. A tree with a process that is exiting, or whose processes differ once read,
    gives no sample; a process that ended long ago (a zombie its parent did not reap yet) holds
    no memory, and does not keep the tree from being sampled."""
    running = {10: (1, 0, "running"), 11: (10, 0, "running"), 12: (10, 0, "running")}
    assert run._living_descendants(running, 1) == [10, 11, 12]
    assert run._living_descendants({**running, 12: (10, 0, "exiting")}, 1) is None
    assert run._living_descendants({**running, 12: (10, 0, "gone")}, 1) == [10, 11]
    assert run._living_descendants({**running, 13: (11, 0, "running")}, 1) == [10, 11, 12, 13]


@needs_pss
def test_a_child_that_ended_unreaped_counts_nothing_and_the_tree_is_sampled() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # until it has ended
            if run._proc_table()[child.pid][2] == "gone":
                break
            time.sleep(0.05)
        assert run._proc_table()[child.pid][2] == "gone"
        assert run._tree_memory_bytes(run.os.getpid()) is not None
    finally:
        child.wait()


@needs_pss
def test_a_process_whose_pss_cannot_be_read_counts_nothing() -> None:
    """One that is exiting (or gone) must not count by the RSS read a moment before: that
    counts every page it shares with the build again (a worker ending during a cold build of
    300,000 records made a 670 MB peak read 998 MB)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its /proc entry is gone
    assert run._pss_bytes(child.pid) is None
    assert run._memory_bytes(child.pid, resident_pages=100_000) == 0
