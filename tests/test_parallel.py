"""Work on every core, in order, and never a wait for ever: a worker that dies (the kernel's
out-of-memory killer, a signal) stops the run with an error instead of hanging it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from feeds import parallel
from feeds.synthetic import write_corpus
from tests.helpers import BASE_URL, build_into, files_of

T = TypeVar("T")

PROBE = """
import os, signal, sys
from feeds.errors import WorkerDied
from feeds.parallel import ordered_map

parent = os.getpid()

def work(n):
    if n == {doomed} and os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return n * n

try:
    print(list(ordered_map(work, list(range({count})), min_items=2, fresh={fresh})) == [n * n for n in range({count})])
except WorkerDied as e:
    print("WorkerDied:", e)
"""


CASES = pytest.mark.parametrize(
    ("fresh", "count"), [(False, 300), (True, 12)], ids=["shared-workers", "fresh-workers"]
)


@CASES
def test_results_come_in_order(fresh: bool, count: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(doomed=-1, fresh=fresh, count=count)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout == "True\n"


@CASES
def test_a_worker_killed_stops_the_work_instead_of_hanging_it(fresh: bool, count: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(doomed=count // 2, fresh=fresh, count=count)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout == (
        "WorkerDied: a worker process ended without an answer (out of memory, or killed); the "
        "run stopped and the output stays as it was\n"
    )


ENDS_WITH_IT = """
import os, sys, time
from feeds.parallel import ordered_map

os.cpu_count = lambda: 2

def work(n):
    with open(sys.argv[1], "a") as pids:
        print(os.getpid(), file=pids)
    time.sleep(120)  # a batch of a big site's pages
    return n

list(ordered_map(work, list(range(4)), min_items=2, fresh={fresh}))
"""


@pytest.mark.parametrize("fresh", [False, True], ids=["shared-workers", "fresh-workers"])
def test_workers_end_when_their_build_is_killed(tmp_path: Path, fresh: bool) -> None:
    """Cron's timeout or the out-of-memory killer kills the build's process: its workers go
    with it, instead of making files for minutes that nobody will publish."""
    pids = tmp_path / "pids"
    probe = [sys.executable, "-c", ENDS_WITH_IT.format(fresh=fresh), str(pids)]
    build = subprocess.Popen(probe)
    try:
        workers = _wait_for(lambda: _pids_in(pids) if len(_pids_in(pids)) == 2 else None)
    finally:
        build.kill()
        build.wait()
    assert _wait_for(lambda: not any(map(_running, workers)), seconds=10), "workers live on"


def _pids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (dead, not yet reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for(found: Callable[[], T | None], seconds: float = 60) -> T:
    deadline = time.monotonic() + seconds
    while not (answer := found()):
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.02)
    return answer


def test_a_build_whose_worker_is_killed_exits_75_and_publishes_nothing(tmp_path: Path) -> None:
    """Exit 75 ("try again later"): the system killed a worker, most likely for memory."""
    write_corpus(tmp_path / "seeds", 300, seed=3)
    probe = f"""
import os, signal, sys
import feeds.ingest
from feeds.cli import main

parent = os.getpid()
real = feeds.ingest.ingest_file

def dies_on_one(seeds, name):
    if name.endswith("0000150.md") and os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(seeds, name)

feeds.ingest.ingest_file = dies_on_one
sys.exit(main(["build", "--seeds", "{tmp_path / "seeds"}", "--output", "{tmp_path / "out"}",
               "--cache", "{tmp_path / "cache"}"]))
"""
    _exits_75(probe)
    assert not (tmp_path / "out" / "all.rss.xml").exists()


def _exits_75(probe: str) -> None:
    """Run `probe`, a build whose worker is killed: exit 75 and one line saying why."""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 75, done.stderr
    assert done.stderr == (
        "feeds: a worker process ended without an answer (out of memory, or killed); the run "
        "stopped and the output stays as it was\n"
    )


def test_a_worker_killed_while_it_makes_files_exits_75_and_changes_no_feed(
    tmp_path: Path,
) -> None:
    """The out-of-memory killer takes a worker that makes pages, in a run that makes every page
    again (a setting changed): exit 75, every feed as it was, nothing left behind; the next run
    publishes what a clean build does."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"
    write_corpus(seeds, 300, seed=3)
    build_into(seeds, output, cache=cache)
    before = files_of(output)
    config = tmp_path / "feeds.yaml"
    config.write_text("defaults:\n  limit: 7\n")
    args = ["build", "--seeds", str(seeds), "--output", str(output), "--cache", str(cache)]
    args += ["--config", str(config), "--base-url", BASE_URL]
    probe = f"""
import os, signal, sys
import feeds.build
from feeds.cli import main

build = sys.modules["feeds.build"]  # the module: the package's `build` is its function
parent = os.getpid()
os.cpu_count = lambda: 2
build.PARALLEL_WORK = 0  # every page made by workers
real = build._make_batch

def dies_on_one(stager, batch):
    if os.getpid() != parent and any(item.path == "all.rss.xml" for item in batch):
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return real(stager, batch)

build._make_batch = dies_on_one
sys.exit(main({args!r}))
"""
    _exits_75(probe)
    after = files_of(output)
    assert {p: d for p, d in after.items() if not p.startswith(".")} == {
        p: d for p, d in before.items() if not p.startswith(".")
    }
    assert not [p for p in after if p.endswith(".tmp")], "nothing staged is left"
    again = subprocess.run(
        [sys.executable, "-m", "feeds", *args], capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    clean = tmp_path / "clean"
    build_into(seeds, clean, cache=tmp_path / "clean-cache", limit=7)
    assert files_of(output) == files_of(clean)


def test_an_error_in_a_worker_reaches_the_caller_and_leaves_nothing_behind() -> None:
    """The next `ordered_map` must find no thread or process left (else it would work on one
    core), and no traceback must reach the terminal."""
    probe = """
import os, threading
from feeds.parallel import ordered_map

def work(n):
    if n == 5:
        raise LookupError("item 5")
    return n

for attempt in range(3):
    try:
        list(ordered_map(work, list(range(40)), min_items=2))
    except LookupError as e:
        print(e, threading.active_count(), end="; ")
try:
    os.waitpid(-1, os.WNOHANG)
    print("a child is left")
except ChildProcessError:
    print("no child left")
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == "item 5 1; item 5 1; item 5 1; no child left\n"
    assert done.stderr == ""


def test_files_made_by_workers_are_the_bytes_made_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers are used when there is much to make (`PARALLEL_WORK` items): made in four forked
    workers or in the build's own process, every file is the same."""
    build_module = sys.modules["feeds.build"]
    write_corpus(tmp_path / "seeds", 120, seed=5)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(build_module, "PARALLEL_WORK", 0)
    build_into(tmp_path / "seeds", tmp_path / "workers", cache=tmp_path / "c1")
    monkeypatch.setattr(build_module, "PARALLEL_WORK", 10**9)
    monkeypatch.setattr(parallel, "_pool", _no_workers)
    build_into(tmp_path / "seeds", tmp_path / "here", cache=tmp_path / "c2")
    made = files_of(tmp_path / "workers")
    assert len(made) > 100
    assert made == files_of(tmp_path / "here")


def test_a_delta_run_makes_its_files_without_a_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forked worker copies every page of the build's memory it touches: a delta run's memory
    is bounded by its work, and stays so. However much it makes (here more than the full way
    would make in its own process): a few new records, a custom feed chosen again."""
    from feeds.filters import CustomFeed, Filters

    build_module = sys.modules["feeds.build"]
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 120, seed=6)
    build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    write_corpus(seeds / "new", 3, seed=7)
    monkeypatch.setattr(build_module, "PARALLEL_WORK", 0)
    monkeypatch.setattr(parallel, "_pool", _no_workers)
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert report.parsed == 3
    assert report.written
    custom = (CustomFeed("good", "Good", filters=Filters(min_quality=20)),)
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache", custom=custom)
    assert len(report.written) > 3
    monkeypatch.setattr(build_module, "PARALLEL_WORK", 10**9)
    build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache", custom=custom)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


def _no_workers(workers: int) -> object:
    raise AssertionError(f"{workers} worker processes were started")


TRIM_PROBE = """
import os
from feeds.parallel import give_back_memory

def resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

blocks = [bytes(4000) for _ in range(50_000)]  # 200 MB of the C heap (over 512 bytes: malloc's)
pin = bytes(4000)  # allocated after them: what they leave free is not at the heap's top
del blocks
before = resident()
give_back_memory()
print((before - resident()) // 2**20)
"""


@pytest.mark.skipif(parallel._malloc_trim is None, reason="glibc's malloc_trim only")
def test_memory_freed_before_workers_fork_is_handed_back_to_the_system() -> None:
    """What a build freed stays resident unless given back: forked workers would start beside
    a parent holding it, and the process tree's memory would count it for the whole render."""
    done = subprocess.run([sys.executable, "-c", TRIM_PROBE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 150  # MB of the 200 freed


HOLES_PROBE = """
import gc, os
from feeds import parallel
from feeds.parallel import ordered_map

def own_memory() -> int:
    with open("/proc/self/smaps_rollup") as f:
        fields = dict(line.split()[:2] for line in f if line.startswith("Private_"))
    return (int(fields["Private_Clean:"]) + int(fields["Private_Dirty:"])) // 1024

# A parent whose C heap has a hole beside every block it holds (malloc's sizes: over 512 bytes).
held = [bytes(1400) for _ in range(60_000)]
del held[::2]
gc.freeze()

def make(count: int) -> int:
    before = own_memory()
    made = [bytes(1400) for _ in range(count)]  # about 28 MB, as a month's items are
    return own_memory() - before

if {in_place}:
    parallel._off_the_parents_heap = lambda work: work()
print(*ordered_map(make, [20_000], min_items=1, fresh=True))
"""


@pytest.mark.skipif(
    parallel._malloc_trim is None
    or (os.cpu_count() or 1) < 2
    or not Path("/proc/self/smaps_rollup").exists(),
    reason="glibc's heap, two cores, Linux's memory accounting",
)
def test_a_worker_allocates_in_pages_of_its_own_not_in_its_parents_holes() -> None:
    """A forked worker's allocations must not fill the holes of the C heap it shares with its
    parent: each page written there is copied whole, and 28 MB of items cost twice that."""

    def grown(in_place: bool) -> int:
        probe = HOLES_PROBE.format(in_place=in_place)
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    assert grown(True) > 45, "the probe's parent has holes a worker's allocations fill"
    assert grown(False) < 36
